"""Every policy document of both stages is a valid document, not only a narrow one: IAM, KMS, SQS and SNS
reject a malformed policy at deploy time (or, worse, a key policy without its administrators locks the
key). Checked here: the grammar (Version, Effect, Principal where required and only there, Action,
Resource, known condition operators and keys, unique Sids), every action known to AWS (parliament's
catalogue of IAM actions and condition keys), and what the key policy must always keep."""

from pathlib import Path
from typing import Any

import pytest

from batch_array_notify.testing.program import MOCK_ACCOUNT, Plan, run_program
from tests.policy_grammar import document_problems, key_administration_problems
from tests.support import BUS_POLICY, KEY, POLICY_INPUTS, ROLE, ROLE_POLICY, policy_documents

ROOT = Path(__file__).resolve().parents[2]
STAGES = ("dev", "prod", "org")


@pytest.mark.parametrize("stage", STAGES)
def test_every_policy_document_is_valid_as_a_document(stage_plans, stage):
    documents = policy_documents(stage_plans[stage])
    # The intake bus's policy is the central notifier's (org) alone.
    assert {kind for kind, _, _ in documents} >= set(POLICY_INPUTS) - {"aws:iam/policy:Policy", BUS_POLICY}
    for kind, name, document in documents:
        assert document_problems(kind, document) == [], f"{kind} {name}"


@pytest.mark.parametrize("stage", STAGES)
def test_trust_policies_let_exactly_one_service_assume_the_role(stage_plans, stage):
    for _, name, document in policy_documents(stage_plans[stage], (ROLE,)):
        (statement,) = document["Statement"]
        assert (statement["Effect"], statement["Action"]) == ("Allow", "sts:AssumeRole"), name
        assert list(statement["Principal"]) == ["Service"], name


@pytest.mark.parametrize("stage", STAGES)
def test_inline_policies_say_what_each_grant_is_for(stage_plans, stage):
    for _, name, document in policy_documents(stage_plans[stage], (ROLE_POLICY,)):
        assert all(statement.get("Sid") for statement in document["Statement"]), name


def _key_statements(plan: Any) -> dict[str, dict[str, Any]]:
    ((_, _, document),) = policy_documents(plan, (KEY,))
    return {statement["Sid"]: statement for statement in document["Statement"]}


@pytest.mark.parametrize("stage", STAGES)
def test_the_key_policy_keeps_the_accounts_administrative_actions(stage_plans, stage):
    ((_, _, document),) = policy_documents(stage_plans[stage], (KEY,))
    assert key_administration_problems(document, MOCK_ACCOUNT) == []


@pytest.mark.parametrize("stage", STAGES)
def test_cloudwatch_reaches_the_key_only_for_this_account(stage_plans, stage):
    statements = _key_statements(stage_plans[stage])
    (cloudwatch,) = [s for s in statements.values() if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}]

    assert cloudwatch["Condition"] == {"StringEquals": {"aws:SourceAccount": MOCK_ACCOUNT}}


@pytest.fixture(scope="module")
def organization_plan() -> Plan:
    """The central stack admitting the organisation instead of naming its accounts."""
    return run_program(ROOT, "org", {"batch-array-notify:organizationId": "o-a1b2c3d4e5"})


def test_the_intake_bus_policy_of_an_organization_is_a_valid_document(organization_plan):
    ((kind, name, document),) = policy_documents(organization_plan, (BUS_POLICY,))
    assert document_problems(kind, document) == [], f"{kind} {name}"
    (statement,) = document["Statement"]
    assert statement["Principal"] == "*"
    assert statement["Condition"]["StringEquals"]["aws:PrincipalOrgID"] == "o-a1b2c3d4e5"
