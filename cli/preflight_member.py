"""`preflight --stack member`: the checks of a member account's forwarder stack (`centralBusArn` set).

  central bus   the central bus's policy admits this account's PutEvents (its account, or the organisation
                the account belongs to), when the bus policy is readable (events:DescribeEventBus with
                the bus ARN, in the bus's region; organizations:DescribeOrganization); unreadable: a warn
  read role     the read role's trust (iam:GetRole) names every central notifier role, the external id
                and the organisation the stack configures; not deployed yet: a warn

Only reads; a check the caller may not make is a warn, not a fail.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import unquote

from botocore.exceptions import ClientError  # type: ignore[import-untyped]  # no type information

from batch_array_notify.cli.aws_errors import DENIED_CODES
from batch_array_notify.testing.program import Plan

#: A client of a service in a region: the central bus may be in another region than the stack.
RegionalClient = Callable[[str, str], Any]
ROLE: Final = "aws:iam/role:Role"
FORWARDER: Final = "batcharray:index:BatchEventForwarder"
#: What the central bus must admit (the forwarded events: components/event_pattern.py).
BATCH_SOURCE: Final = "aws.batch"
JOB_STATE_CHANGE: Final = "Batch Job State Change"


@dataclass(frozen=True)
class MemberSettings:
    """The member stack's values the checks need, from its config (lists as JSON)."""

    central_bus_arn: str
    central_role_arns: tuple[str, ...]
    external_id: str | None
    """None: not configured; `ENCRYPTED`: configured as a secret the offline config cannot read."""
    organization_id: str | None
    read_role_name: str | None
    """The read role's name, as the plan declares it; None with `readRole: false`."""

    @classmethod
    def from_config(cls, config: dict[str, str], project: str, plan: Plan) -> MemberSettings | None:
        bus = config.get(f"{project}:centralBusArn")
        if bus is None:
            return None
        roles = json.loads(config.get(f"{project}:centralNotifierRoleArns") or "[]")
        external_id = config.get(f"{project}:externalId")
        if external_id is not None and external_id.startswith('{"secure"'):
            external_id = ENCRYPTED
        names = [
            str(role.inputs["name"])
            for role in plan.of_type(ROLE)
            if role.parent is not None and role.parent[0] == FORWARDER and role.name.endswith("-read")
        ]
        return cls(
            central_bus_arn=bus,
            central_role_arns=tuple(roles),
            external_id=external_id,
            organization_id=config.get(f"{project}:organizationId"),
            read_role_name=names[0] if names else None,
        )


ENCRYPTED: Final = "(encrypted)"


@dataclass(frozen=True)
class Finding:
    """One check's outcome, in preflight's words: `ok`, `warn` or `fail`, what was found, what to do."""

    status: str
    detail: str
    fix: str = ""


def _listed(value: Any) -> list[Any]:
    return [value] if isinstance(value, str) else list(value or [])


def _denied(error: ClientError) -> bool:
    return str(error.response.get("Error", {}).get("Code", "")) in DENIED_CODES


def _admits_batch_events(statement: dict[str, Any]) -> bool:
    """A statement's `events:source` / `events:detail-type` conditions, when it has them, let the
    forwarded events through."""
    equals = statement.get("Condition", {}).get("StringEquals", {})
    wanted = {"events:source": BATCH_SOURCE, "events:detail-type": JOB_STATE_CHANGE}
    return all(wanted[key] in _listed(equals[key]) for key in wanted if key in equals)


def _grants_put_events(statement: dict[str, Any], bus_arn: str) -> bool:
    return (
        statement.get("Effect") == "Allow"
        and "events:PutEvents" in _listed(statement.get("Action"))
        and bus_arn in _listed(statement.get("Resource"))
        and _admits_batch_events(statement)
    )


def _principals(statement: dict[str, Any]) -> list[str]:
    principal = statement.get("Principal")
    if principal == "*":
        return ["*"]
    return _listed(principal.get("AWS")) if isinstance(principal, dict) else []


def bus_admits(policy: dict[str, Any], bus_arn: str, account: str, organization: str | None) -> str | None:
    """How the bus policy admits `account`'s PutEvents of Batch job state changes (a phrase), or None.
    `organization`: the account's organisation id, None when unknown."""
    root = f"arn:{bus_arn.split(':')[1]}:iam::{account}:root"
    for statement in _listed(policy.get("Statement")):
        if not _grants_put_events(statement, bus_arn):
            continue
        principals = _principals(statement)
        if account in principals or root in principals:
            return f"account {account} is named"
        org_ids = _listed(statement.get("Condition", {}).get("StringEquals", {}).get("aws:PrincipalOrgID"))
        if "*" in principals and organization is not None and organization in org_ids:
            return f"this account's organisation {organization} is admitted"
    return None


