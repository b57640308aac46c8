"""Environmental AWS errors as one line and exit code 3, never a botocore traceback.

Missing or expired credentials, an unreachable endpoint, access denied and throttling are not bugs in the
tool and not a bad outcome of the user's job: they say something about where the tool runs. Each gets one
line naming the cause and the fix. Other AWS refusals (a queue that does not exist, a bad parameter) are the
caller's input: one line, exit 2.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from botocore.exceptions import (  # type: ignore[import-untyped]  # botocore ships no type information
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
    TokenRetrievalError,
    UnauthorizedSSOTokenError,
)
from botocore.parsers import ResponseParserError  # type: ignore[import-untyped]  # no type information

from batch_array_notify.cli.exit_codes import AWS_UNREACHABLE, USAGE_ERROR

CREDENTIALS_FIX = (
    "set AWS_PROFILE to a profile in ~/.aws/config (run `aws sso login --profile NAME` for SSO) "
    "or export AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
)
DENIED_CODES = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError"})
BAD_CREDENTIAL_CODES = frozenset(
    {
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "ExpiredToken",
        "ExpiredTokenException",
        "SignatureDoesNotMatch",
    }
)
THROTTLING_CODES = frozenset(
    {"Throttling", "ThrottlingException", "ThrottledException", "TooManyRequestsException", "RequestLimitExceeded"}
)


def one_line(text: str) -> str:
    """`text` with its line breaks and runs of spaces as single spaces."""
    return " ".join(text.split())


UNREADABLE_ANSWER = (
    "AWS's answer could not be read (not the service's format): check AWS_ENDPOINT_URL and any proxy "
    "(HTTPS_PROXY) between here and AWS"
)
#: The first HTTP status of AWS's own faults (and of a proxy's): the service's or the path's, not the caller's.
SERVER_ERROR_STATUS = 500


def _status(error: ClientError) -> int:
    return int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)


def environment_problem(error: BaseException, *, region_option: bool = True) -> str | None:
    """One line naming the cause and the fix when `error` is about the environment, else None.
    `region_option`: the tool has a --region option to offer."""
    if isinstance(error, (NoCredentialsError, PartialCredentialsError)):
        return f"no AWS credentials found: {CREDENTIALS_FIX}"
    if isinstance(error, (TokenRetrievalError, UnauthorizedSSOTokenError)):
        return f"the SSO session has expired: run `aws sso login` for the profile, or {CREDENTIALS_FIX}"
    if isinstance(error, ProfileNotFound):
        return f"{error}: check AWS_PROFILE against the profiles in ~/.aws/config"
    if isinstance(error, NoRegionError):
        region = "pass --region, set AWS_REGION," if region_option else "set AWS_REGION"
        return f"no AWS region: {region} or set aws:region in the stack's config"
    if isinstance(error, ResponseParserError):
        # Not the service's format (an HTML error page of a proxy or a wrong endpoint): never print it.
        return UNREADABLE_ANSWER
    if isinstance(error, (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError)):
        return f"cannot reach AWS ({error}): check the network, a proxy (HTTPS_PROXY) or AWS_ENDPOINT_URL"
    if isinstance(error, ClientError):
        code = str(error.response.get("Error", {}).get("Code", ""))
        operation = error.operation_name
        status = _status(error)
        if status >= SERVER_ERROR_STATUS:
            # The body may be a proxy's HTML page: the status and AWS's error code, never the body.
            cause = f"HTTP {status}" + (f" ({code})" if code and code != str(status) else "")
            return f"AWS answered {operation} with {cause}, a fault on its side or a proxy's: try again later"
        if code in DENIED_CODES:
            return f"access denied to {operation}: the caller's IAM policy must allow it (see --help for the list)"
        if code in BAD_CREDENTIAL_CODES:
            return f"AWS rejected the credentials ({code}): they are expired or wrong; {CREDENTIALS_FIX}"
        if code in THROTTLING_CODES:
            return f"AWS throttled {operation} ({code}) after botocore's retries: wait a minute and run again"
    return None


def refusal(error: BaseException) -> str | None:
    """One line for an AWS refusal of the caller's input (not the environment), else None."""
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        message = one_line(str(details.get("Message", "")))
        return f"AWS refused {error.operation_name}: {details.get('Code', '?')}: {message}".rstrip()
    return None


@contextmanager
def exit_on_aws_environment_errors(stream: TextIO | None = None, *, region_option: bool = True) -> Iterator[None]:
    """Turn environmental AWS errors into one line and exit 3, and AWS refusals into one line and exit 2.
    `region_option`: the tool has a --region option to offer when no region is found."""
    try:
        yield
    except (BotoCoreError, ClientError, ResponseParserError) as error:
        output = stream or sys.stderr
        problem = environment_problem(error, region_option=region_option)
        if problem is not None:
            print(f"error: {problem}", file=output)
            raise SystemExit(AWS_UNREACHABLE) from None
        refused = refusal(error)
        if refused is not None:
            print(f"error: {refused}", file=output)
            raise SystemExit(USAGE_ERROR) from None
        # Any other botocore error (a bad parameter caught before sending) is still the caller's input;
        # botocore spreads parameter reports over several lines, the user gets one.
        print(f"error: {one_line(str(error))}", file=output)
        raise SystemExit(USAGE_ERROR) from None
