"""The guardrail steps against moto (in-process, two enabled regions: tests/moto_regions.py) and the sandbox's
stand-in for what moto lacks: a fresh account made compliant by one apply --yes, the prompts an operator meets,
the typed confirmations, what check and plan send, and the reads each step declares."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests import harness
from tests.conftest import Account, run_cli
from tests.guardrail_answers import ANSWERS
from tests.moto_regions import TEST_REGIONS

GUARDRAILS = ("root-credentials", "account-contacts", "s3-public-access", "ebs-encryption", "access-analyzer",
              "guardduty", "default-vpcs")
ONLY = ",".join(GUARDRAILS)


def observed(argv: list[str]) -> tuple[int, Any, str]:
    result = harness.run(*argv, stdin="pipe", width=None)
    return result.code, result.aws[0] if result.aws else None, result.text


def flat(text: str) -> str:
    """The output with its wrapping undone, to look for a sentence in it."""
    return " ".join(text.split())


def answers(tmp_path: Path, text: str = ANSWERS) -> str:
    path = tmp_path / "answers.toml"
    path.write_text(text)
    return str(path)


def state(account: Account) -> dict[str, Any]:
    """The guardrails as the account holds them, read with plain clients."""
    found: dict[str, Any] = {"regions": {}}
    contacts = account.raw("account")
    found["contacts"] = sorted(
        contacts.get_alternate_contact(AlternateContactType=t)["AlternateContact"]["EmailAddress"]
        for t in ("SECURITY", "BILLING", "OPERATIONS"))
    found["block"] = account.raw("s3control").get_public_access_block(AccountId="123456789012")[
        "PublicAccessBlockConfiguration"]
    for region in TEST_REGIONS:
        ec2 = account.raw("ec2", region)
        found["regions"][region] = {
            "ebs": ec2.get_ebs_encryption_by_default()["EbsEncryptionByDefault"],
            "analyzers": [a["name"] for a in account.raw("accessanalyzer", region).list_analyzers()["analyzers"]],
            "detectors": len(account.raw("guardduty", region).list_detectors()["DetectorIds"]),
            "default vpcs": len(ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"]),
        }
    return found


def test_a_fresh_account_is_made_compliant_by_one_apply_and_stays_so(account: Account, tmp_path: Path) -> None:
    path = answers(tmp_path)
    code, aws, text = observed(["check", "--only", ONLY, "--answers", path, "--output", "json"])
    assert code == 2 and aws.guard.attempts == []
    before = {s["id"]: s["status"] for s in json.loads(text)["steps"]}
    assert before == dict.fromkeys(GUARDRAILS, "noncompliant")

    code, aws, text = observed(["apply", "--yes", "--only", ONLY, "--answers", path])
    assert code == 0, text
    sent = set(aws.guard.sent_writes)
    assert sent == {"account:PutAlternateContact", "s3control:PutPublicAccessBlock", "ec2:EnableEbsEncryptionByDefault",
                    "accessanalyzer:CreateAnalyzer", "guardduty:CreateDetector", "ec2:CreateTags",
                    "ec2:DetachInternetGateway", "ec2:DeleteInternetGateway", "ec2:DeleteSubnet", "ec2:DeleteVpc"}, sent
    held = state(account)
    assert held["contacts"] == ["billing@example.com", "ops@example.com", "security@example.com"]
    assert set(held["block"].values()) == {True}
    done = {"ebs": True, "analyzers": ["aws-harden-external-access"], "detectors": 1, "default vpcs": 0}
    assert held["regions"] == {region: done for region in TEST_REGIONS}

    code, aws, text = observed(["apply", "--yes", "--only", ONLY, "--answers", path])
    assert code == 0 and aws.guard.sent_writes == [], text  # nothing left to do
    for command in ("check", "plan"):
        code, aws, text = observed([command, "--only", ONLY, "--answers", path, "--output", "json"])
        assert code == 0 and aws.guard.attempts == [], text
    report = json.loads(text)
    controls = {c["id"]: c["status"] for c in report["controls"]}
    for control in ("account_security_contact_information_is_registered", "s3_account_level_public_access_blocks",
                    "ec2_ebs_default_encryption", "accessanalyzer_enabled", "guardduty_is_enabled"):
        assert controls[control] == "PASS", control
    assert controls["account_maintain_current_contact_details"] == "MANUAL"  # a person's, whatever happens


def test_without_the_answers_apply_yes_leaves_what_costs_or_deletes(account: Account, tmp_path: Path) -> None:
    """GuardDuty (charged) and default VPC deletion (irreversible) need the answers file under --yes; the
    contacts need their details; each is left pending with the reason, nothing half-done."""
    code, aws, text = observed(["apply", "--yes", "--only", ONLY])
    assert code == 2, text
    text = flat(text)
    assert not {w for w in aws.guard.attempts if w.operation.startswith(("guardduty:", "ec2:Delete", "ec2:Detach",
                                                                         "account:"))}
    assert "--yes turns it on only with enable = true under [guardduty]" in text
    assert 'regions = ["eu-west-1"] under [default-vpcs]' in text
    assert "checklist_confirmed = true under [root-credentials]" in text
    assert "security = { name" in text
    held = state_without_contacts(account)
    assert all(r["detectors"] == 0 and r["default vpcs"] == 1 for r in held.values())


def state_without_contacts(account: Account) -> dict[str, Any]:
    return {region: {
        "detectors": len(account.raw("guardduty", region).list_detectors()["DetectorIds"]),
        "default vpcs": len(account.raw("ec2", region).describe_vpcs(
            Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"]),
    } for region in TEST_REGIONS}


def test_an_operator_types_the_region_to_delete_its_default_vpc(account: Account) -> None:
    """At a prompt each deletion waits for its region's name: typed, it goes; anything else keeps it."""
    # No yes/no first (every change is typed): eu-west-1 typed; us-east-1 left empty.
    result = run_cli(["apply", "--only", "default-vpcs"], answers=["eu-west-1", ""])
    assert result.code == 2, result.text
    assert result.prompter is not None
    assert [m for m in result.prompter.asked if m.startswith("To go ahead, type")] == [
        "To go ahead, type eu-west-1 (leave empty to keep it for now)",
        "To go ahead, type us-east-1 (leave empty to keep it for now)"]
    assert {r: v["default vpcs"] for r, v in state_without_contacts(account).items()} == {
        "eu-west-1": 0, "us-east-1": 1}
    journal = (Path(__import__("os").environ["AWS_HARDEN_STATE_DIR"]) / "journal" / "123456789012.jsonl")
    results = [json.loads(line)["result"] for line in journal.read_text().splitlines()]
    assert results.count("ok") == 1 and results.count("declined") == 1


