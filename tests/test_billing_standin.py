"""The sandbox's stand-in for `cur` and `bcm-data-exports`: every request and answer checked against
botocore's service model, answers parsed by botocore's real parser, nothing sent anywhere."""

from __future__ import annotations

import json
from typing import Any

import botocore.session
import pytest
from botocore.exceptions import ClientError

from steps.billing_report import export_definition
from wizard.aws import isolated_session
from wizard.sandbox.billing_standin import BillingStandIn, problems

ACCOUNT = "123456789012"
# A port nothing listens on: were a request to leave the stand-in, it would fail loudly.
NOWHERE = "http://127.0.0.1:9"


def model(service: str) -> Any:
    return botocore.session.get_session().get_service_model(service)


def client_for(standin: BillingStandIn, service: str, bodies: list[tuple[str, Any]]) -> Any:
    client = isolated_session("AKIASANDBOXTEST00000", "x", "us-east-1").client(service, endpoint_url=NOWHERE)
    standin.attach(client, service)

    def keep(http_response: Any, model: Any, **_: Any) -> None:
        bodies.append((model.name, json.loads(http_response.content or b"{}")))

    client.meta.events.register("after-call", keep)
    return client


def test_problems_finds_what_does_not_fit_the_model() -> None:
    shape = model("bcm-data-exports").operation_model("GetExport").output_shape
    good = {
        "Export": export_definition("n", "b", "p", "us-east-1", "csv"),
        "ExportStatus": {"StatusCode": "HEALTHY"},
    }
    assert problems(good, shape) == []
    bad_enum = json.loads(json.dumps(good))
    bad_enum["ExportStatus"]["StatusCode"] = "FINE"
    assert problems(bad_enum, shape) == [
        "GetExportResponse.ExportStatus.StatusCode: 'FINE' is not one of HEALTHY, UNHEALTHY"
    ]
    unknown = {**good, "Extra": 1}
    assert problems(unknown, shape) == ["GetExportResponse: unknown member Extra"]
    missing = json.loads(json.dumps(good))
    del missing["Export"]["Name"]
    assert problems(missing, shape) == ["GetExportResponse.Export: missing required Name"]
    wrong_type = {**good, "ExportStatus": {"StatusCode": "HEALTHY", "CreatedAt": "yesterday"}}
    assert problems(wrong_type, shape) == ["GetExportResponse.ExportStatus.CreatedAt: expected epoch seconds"]


def test_data_exports_answers_fit_the_model_and_parse() -> None:
    standin, bodies = BillingStandIn(ACCOUNT), []
    client = client_for(standin, "bcm-data-exports", bodies)
    definition = export_definition("aws-harden-cur2", "bucket", "cur", "eu-west-1", "parquet")
    arn = client.create_export(Export=definition, ResourceTags=[{"Key": "k", "Value": "v"}])["ExportArn"]
    listed = client.list_exports()["Exports"]
    got = client.get_export(ExportArn=arn)
    assert [e["ExportName"] for e in listed] == ["aws-harden-cur2"] and listed[0]["ExportArn"] == arn
    assert got["Export"]["DataQuery"] == definition["DataQuery"]
    assert got["ExportStatus"]["StatusCode"] == "HEALTHY"
    service = model("bcm-data-exports")
    assert [name for name, _ in bodies] == ["CreateExport", "ListExports", "GetExport"]
    for name, body in bodies:
        assert problems(body, service.operation_model(name).output_shape) == [], name
    assert standin.answered == [
        "bcm-data-exports:CreateExport",
        "bcm-data-exports:ListExports",
        "bcm-data-exports:GetExport",
    ]
    with pytest.raises(ClientError, match="already exists"):
        client.create_export(Export=definition)
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        client.get_export(ExportArn=arn.replace("aws-harden-cur2", "other"))


def test_legacy_cur_answers_fit_the_model_and_parse() -> None:
    standin, bodies = BillingStandIn(ACCOUNT), []
    client = client_for(standin, "cur", bodies)
    definition = {
        "ReportName": "daily",
        "TimeUnit": "DAILY",
        "Format": "Parquet",
        "Compression": "Parquet",
        "AdditionalSchemaElements": ["RESOURCES"],
        "S3Bucket": "b",
        "S3Prefix": "cur",
        "S3Region": "us-east-1",
    }
    client.put_report_definition(ReportDefinition=definition)
    assert client.describe_report_definitions()["ReportDefinitions"] == [definition]
    service = model("cur")
    for name, body in bodies:
        assert problems(body, service.operation_model(name).output_shape) == [], name
    with pytest.raises(ClientError, match="DuplicateReportNameException"):
        client.put_report_definition(ReportDefinition=definition)


def test_requests_that_do_not_fit_the_model_are_refused() -> None:
    standin = BillingStandIn(ACCOUNT)
    service = model("bcm-data-exports")
    definition = export_definition("n", "b", "p", "us-east-1", "csv")
    definition["RefreshCadence"] = {"Frequency": "WEEKLY"}
    status, body = standin.answer(
        service,
        "AWSBillingAndCostManagementDataExports.CreateExport",
        json.dumps({"Export": definition}).encode(),
    )
    assert status == 400 and body["__type"] == "ValidationException"
    assert "RefreshCadence.Frequency: 'WEEKLY' is not one of SYNCHRONOUS" in body["message"]
    assert standin.exports == {} and standin.answered == []


def test_calls_it_does_not_model_are_an_error_not_a_pass_through() -> None:
    standin, bodies = BillingStandIn(ACCOUNT), []
    client = client_for(standin, "bcm-data-exports", bodies)
    with pytest.raises(ClientError, match="UnsupportedOperation"):
        client.list_tables()


def test_answering_every_session_is_scoped_to_the_context() -> None:
    from botocore.handlers import BUILTIN_HANDLERS

    before = list(BUILTIN_HANDLERS)
    standin = BillingStandIn(ACCOUNT)
    with standin.answering_every_session():
        session = isolated_session("AKIASANDBOXTEST00000", "x", "us-east-1")
        assert session.client("bcm-data-exports", endpoint_url=NOWHERE).list_exports()["Exports"] == []
        assert session.client("cur", endpoint_url=NOWHERE).describe_report_definitions()["ReportDefinitions"] == []
    assert list(BUILTIN_HANDLERS) == before
    assert standin.answered == ["bcm-data-exports:ListExports", "cur:DescribeReportDefinitions"]
