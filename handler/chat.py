"""The completion report as a chat message, in the custom-notification format of Amazon Q Developer in chat
applications (formerly AWS Chatbot). Pure: no AWS, no clock.

The format is the service's (administrator guide, "Custom notifications using Amazon Q Developer in chat
applications": event schema and parameter details): `version` "1.0", `source` "custom", an `id`, `content`
(`textType` "client-markdown", `title`, `description`, `nextSteps`, `keywords`) and `metadata` (`threadId`,
`summary`, `eventType`, `relatedResources`, `additionalContext`). Markdown is written the way the guide's
samples write it, Slack style (`*bold*`, `<url|text>`); the service renders it in each chat application.

Every field has a budget (`LIMITS`) that holds whatever the report holds: 100 failed children with
500-character reasons still make one message that fits. The budgets are those of what the chat
applications draw in one block (Slack: 3,000 characters of section text, 150 of a header; Teams: about
28 KB a message), so a message is never cut or refused by the application it lands in.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

from .log_tails import fit
from .report import CompletionReport, FailedChild, LogTail, human_duration, resubmit_advice, subject

MESSAGE_VERSION: Final = "1.0"
MESSAGE_SOURCE: Final = "custom"
TEXT_TYPE: Final = "client-markdown"
#: Lets custom actions (buttons) in the channel select these notifications ([a-zA-Z0-9-]+).
EVENT_TYPE: Final = "BatchArrayJobCompleted"
STATUS_EMOJI: Final = {"SUCCEEDED": "\u2705", "FAILED": "\u274c"}


@dataclass(frozen=True)
class Limit:
    """At most `items` entries (lists and maps) of at most `chars` characters each."""

    chars: int
    items: int = 1


#: The budget of every field the handler writes (see the module docstring for where they come from).
LIMITS: Final = {
    "id": Limit(128),
    "title": Limit(150),
    "description": Limit(3000),
    "nextSteps": Limit(300, items=5),
    "keywords": Limit(64, items=5),
    "threadId": Limit(128),
    "summary": Limit(150),
    "eventType": Limit(100),
    "relatedResources": Limit(1024, items=5),
    "additionalContext": Limit(256, items=10),
}
#: A failed child's reasons in chat; the e-mail report and the completion event keep 500 characters.
CHAT_REASON_CHARS: Final = 200
#: A failed child's log tail in chat (its newest lines): three children with their tails fit the
#: description's 3,000 characters; the e-mail report and the completion event keep `failedLogBytes`.
CHAT_TAIL_CHARS: Final = 400
FENCE: Final = "`" * 3
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def chat_message(report: CompletionReport) -> dict[str, Any]:
    """The custom notification for one completion; every field within `LIMITS`."""
    return {
        "version": MESSAGE_VERSION,
        "source": MESSAGE_SOURCE,
        "id": _fit(f"{report.completion_key}:{report.status}", "id"),
        "content": {
            "textType": TEXT_TYPE,
            "title": _fit(f"{STATUS_EMOJI.get(report.status, '')} {subject(report)}".strip(), "title"),
            "description": description(report),
            "nextSteps": [_fit(step, "nextSteps") for step in next_steps(report)][: LIMITS["nextSteps"].items],
            "keywords": [_fit(keyword, "keywords") for keyword in _keywords(report)][: LIMITS["keywords"].items],
        },
        "metadata": {
            # One thread per array job: anything said later about the same job lands under this message.
            "threadId": _fit(report.completion_key, "threadId"),
            "summary": _fit(subject(report), "summary"),
            "eventType": EVENT_TYPE,
            "relatedResources": [
                _fit(arn, "relatedResources")
                for arn in (report.job_arn, report.job_queue_arn, report.job_definition_arn)
                if arn
            ][: LIMITS["relatedResources"].items],
            "additionalContext": {
                key: _fit(value, "additionalContext")
                for key, value in {
                    "stage": report.stage,
                    "status": report.status,
                    "jobId": report.job_id,
                    "jobQueue": report.job_queue_name,
                    "arraySize": str(report.array_size),
                    "succeeded": str(report.succeeded),
                    "failed": str(report.failed),
                    **({"account": report.origin.account, "region": report.origin.region} if report.origin else {}),
                }.items()
            },
        },
    }


def _keywords(report: CompletionReport) -> tuple[str, ...]:
    account = (report.origin.account,) if report.origin else ()
    return (report.stage, report.job_queue_name, report.status, *account)


def description(report: CompletionReport) -> str:
    """Counts, duration and where the job ran, the console link, then as many failed children as fit."""
    counts = f"*{report.succeeded} of {report.array_size} children succeeded, {report.failed} failed*"
    if report.not_final:
        counts += f" ({report.not_final} not yet counted)"
    head = [
        f"{counts} · duration {human_duration(report.duration_seconds)} · stage {_code(report.stage)}",
        f"Array job {_code(report.job_name)} ({_code(report.job_id)}) on queue {_code(report.job_queue_name)}, "
        f"definition {_code(report.job_definition)}",
    ]
    if report.origin:
        head.append(f"Account {_code(report.origin.account)}, region {_code(report.origin.region)}")
    if report.lineage:
        head.append(f"This is a {_code(report.lineage)}.")
    if report.status_reason:
        head.append(f"Status reason: {_code(_clip(report.status_reason))}")
    head.append(f"<{report.job_url}|Open the array job in the AWS Batch console>")
    text = "\n".join(head)
    if not report.failed:
        return text
    return _with_failed_children(text, report)


def _with_failed_children(text: str, report: CompletionReport) -> str:
    budget = LIMITS["description"].chars
    # Room for the last line is kept whatever happens, so the count of the unlisted is never cut off.
    reserve = len(_more_line(report.failed, report.failed)) + 1
    lines = [text, "", "*Failed children:*"]
    shown = 0
    for line, tail in _child_lines(report.failed_children):
        # The child with its log tail, else the child alone; once neither fits, the rest are counted.
        fitting = [entry for entry in (line + tail, line) if len("\n".join([*lines, entry])) + reserve <= budget]
        if not fitting:
            break
        lines.append(fitting[0])
        shown += 1
    if shown < report.failed:
        lines.append(_more_line(report.failed - shown, report.failed))
    return "\n".join(lines)


def _child_lines(children: tuple[FailedChild, ...]) -> Iterator[tuple[str, str]]:
    """Each child's line, and its log tail block (empty without a tail)."""
    for child in children:
        index = "?" if child.index is None else child.index
        exit_code = "none" if child.exit_code is None else child.exit_code
        reasons = "; ".join(reason for reason in (child.status_reason, child.container_reason) if reason)
        line = f"• index {index} · exit code {exit_code} · {_code(_clip(reasons or 'no reason given'))}"
        if child.logs_url:
            line += f" · <{child.logs_url}|logs>"
        yield line, _tail_block(child.log_tail)


