"""The sandbox's stand-in for Access Analyzer, Free Tier and GetContactInformation: every request checked
against botocore's model, every answer fitting the model and parsed by botocore's own parser, what moto
has passed on to moto, nothing sent anywhere."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import botocore.session
import pytest
from botocore.exceptions import ClientError

from wizard.aws import isolated_session
from wizard.sandbox.billing_standin import problems
from wizard.sandbox.guardrail_standin import GuardrailStandIn

ACCOUNT = "123456789012"
NOWHERE = "http://127.0.0.1:9"  # nothing listens: a request leaving the stand-in fails loudly


def client_for(standin: GuardrailStandIn, service: str, region: str, bodies: list[tuple[str, Any]]) -> Any:
    client = isolated_session("AKIASANDBOXTEST00000", "x", region).client(service, endpoint_url=NOWHERE)
    standin.attach(client, service)

    def keep(http_response: Any, model: Any, **_: Any) -> None:
        if http_response.status_code < 300:  # the answers; errors are checked by their codes below
            bodies.append((model.name, json.loads(http_response.content or b"{}")))

    client.meta.events.register("after-call", keep)
    return client


def fits(service: str, bodies: list[tuple[str, Any]]) -> list[str]:
    """Every answer against its operation's output shape (ISO timestamps, as the model's format says, read
    as epoch seconds for the check)."""
    model = botocore.session.get_session().get_service_model(service)

    def epoch(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: epoch(v) for k, v in value.items()}
        if isinstance(value, list):
            return [epoch(v) for v in value]
        if isinstance(value, str) and value[:2] == "20" and "T" in value:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        return value

    return [p for name, body in bodies for p in problems(epoch(body), model.operation_model(name).output_shape)]


def test_analyzers_are_kept_per_region_and_fit_the_model() -> None:
    standin, bodies = GuardrailStandIn(ACCOUNT), []
    east = client_for(standin, "accessanalyzer", "us-east-1", bodies)
    west = client_for(standin, "accessanalyzer", "eu-west-1", bodies)
    assert east.list_analyzers()["analyzers"] == []
    arn = east.create_analyzer(analyzerName="external", type="ACCOUNT", tags={"created-by": "aws-harden"})["arn"]
    assert arn == f"arn:aws:access-analyzer:us-east-1:{ACCOUNT}:analyzer/external"
    (found,) = east.list_analyzers()["analyzers"]
    assert found["status"] == "ACTIVE" and found["type"] == "ACCOUNT" and found["tags"] == {"created-by": "aws-harden"}
    assert isinstance(found["createdAt"], datetime)  # parsed by botocore as the model's timestamp
    assert west.list_analyzers()["analyzers"] == []  # each region its own
    assert east.get_analyzer(analyzerName="external")["analyzer"]["arn"] == arn
    assert east.list_findings(analyzerArn=arn)["findings"] == []
    assert east.list_analyzers(type="ACCOUNT_UNUSED_ACCESS")["analyzers"] == []
    assert fits("accessanalyzer", bodies) == []


def test_analyzer_requests_are_checked_as_aws_would() -> None:
    standin = GuardrailStandIn(ACCOUNT)
    client = client_for(standin, "accessanalyzer", "us-east-1", [])
    client.create_analyzer(analyzerName="external", type="ACCOUNT")
    with pytest.raises(ClientError) as again:
        client.create_analyzer(analyzerName="external", type="ACCOUNT")
    assert again.value.response["Error"]["Code"] == "ConflictException"
    with pytest.raises(ClientError) as organization:
        client.create_analyzer(analyzerName="org", type="ORGANIZATION")  # needs an organization
    assert organization.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(ClientError) as bad:
        client.create_analyzer(analyzerName="9lives", type="ACCOUNT")
    assert bad.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(ClientError) as missing:
        client.get_analyzer(analyzerName="nope")
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as other:
        client.delete_analyzer(analyzerName="external")  # not answered: the wizard never deletes one
    assert other.value.response["Error"]["Code"] == "UnsupportedOperation"


def test_the_model_check_refuses_what_botocore_would_not_send() -> None:
    standin = GuardrailStandIn(ACCOUNT)
    model = botocore.session.get_session().get_service_model("accessanalyzer")
    status, body = standin.answer_http(model, "PUT", "https://x/analyzer", {}, json.dumps(
        {"analyzerName": "a", "type": "EVERYTHING"})) or (0, {})
    assert status == 400 and "is not one of" in body["message"]
    status, body = standin.answer_http(model, "PUT", "https://x/analyzer", {}, json.dumps({"type": "ACCOUNT"})) \
        or (0, {})
    assert status == 400 and "missing required analyzerName" in body["message"]


def test_account_plan_and_primary_contact() -> None:
    standin, bodies = GuardrailStandIn(ACCOUNT), []
    freetier = client_for(standin, "freetier", "us-east-1", bodies)
    with pytest.raises(ClientError) as none:
        freetier.get_account_plan_state()  # the sandbox's account predates plans
    assert none.value.response["Error"]["Code"] == "ResourceNotFoundException"
    standin.account_plan = {"accountPlanType": "FREE", "accountPlanStatus": "ACTIVE",
                            "accountPlanRemainingCredits": {"amount": 100.0, "unit": "USD"},
                            "accountPlanExpirationDate": "2027-05-01T00:00:00Z"}
    plan = freetier.get_account_plan_state()
    assert plan["accountPlanType"] == "FREE" and plan["accountId"] == ACCOUNT
    assert isinstance(plan["accountPlanExpirationDate"], datetime)
    assert fits("freetier", bodies) == []

    contact_bodies: list[tuple[str, Any]] = []
    account = client_for(standin, "account", "us-east-1", contact_bodies)
    assert account.get_contact_information()["ContactInformation"]["FullName"] == "Sandbox Owner"
    assert fits("account", contact_bodies) == []
    standin.primary_contact = None
    with pytest.raises(ClientError):
        account.get_contact_information()


def test_alternate_contacts_go_on_to_moto(account: Any) -> None:
    """In the account fixture, the stand-in answers GetContactInformation and passes the rest to moto."""
    client = account.raw("account")
    client.put_alternate_contact(AlternateContactType="SECURITY", Name="S", Title="T", EmailAddress="s@example.com",
                                 PhoneNumber="+1 555 0100")
    assert client.get_alternate_contact(AlternateContactType="SECURITY")["AlternateContact"]["Name"] == "S"
    assert client.get_contact_information()["ContactInformation"]["FullName"] == "Sandbox Owner"
    assert account.guardrails.answered == ["account:GetContactInformation"]