def test_a_default_vpc_in_use_is_kept(account: Account) -> None:
    ec2 = account.raw("ec2", "eu-west-1")
    subnet = ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])["Subnets"][0]
    ec2.create_network_interface(SubnetId=subnet["SubnetId"])
    _, _, text = observed(["plan", "--only", "default-vpcs", "--output", "json"])
    (step,) = json.loads(text)["steps"]
    assert [c["resource"].split("(")[-1] for c in step["changes"]] == ["us-east-1)"]
    warnings = [f["text"] for f in step["findings"] if f["severity"] == "warning"]
    assert len(warnings) == 1 and "in eu-west-1 is in use (1 network interfaces): kept" in warnings[0]


def test_the_prompts_ask_contacts_field_by_field_and_offer_guardduty_with_its_cost(account: Account) -> None:
    script = [
        "Security team", "Security", "security@example.com", "+1 555 0100",  # security contact
        "",  # billing: empty first field, not given
        "",  # operations: not given either
        True,  # "Apply 3 changes for account-contacts?" (the two not given are then skipped, with the reason)
        None,  # "Turn on GuardDuty ...?": the default at a prompt, yes
        True,  # "Apply 2 changes for guardduty?"
    ]
    result = run_cli(["apply", "--only", "account-contacts,guardduty"], answers=script)
    asked = result.prompter.asked if result.prompter else []
    assert asked[0].startswith("Security contact (AWS sends security notices") and asked[0].endswith(": name")
    assert asked[1] == "Security contact: title (e.g. Security)"
    assert any(m.startswith("Turn on GuardDuty in every enabled region? (GuardDuty is free for 30 days") for m in asked)
    contact = account.raw("account").get_alternate_contact(AlternateContactType="SECURITY")["AlternateContact"]
    assert contact["EmailAddress"] == "security@example.com"
    assert all(v["detectors"] == 1 for v in state_without_contacts(account).values()), result.text


def test_a_bad_contact_typed_at_the_prompt_is_refused_and_asked_again(account: Account) -> None:
    script = ["Security team", "Security", "not-an-email", "security@example.com", "call me", "+1 555 0100",
              "", "", True]
    result = run_cli(["apply", "--only", "account-contacts"], answers=script)
    assert result.prompter is not None
    assert [value for value, _ in result.prompter.rejected] == ["not-an-email", "call me"]


def test_the_checklist_is_journaled_with_the_time_and_shown_as_manual_evidence(account: Account) -> None:
    result = run_cli(["apply", "--only", "root-credentials"], answers=[True, "confirmed"])
    assert result.code == 0, result.text
    check = run_cli(["check", "--only", "root-credentials", "--output", "json"], tty=False)
    (step,) = json.loads(check.out)["steps"]
    assert step["status"] == "compliant"
    evidence = [f for f in step["findings"] if f["observed"].get("evidence") == "MANUAL"]
    assert len(evidence) == 1 and "not verified by aws-harden" in evidence[0]["text"]
    assert evidence[0]["observed"]["confirmed_by"] == "arn:aws:iam::123456789012:root"


