"""Whether a policy document this project writes allows one request: an exact evaluator for a small subset.

The organisation's trust chain (docs/organization.md) rests on three documents: the member read role's trust
policy, the central intake bus's policy and the forwarder's events role trust. moto does not enforce any of
them, so tests judge them here, by the rules of the IAM policy evaluation logic
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html): a request is
denied by default and allowed when one statement matches its principal, its action, its resource and every
condition. The details follow the IAM JSON policy element references:

- `Principal`: `"*"`; `{"AWS": <ARN, 12-digit account id, or a list>}` (an account or its `:root` ARN stands
  for every principal of that account; a role ARN for the role and its assumed-role sessions);
  `{"Service": <name or list>}`.
- `Action`, `Resource`: a string or a list, `*` and `?` wildcards; actions match case-insensitively, resources
  segment by segment of the ARN, case-sensitively. A statement without `Resource` (a trust policy) applies to
  the resource the policy is attached to.
- `Condition`: `StringEquals`, `StringLike`, `ArnEquals`, `ArnLike`. Every operator and every key of a
  statement must hold (AND), any one of a key's values may match (OR); key names are case-insensitive, values
  are not. A key missing from the request makes its condition false
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html).

Anything outside that subset (a `Deny`, `NotAction`, `NotPrincipal`, `IfExists`, `ForAnyValue`, a policy
variable, `{"AWS": "*"}`, a number where a string belongs) raises `PolicyOutsideSubsetError`: this evaluator
never allows by not understanding. It judges one policy, not the whole chain (an identity policy, an SCP or a
permissions boundary may still refuse what it allows).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fnmatch import translate
from typing import Any, Final

#: The only policy language version with the semantics implemented here.
POLICY_VERSION: Final = "2012-10-17"
_DOCUMENT_KEYS: Final = frozenset({"Version", "Id", "Statement"})
_STATEMENT_KEYS: Final = frozenset({"Sid", "Effect", "Principal", "Action", "Resource", "Condition"})
_ACCOUNT: Final = re.compile(r"\d{12}")
_SERVICE: Final = re.compile(r"[a-z0-9][a-z0-9.-]*\.amazonaws\.com(?:\.cn)?")
#: A caller: an IAM user, role or account root, or an STS assumed-role session.
_CALLER: Final = re.compile(
    r"arn:(?P<partition>aws[a-z-]*):(?P<service>iam|sts)::(?P<account>\d{12}):(?P<resource>root|[a-z-]+/\S+)"
)
_ARN_SEGMENTS: Final = 6


class PolicyOutsideSubsetError(ValueError):
    """The document or the request uses something this evaluator does not implement."""


@dataclass(frozen=True)
class Decision:
    """The answer, with the reason: which statement allowed, or why each one did not."""

    allowed: bool
    why: str

    def __bool__(self) -> bool:
        return self.allowed


def allows(
    document: Mapping[str, Any] | str,
    *,
    principal: str | None,
    action: str,
    resource: str | None = None,
    context: Mapping[str, str] | None = None,
) -> bool:
    """Whether `document` allows `principal` (a caller's ARN or a service name; None for an identity policy,
    which has no `Principal`) to call `action` on `resource` with the request's condition keys `context`."""
    return evaluate(document, principal=principal, action=action, resource=resource, context=context).allowed


def evaluate(
    document: Mapping[str, Any] | str,
    *,
    principal: str | None,
    action: str,
    resource: str | None = None,
    context: Mapping[str, str] | None = None,
) -> Decision:
    """`allows`, with the reason (`Decision.why`)."""
    policy = json.loads(document) if isinstance(document, str) else document
    statements = _statements(policy)
    request_context = _request_context(context or {})
    if not re.fullmatch(r"[a-zA-Z0-9-]+:[a-zA-Z0-9]+", action):
        raise PolicyOutsideSubsetError(f"the request's action {action!r} is not one `service:Action`")
    refusals = []
    for number, statement in enumerate(statements, start=1):
        name = f"statement {statement.get('Sid') or number}"
        reason = _refusal(statement, principal, action, resource, request_context)
        if reason is None:
            return Decision(True, f"{name} allows it")
        refusals.append(f"{name}: {reason}")
    return Decision(False, "; ".join(refusals) or "the policy has no statement (denied by default)")