def _tail_block(tail: LogTail | None) -> str:
    """A child's log tail under its line: a code block of its newest lines that fit `CHAT_TAIL_CHARS`
    (escaped, so they can neither end the block nor open a link), or why there is none."""
    if tail is None:
        return ""
    if tail.unavailable is not None:
        return f"\n  _log unavailable: {_escape(_clip(tail.unavailable))}_"
    escaped = [_escape(_CONTROL.sub(" ", line)).replace(FENCE, "'" * 3) for line in tail.lines]
    # Bytes bound characters: whatever fits CHAT_TAIL_CHARS bytes fits as many characters.
    kept = fit(escaped, CHAT_TAIL_CHARS).lines
    return f"\n{FENCE}\n" + "\n".join(kept) + f"\n{FENCE}" if kept else ""


def _more_line(omitted: int, failed: int) -> str:
    return (
        f"…and {omitted} more of {failed} failed children: the e-mail report lists them with their reasons, "
        "the console lists all."
    )


def next_steps(report: CompletionReport) -> list[str]:
    console = f"<{report.job_url}|the array job in the AWS Batch console>"
    if report.status != "FAILED":
        return [
            f"The children and their output: {console}.",
            "Next steps of your own can start from the `Batch Array Job Completed` event "
            "(source `batch-array-notify`) instead of polling.",
        ]
    return [
        f"Where to look: the failed children's logs (links above), then {console} for every child and attempt.",
        *([f"{resubmit_advice(report)}: {_code(report.resubmit_command)}"] if report.resubmit_command else []),
    ]


def _fit(text: str, field: str) -> str:
    limit = LIMITS[field].chars
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _clip(text: str) -> str:
    return text if len(text) <= CHAT_REASON_CHARS else text[: CHAT_REASON_CHARS - 1] + "…"


def _code(text: str) -> str:
    """Inline code that cannot break out: one line, no backticks, and &, < and > escaped as chat
    applications require of message text (a `<` would otherwise open a link or a mention)."""
    return "`" + _escape(_CONTROL.sub(" ", text).replace("`", "'")) + "`"


def _escape(text: str) -> str:
    """&, < and > as chat applications require them in message text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
