"""How a chat message reads in the channel, and the documented examples: `batch-array-notify chat-preview`.

`channel_view(message)` turns the custom notification the handler publishes (handler/chat.py) into the
text a channel member reads: the title, the description, the next steps as bullets, the keywords. Slack
style markup is resolved the way the chat applications show it (a link shows its text, bold and code
lose their marks). The rehearsal prints it for every chat message; docs/chat.md shows the two examples
this module prints, and a test keeps them equal.

Exit codes: 0 printed, 2 usage error.
"""

from __future__ import annotations

import argparse
import dataclasses
import html
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from batch_array_notify.cli.exit_codes import tool_parser
from batch_array_notify.handler.chat import chat_message
from batch_array_notify.handler.log_tails import NO_STREAM, fit, mask_secrets
from batch_array_notify.handler.models import ChildJobDetail
from batch_array_notify.handler.report import CompletionReport, FailedChild, LogTail, build_report
from batch_array_notify.handler.scope import Completion, decide
from batch_array_notify.handler.settings import DEFAULT_FAILED_LOG_BYTES
from batch_array_notify.testing.eventgen import FAILED_CHILD_LOG, ArrayJobSpec, Compute, array_job_events

#: The queue and definition of the documented examples (docs/message-format.md uses the same).
EXAMPLE_QUEUE = "arn:aws:batch:eu-west-1:123456789012:job-queue/print-color-queue"
EXAMPLE_DEFINITION = "arn:aws:batch:eu-west-1:123456789012:job-definition/print-color:3"
#: (failures, failures before placement, compute): a Fargate success and an EC2 failure, 7 children.
EXAMPLES: tuple[tuple[int, int, Compute], ...] = ((0, 0, Compute.FARGATE), (2, 1, Compute.EC2))

_LINK = re.compile(r"<([^<>|]+)\|([^<>]*)>")
_BOLD = re.compile(r"\*([^*\n]+)\*")
_CODE = re.compile(r"`([^`\n]*)`")
_CODE_BLOCK = re.compile(r"\n`{3}\n(.*?)\n`{3}", re.DOTALL)
_ITALIC = re.compile(r"(?<![\w*])_([^_\n]+)_(?![\w*])")


def example_report(failures: int, unplaced: int, compute: Compute) -> CompletionReport:
    """A 7-child array job from testing/eventgen.py, rendered by the handler's own `build_report`."""
    spec = ArrayJobSpec(
        EXAMPLE_QUEUE,
        EXAMPLE_DEFINITION,
        size=7,
        failures=failures,
        failures_before_placement=unplaced,
        compute=compute,
    )
    events = list(array_job_events(spec))
    failed = [
        ChildJobDetail.model_validate(event["detail"])
        for event in events[:-1]
        if event["detail"]["status"] == "FAILED" and ":" in event["detail"]["jobId"]
    ]
    completion = decide(events[-1])
    if not isinstance(completion, Completion):
        raise TypeError(f"the generator's last event is not a completion: {completion}")
    report = build_report(completion, None, failed, stage="dev", default_region="eu-west-1")
    return dataclasses.replace(report, failed_children=tuple(_with_example_tail(c) for c in report.failed_children))


def _with_example_tail(child: FailedChild) -> FailedChild:
    """The tail the notifier would show (tail settings at their defaults) had the child logged `FAILED_CHILD_LOG`."""
    if child.log_stream is None:
        return dataclasses.replace(child, log_tail=LogTail(unavailable=NO_STREAM))
    return dataclasses.replace(child, log_tail=fit(mask_secrets(FAILED_CHILD_LOG), DEFAULT_FAILED_LOG_BYTES))


def plain(markup: str) -> str:
    """Slack-style markup as it reads: links show their text, bold, italics and code lose their marks, a code
    block (a log tail) reads as its lines indented."""
    text = _CODE_BLOCK.sub(lambda block: "".join(f"\n    {line}" for line in block[1].split("\n")), markup)
    text = _ITALIC.sub(r"\1", _LINK.sub(r"\2", text))
    text = _CODE.sub(r"\1", _BOLD.sub(r"\1", text))
    return html.unescape(text)


def channel_view(message: Mapping[str, Any]) -> str:
    content = message["content"]
    lines = [plain(content["title"]), "", plain(content["description"])]
    steps: Sequence[str] = content.get("nextSteps") or []
    if steps:
        lines += ["", "Next steps", *(f"• {plain(step)}" for step in steps)]
    keywords: Sequence[str] = content.get("keywords") or []
    if keywords:
        lines += ["", "Keywords: " + " | ".join(keywords)]
    return "\n".join(lines) + "\n"


def examples() -> list[dict[str, Any]]:
    return [chat_message(example_report(*example)) for example in EXAMPLES]


def parser() -> argparse.ArgumentParser:
    return tool_parser(
        "batch-array-notify chat-preview",
        __doc__.split("\n\n")[0] if __doc__ else None,
        bad_outcome=None,
        uses_aws=False,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser().parse_args(argv)
    for message in examples():
        print(channel_view(message))
        print(json.dumps(message, indent=2, ensure_ascii=False))
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