# --------------------------------------------------------------------------------------------------
# The document


def _statements(policy: Any) -> list[Mapping[str, Any]]:
    if not isinstance(policy, Mapping):
        raise PolicyOutsideSubsetError("a policy document is a JSON object")
    _only_keys(policy, _DOCUMENT_KEYS, "the document")
    if policy.get("Version") != POLICY_VERSION:
        raise PolicyOutsideSubsetError(f"Version {policy.get('Version')!r}: only {POLICY_VERSION} is implemented")
    found = policy.get("Statement")
    statements = [found] if isinstance(found, Mapping) else found
    if not isinstance(statements, list) or not all(isinstance(s, Mapping) for s in statements):
        raise PolicyOutsideSubsetError("Statement is an object or a list of objects")
    for statement in statements:
        _only_keys(statement, _STATEMENT_KEYS, "a statement")
        if statement.get("Effect") != "Allow":
            raise PolicyOutsideSubsetError(f"Effect {statement.get('Effect')!r}: only Allow statements are implemented")
        if "Action" not in statement:
            raise PolicyOutsideSubsetError("a statement without Action")
    if "${" in json.dumps(policy):
        raise PolicyOutsideSubsetError("policy variables (${...}) are not implemented")
    return statements


def _only_keys(mapping: Mapping[str, Any], known: frozenset[str], where: str) -> None:
    unknown = sorted(set(mapping) - known)
    if unknown:
        raise PolicyOutsideSubsetError(f"{where} has {', '.join(unknown)}: not implemented")


def _strings(value: Any, where: str) -> list[str]:
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
        raise PolicyOutsideSubsetError(f"{where} is a string or a non-empty list of strings, not {value!r}")
    return values


def _request_context(context: Mapping[str, str]) -> dict[str, str]:
    if not all(isinstance(value, str) for value in context.values()):
        raise PolicyOutsideSubsetError("the request's condition keys are single strings")
    # Condition key names are case-insensitive (IAM JSON policy elements: Condition).
    return {key.lower(): value for key, value in context.items()}


# --------------------------------------------------------------------------------------------------
# One statement


def _refusal(
    statement: Mapping[str, Any],
    principal: str | None,
    action: str,
    resource: str | None,
    context: Mapping[str, str],
) -> str | None:
    """Why the statement does not allow the request, or None when it does."""
    if "Principal" in statement:
        if principal is None:
            raise PolicyOutsideSubsetError("a statement with a Principal needs the request's principal")
        if not _principal_matches(statement["Principal"], principal):
            return f"principal {principal} is not {json.dumps(statement['Principal'])}"
    elif principal is not None:
        raise PolicyOutsideSubsetError("an identity policy's statement has no Principal: pass principal=None")
    actions = _strings(statement["Action"], "Action")
    if not any(_glob(pattern, action, case_sensitive=False) for pattern in actions):
        return f"action {action} is not one of {actions}"
    if "Resource" in statement:
        resources = _strings(statement["Resource"], "Resource")
        if resource is None:
            raise PolicyOutsideSubsetError("a statement with a Resource needs the request's resource")
        if not any(_arn_matches(pattern, resource) for pattern in resources):
            return f"resource {resource} is not one of {resources}"
    return _condition_refusal(statement.get("Condition", {}), context)


