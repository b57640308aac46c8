"""Every policy document of both stages is a valid document, not only a narrow one: IAM, KMS, SQS and SNS
reject a malformed policy at deploy time (or, worse, a key policy without its administrators locks the
key). Checked here: the grammar (Version, Effect, Principal where required and only there, Action,
Resource, known condition operators and keys, unique Sids), every action known to AWS (parliament's
catalogue of IAM actions and condition keys), and what the key policy must always keep."""

import fnmatch
import re
from typing import Any

import parliament
import pytest

from tests.support import IDENTITY_POLICIES, KEY, POLICY_INPUTS, ROLE, ROLE_POLICY, policy_documents
from tools.program import MOCK_ACCOUNT

STAGES = ("dev", "prod")
STATEMENT_KEYS = {"Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource"}
#: IAM's condition operators (IAM User Guide, "Condition operators"); each may end in IfExists and be
#: prefixed with ForAllValues:/ForAnyValue: (Null takes neither).
CONDITION_OPERATORS = {
    *(f"String{op}" for op in ("Equals", "NotEquals", "EqualsIgnoreCase", "NotEqualsIgnoreCase", "Like", "NotLike")),
    *(
        f"Numeric{op}"
        for op in ("Equals", "NotEquals", "LessThan", "LessThanEquals", "GreaterThan", "GreaterThanEquals")
    ),
    *(f"Date{op}" for op in ("Equals", "NotEquals", "LessThan", "LessThanEquals", "GreaterThan", "GreaterThanEquals")),
    "Bool",
    "BinaryEquals",
    "IpAddress",
    "NotIpAddress",
    *(f"Arn{op}" for op in ("Equals", "NotEquals", "Like", "NotLike")),
}
#: The global condition keys this project may use (IAM User Guide, "AWS global condition context keys").
GLOBAL_CONDITION_KEYS = {
    "aws:SourceArn",
    "aws:SourceAccount",
    "aws:SourceOrgID",
    "aws:PrincipalArn",
    "aws:SecureTransport",
}
ACTION = re.compile(r"^[a-z0-9-]+:[A-Za-z0-9]+\*?$")
SID = re.compile(r"^[A-Za-z0-9]+$")
#: What the account root keeps on the pipeline's key: the AWS default key policy's key-administrators
#: statement (Create*, Describe*, Enable*, List*, Put*, Update*, Revoke*, Disable*, Get*, Delete*, TagResource,
#: UntagResource, ScheduleKeyDeletion, CancelKeyDeletion), spelled out action by action in the code.
KEY_ADMIN_PATTERNS = (
    *(f"kms:{verb}*" for verb in ("Create", "Describe", "Enable", "List", "Put", "Update", "Revoke", "Disable", "Get")),
    "kms:Delete*",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:ScheduleKeyDeletion",
    "kms:CancelKeyDeletion",
)
#: Without these nobody could change, describe, disable or delete the key again (or stop its deletion).
KEY_LIFELINE = {"kms:PutKeyPolicy", "kms:GetKeyPolicy", "kms:DescribeKey", "kms:DisableKey", "kms:EnableKey"}
#: Administering never includes using the key or making keys.
KEY_USE = {"kms:CreateKey", "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom", "kms:Sign"}


def listed(value: Any) -> list[Any]:
    return [value] if isinstance(value, str) else list(value)


def _service_condition_keys(service: str) -> set[str]:
    (definition,) = [entry for entry in parliament.iam_definition if entry["prefix"] == service]
    return {condition["condition"] for condition in definition["conditions"]}


