"""The grammar of an AWS policy document, as IAM, KMS, SQS and SNS check it when a policy is put: shared by
the unit tests of each document builder (`components/iam.py`) and the stack tests over every planned
document. `document_problems` lists what is wrong; an empty list is a valid document."""

import fnmatch
import re
from typing import Any

import parliament

from tests.support import IDENTITY_POLICIES, ROLE

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
    # A member's read role trusts the central roles only as principals of the organisation (issue 23).
    "aws:PrincipalOrgID",
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


def statement_problems(kind: str, statement: dict[str, Any]) -> list[str]:
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
    principal = statement.get("Principal")
    if principal == "*" and "aws:PrincipalOrgID" not in (statement.get("Condition") or {}).get("StringEquals", {}):
        problems.append('Principal "*" without an aws:PrincipalOrgID condition: anyone')
    for principal_type, principals in (principal if isinstance(principal, dict) else {}).items():
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


def document_problems(kind: str, document: dict[str, Any]) -> list[str]:
    """What IAM (or KMS, SQS, SNS) would reject in `document`, a policy of resource type `kind`."""
    if set(document) != {"Version", "Statement"}:
        return [f"top-level keys {sorted(document)}, not Version and Statement"]
    problems = [] if document["Version"] == "2012-10-17" else [f"Version {document['Version']!r}"]
    statements = document["Statement"]
    if not isinstance(statements, list) or not statements:
        return [*problems, "no list of statements"]
    sids = [statement["Sid"] for statement in statements if "Sid" in statement]
    if len(sids) != len(set(sids)):
        problems.append(f"repeated Sid in {sids}")
    problems += [f"Sid {sid!r} is not alphanumeric" for sid in sids if not SID.match(sid)]
    for statement in statements:
        problems += [f"{statement.get('Sid', statement)}: {problem}" for problem in statement_problems(kind, statement)]
    return problems


def key_administration_problems(document: dict[str, Any], account_id: str, partition: str = "aws") -> list[str]:
    """What is wrong with how a key policy keeps the account's administration of the key: without it the
    key could never be changed, described, disabled or deleted again; with more, the account could use it."""
    root = {"AWS": f"arn:{partition}:iam::{account_id}:root"}
    administering = [
        s for s in document["Statement"] if s.get("Principal") == root and "kms:PutKeyPolicy" in listed(s["Action"])
    ]
    if len(administering) != 1:
        return [f"{len(administering)} statements let {root['AWS']} administer the key, not 1"]
    (admin,) = administering
    problems = [] if (admin["Effect"], admin["Resource"]) == ("Allow", "*") else [f"Effect/Resource of {admin}"]
    actions = set(listed(admin["Action"]))
    problems += [f"{action} is missing" for action in sorted(KEY_LIFELINE - actions)]
    problems += [f"{action} uses the key" for action in sorted(actions & KEY_USE)]
    for action in sorted(actions):
        if not any(fnmatch.fnmatchcase(action, pattern) for pattern in KEY_ADMIN_PATTERNS):
            problems.append(f"{action} is not administration")
        try:
            parliament.expand_action(action)
        except (parliament.UnknownActionException, parliament.UnknownPrefixException):
            problems.append(f"action {action} does not exist")
    problems += [
        f"nothing of {pattern}"
        for pattern in KEY_ADMIN_PATTERNS
        if not any(fnmatch.fnmatchcase(action, pattern) for action in actions)
    ]
    if "Condition" in admin:
        problems.append("administration must not depend on a condition the caller may not meet")
    return problems