def _principal_matches(element: Any, principal: str) -> bool:
    caller = _CALLER.fullmatch(principal)
    if caller is None and not _SERVICE.fullmatch(principal):
        raise PolicyOutsideSubsetError(f"the request's principal {principal!r} is neither an IAM ARN nor a service")
    if element == "*":
        return True
    if not isinstance(element, Mapping) or not element or set(element) - {"AWS", "Service"}:
        raise PolicyOutsideSubsetError(f'Principal {element!r}: only "*", AWS and Service are implemented')
    services = _strings(element["Service"], "Principal Service") if "Service" in element else []
    if principal in services:
        return True
    named = _strings(element["AWS"], "Principal AWS") if "AWS" in element else []
    return caller is not None and any(_aws_principal_matches(name, caller) for name in named)


def _aws_principal_matches(name: str, caller: re.Match[str]) -> bool:
    """An account (its id or its root ARN) names each of its principals; a role ARN names the role and its
    sessions (`arn:aws:sts::<account>:assumed-role/<role name>/<session>`, the role's path dropped)."""
    if "*" in name or "?" in name:
        # IAM refuses wildcards in an AWS principal but the lone "*" (IAM JSON policy elements: Principal).
        raise PolicyOutsideSubsetError(f"Principal AWS {name!r}: wildcards are not implemented")
    if _ACCOUNT.fullmatch(name):
        return caller["account"] == name
    named = _CALLER.fullmatch(name)
    if named is None or named["service"] != "iam":
        raise PolicyOutsideSubsetError(f"Principal AWS {name!r} is not an account id or an IAM ARN")
    if named["partition"] != caller["partition"] or named["account"] != caller["account"]:
        return False
    if named["resource"] == "root":
        return True
    if caller["service"] == "iam":
        return named["resource"] == caller["resource"]
    kind, _, path_and_name = named["resource"].partition("/")
    session_role = caller["resource"].removeprefix("assumed-role/").split("/")[0]
    return (
        kind == "role"
        and caller["resource"].startswith("assumed-role/")
        and path_and_name.split("/")[-1] == (session_role)
    )


# --------------------------------------------------------------------------------------------------
# Conditions


def _glob(pattern: str, value: str, *, case_sensitive: bool = True) -> bool:
    """`*` any run of characters, `?` one character, nothing else special (fnmatch's `[...]` is escaped)."""
    escaped = pattern.replace("[", "[[]")
    flags = 0 if case_sensitive else re.IGNORECASE
    return re.fullmatch(translate(escaped), value, flags) is not None


def _arn_matches(pattern: str, value: str) -> bool:
    """ARN matching: each of the six colon-separated segments on its own, wildcards within a segment."""
    if pattern == "*":
        return True
    patterns, values = pattern.split(":", _ARN_SEGMENTS - 1), value.split(":", _ARN_SEGMENTS - 1)
    if len(patterns) != _ARN_SEGMENTS:
        raise PolicyOutsideSubsetError(f"{pattern!r} is neither * nor an ARN")
    return len(values) == _ARN_SEGMENTS and all(map(_glob, patterns, values))


_OPERATORS: Final[Mapping[str, Callable[[str, str], bool]]] = {
    "StringEquals": lambda expected, actual: expected == actual,
    "StringLike": _glob,
    "ArnEquals": _arn_matches,
    "ArnLike": _arn_matches,
}


def _condition_refusal(condition: Any, context: Mapping[str, str]) -> str | None:
    if not isinstance(condition, Mapping):
        raise PolicyOutsideSubsetError("Condition is an object")
    for operator, keys in condition.items():
        if operator not in _OPERATORS:
            raise PolicyOutsideSubsetError(f"condition operator {operator}: only {', '.join(_OPERATORS)}")
        if not isinstance(keys, Mapping) or not keys:
            raise PolicyOutsideSubsetError(f"{operator} maps condition keys to values")
        for key, values in keys.items():
            expected = _strings(values, f"{operator} {key}")
            actual = context.get(key.lower())
            if actual is None:
                return f"{operator} {key}: the request has no {key}"
            if not any(_OPERATORS[operator](value, actual) for value in expected):
                return f"{operator} {key}: {actual!r} is not {' or '.join(map(repr, expected))}"
    return None