def check_central_bus(settings: MemberSettings, client: Callable[[str], Any], regional: RegionalClient) -> Finding:
    account = str(client("sts").get_caller_identity()["Account"])
    bus_region = settings.central_bus_arn.split(":")[3]
    try:
        answer = regional("events", bus_region).describe_event_bus(Name=settings.central_bus_arn)
    except ClientError as error:
        if not _denied(error) and "NotFound" not in str(error.response.get("Error", {}).get("Code", "")):
            raise
        return Finding(
            "warn",
            f"cannot read the central bus's policy from this account ({error.operation_name}: "
            f"{error.response['Error'].get('Code')}); not checked",
            "ask the central account to confirm this account is in its memberAccounts (or organisation)",
        )
    policy = json.loads(answer.get("Policy") or "{}")
    organization = _organization(client)
    how = bus_admits(policy, settings.central_bus_arn, account, organization)
    if how is not None:
        return Finding("ok", f"{settings.central_bus_arn} admits this account's Batch events: {how}")
    unknown_org = " (this account's organisation could not be read)" if organization is None else ""
    return Finding(
        "fail",
        f"{settings.central_bus_arn}'s policy does not admit PutEvents of Batch job state changes from "
        f"account {account}{unknown_org}",
        f"add account {account} to the central stack's memberAccounts (or give it this account's organizationId) "
        "and deploy the central stack",
    )


def _organization(client: Callable[[str], Any]) -> str | None:
    try:
        return str(client("organizations").describe_organization()["Organization"]["Id"])
    except ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", ""))
        if _denied(error) or code == "AWSOrganizationsNotInUseException":
            return None
        raise


def _document(value: Any) -> dict[str, Any]:
    """GetRole's trust document: boto3 decodes it; a raw answer is URL-encoded JSON."""
    return value if isinstance(value, dict) else dict(json.loads(unquote(str(value))))


def check_read_role(settings: MemberSettings, client: Callable[[str], Any]) -> Finding:
    if settings.read_role_name is None:
        return Finding("ok", "readRole is false: another region's stack of this account declares the read role")
    try:
        role = client("iam").get_role(RoleName=settings.read_role_name)["Role"]
    except ClientError as error:
        if str(error.response.get("Error", {}).get("Code", "")) != "NoSuchEntity":
            raise
        return Finding(
            "warn",
            f"{settings.read_role_name} does not exist yet; `pulumi up` creates it",
            "deploy the central stack first: IAM refuses a trust naming a role that does not exist",
        )
    problems = trust_problems(_document(role["AssumeRolePolicyDocument"]), settings)
    if problems:
        return Finding(
            "fail",
            f"{settings.read_role_name}'s trust {'; '.join(problems)}",
            "run `pulumi up` for this stack (it rewrites the trust); a central role recreated since needs it too",
        )
    return Finding("ok", f"{settings.read_role_name} trusts only the central roles, with the configured guard")


def trust_problems(document: dict[str, Any], settings: MemberSettings) -> list[str]:
    """What the read role's trust lacks of the configured one (its only statement)."""
    statements = [s for s in _listed(document.get("Statement")) if "sts:AssumeRole" in _listed(s.get("Action"))]
    if len(statements) != 1:
        return [f"has {len(statements)} sts:AssumeRole statements, not 1"]
    (statement,) = statements
    problems = []
    principals = _principals(statement)
    missing = [arn for arn in settings.central_role_arns if arn not in principals]
    if missing:
        # IAM shows a deleted principal as its unique id (AROA...): the trust no longer names it.
        problems.append(f"does not name {', '.join(missing)}")
    extra = [arn for arn in principals if arn not in settings.central_role_arns]
    if extra:
        problems.append(f"also trusts {', '.join(extra)}")
    equals = statement.get("Condition", {}).get("StringEquals", {})
    if settings.external_id is not None and "sts:ExternalId" not in equals:
        problems.append("requires no external id")
    elif settings.external_id not in (None, ENCRYPTED) and equals.get("sts:ExternalId") != settings.external_id:
        problems.append("requires another external id")
    if settings.organization_id is not None and equals.get("aws:PrincipalOrgID") != settings.organization_id:
        problems.append(f"does not require organisation {settings.organization_id}")
    if not {"sts:ExternalId", "aws:PrincipalOrgID"} & set(equals):
        problems.append("has neither an external id nor an organisation condition (confused deputy)")
    return problems