def _statement_problems(kind: str, statement: dict[str, Any]) -> list[str]:
    problems = [f"unknown element {key}" for key in set(statement) - STATEMENT_KEYS - {"Condition"}]
    if statement.get("Effect") not in ("Allow", "Deny"):
        problems.append(f"Effect {statement.get('Effect')!r}")
    actions = listed(statement.get("Action", []))
    if not actions:
        problems.append("no Action")
    for action in actions:
        if not isinstance(action, str) or not ACTION.match(action):
            problems.append(f"malformed action {action!r}")
            continue
        try:
            parliament.expand_action(action)
        except (parliament.UnknownActionException, parliament.UnknownPrefixException):
            problems.append(f"action {action} does not exist")
    trust = kind == ROLE
    identity = kind in IDENTITY_POLICIES
    if identity and "Principal" in statement:
        problems.append("an identity policy names no Principal")
    if not identity and not statement.get("Principal"):
        problems.append("a resource or trust policy needs a Principal")
    for principal_type, principals in (statement.get("Principal") or {}).items():
        for principal in listed(principals):
            if principal_type == "Service" and not re.match(r"^[a-z0-9.-]+\.amazonaws\.com$", principal):
                problems.append(f"service principal {principal!r}")
            if principal_type == "AWS" and not re.match(r"^arn:aws[a-z-]*:(iam|sts)::\d{12}:", principal):
                problems.append(f"AWS principal {principal!r}")
            if principal_type not in ("Service", "AWS"):
                problems.append(f"principal type {principal_type!r}")
    if trust and "Resource" in statement:
        problems.append("a trust policy names no Resource")
    if not trust and not listed(statement.get("Resource", [])):
        problems.append("no Resource")
    services = {action.split(":", 1)[0] for action in actions if isinstance(action, str)}
    service_keys = set().union(*(_service_condition_keys(service) for service in services)) if services else set()
    for operator, tests in (statement.get("Condition") or {}).items():
        base = re.sub(r"^(ForAllValues|ForAnyValue):", "", operator).removesuffix("IfExists")
        if base not in CONDITION_OPERATORS:
            problems.append(f"condition operator {operator!r}")
        if not isinstance(tests, dict) or not tests:
            problems.append(f"condition {operator} tests nothing")
            continue
        for key, values in tests.items():
            if key not in GLOBAL_CONDITION_KEYS and key not in service_keys:
                problems.append(f"condition key {key!r} is neither global nor one of {sorted(services)}'s")
            if not listed(values) or not all(isinstance(value, str) and value for value in listed(values)):
                problems.append(f"condition {operator} {key} values {values!r}")
            if base.startswith("Arn") and not all(str(value).startswith("arn:") for value in listed(values)):
                problems.append(f"{operator} on {key} with a value that is not an ARN")
    return problems


@pytest.mark.parametrize("stage", STAGES)
def test_every_policy_document_is_valid_as_a_document(stage_plans, stage):
    documents = policy_documents(stage_plans[stage])
    assert {kind for kind, _, _ in documents} >= set(POLICY_INPUTS) - {"aws:iam/policy:Policy"}
    for kind, name, document in documents:
        assert set(document) == {"Version", "Statement"}, f"{kind} {name}"
        assert document["Version"] == "2012-10-17", f"{kind} {name}"
        statements = document["Statement"]
        assert isinstance(statements, list), f"{kind} {name}"
        assert statements, f"{kind} {name}: no statement"
        sids = [statement["Sid"] for statement in statements if "Sid" in statement]
        assert len(sids) == len(set(sids)), f"{kind} {name}: repeated Sid in {sids}"
        assert all(SID.match(sid) for sid in sids), f"{kind} {name}: Sids must be alphanumeric: {sids}"
        for statement in statements:
            assert _statement_problems(kind, statement) == [], f"{kind} {name}: {statement}"


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
    statements = _key_statements(stage_plans[stage])
    root = {"AWS": f"arn:aws:iam::{MOCK_ACCOUNT}:root"}
    administering = [s for s in statements.values() if s["Principal"] == root and "kms:PutKeyPolicy" in s["Action"]]
    (admin,) = administering
    assert (admin["Effect"], admin["Resource"]) == ("Allow", "*")
    actions = set(admin["Action"])
    assert actions >= KEY_LIFELINE
    assert not actions & KEY_USE
    for action in actions:
        assert any(fnmatch.fnmatchcase(action, pattern) for pattern in KEY_ADMIN_PATTERNS), action
        parliament.expand_action(action)
    for pattern in KEY_ADMIN_PATTERNS:
        assert any(fnmatch.fnmatchcase(action, pattern) for action in actions), f"nothing of {pattern}"
    assert "Condition" not in admin, "administration must not depend on a condition the caller may not meet"


@pytest.mark.parametrize("stage", STAGES)
def test_cloudwatch_reaches_the_key_only_for_this_account(stage_plans, stage):
    statements = _key_statements(stage_plans[stage])
    (cloudwatch,) = [s for s in statements.values() if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}]

    assert cloudwatch["Condition"] == {"StringEquals": {"aws:SourceAccount": MOCK_ACCOUNT}}