def test_root_credentials_counts_roots_mfa_devices_as_root(account: Account) -> None:
    from wizard.sandbox.root_user import assign_root_mfa
    from wizard.secrets import redact_aws_logs

    redact_aws_logs()
    assign_root_mfa(account.raw("iam"))
    result = run_cli(["plan", "--only", "root-credentials"], tty=False)
    assert "root has MFA: 1 device (AWS allows up to 8); AWS recommends a second one" in result.text


def test_public_buckets_are_named_before_the_block_goes_on(account: Account) -> None:
    s3 = account.raw("s3")
    s3.create_bucket(Bucket="team-site")
    s3.put_bucket_ownership_controls(Bucket="team-site", OwnershipControls={"Rules": [
        {"ObjectOwnership": "ObjectWriter"}]})
    s3.put_bucket_acl(Bucket="team-site", ACL="public-read")
    s3.create_bucket(Bucket="private-data")
    result = run_cli(["plan", "--only", "s3-public-access"], tty=False)
    assert "these buckets stop being public: team-site" in flat(result.text)
    assert "bucket team-site is public today (its ACL grants AllUsers)" in flat(result.text)
    assert "private-data" not in result.text


def test_guardduty_findings_are_emailed_through_the_cloudtrail_alerts_topic(account: Account, tmp_path: Path) -> None:
    path = answers(tmp_path, '[cloudtrail]\nalerts_email = "alerts@example.com"\n[guardduty]\nenable = true\n')
    code, _, text = observed(["apply", "--yes", "--only", "cloudtrail,guardduty", "--answers", path])
    assert code == 0, text
    events = account.raw("events")
    rule = events.describe_rule(Name="aws-harden-guardduty-findings")
    assert json.loads(rule["EventPattern"])["source"] == ["aws.guardduty"] and rule["State"] == "ENABLED"
    targets = events.list_targets_by_rule(Rule="aws-harden-guardduty-findings")["Targets"]
    assert [t["Arn"] for t in targets] == ["arn:aws:sns:us-east-1:123456789012:aws-harden-alerts"]
    code, aws, text = observed(["apply", "--yes", "--only", "cloudtrail,guardduty", "--answers", path])
    assert code == 0 and aws.guard.sent_writes == [], text


def test_the_budget_step_explains_a_free_plan_and_the_summary_shows_it(account: Account, tmp_path: Path) -> None:
    account.guardrails.account_plan = {
        "accountPlanType": "FREE", "accountPlanStatus": "ACTIVE",
        "accountPlanRemainingCredits": {"amount": 182.5, "unit": "USD"},
        "accountPlanExpirationDate": "2027-05-01T00:00:00Z"}
    path = answers(tmp_path, '[budget-alarm]\namount = 10\nemails = "you@example.com"\n')
    result = run_cli(["apply", "--yes", "--only", "budget-alarm", "--answers", path], tty=False)
    assert result.code == 0, result.text
    assert "AWS charges nothing beyond its credits (182.50 USD left, until 2027-05-01)" in flat(result.text)
    assert "account plan: Free plan, 182.50 USD of credits left, ends 2027-05-01" in flat(result.text)
    account.guardrails.account_plan = None  # an account from before plans (the sandbox's): nothing is said
    result = run_cli(["plan", "--only", "budget-alarm", "--answers", path], tty=False)
    assert result.code == 0 and "Free plan" not in result.text and "account plan" not in result.text


def test_each_guardrail_step_sends_only_the_reads_it_declares(account: Account, tmp_path: Path) -> None:
    """A step's `reads` lists every read operation it sends (the write guard's allow-list of reads to come):
    apply, which reads only what the steps read (check and plan also read the controls' facts)."""
    import steps as step_registry

    path = answers(tmp_path, ANSWERS + '[cloudtrail]\nalerts_email = "alerts@example.com"\n')
    run_cli(["apply", "--yes", "--only", "cloudtrail", "--answers", path], tty=False)
    for step in [s for s in step_registry.available() if s.id in GUARDRAILS]:
        for command in (["apply", "--yes"], ["apply", "--yes"]):  # with changes to make, then with none
            sent: list[str] = []

            def record(aws: Any, sent: list[str] = sent, step: Any = step) -> None:
                def before_call(model: Any, **_: Any) -> None:
                    operation = f"{model.service_model.service_name}:{model.name}"
                    if operation not in step.writes | step.sandbox_writes:  # a read, of this step or another's
                        sent.append(operation)

                aws.session.events.register("before-call", before_call)

            harness.run(*command, "--only", step.id, "--answers", path, stdin="pipe", width=None, observe=record)
            undeclared = set(sent) - set(step.reads) - {"sts:GetCallerIdentity"}
            assert not undeclared, (step.id, command, undeclared)
