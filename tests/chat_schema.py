"""The custom-notification format of Amazon Q Developer in chat applications (formerly AWS Chatbot), as a
JSON Schema, for the tests of the chat message.

Source: Amazon Q Developer in chat applications, Administrator Guide, "Custom notifications using Amazon Q
Developer in chat applications" (https://docs.aws.amazon.com/chatbot/latest/adminguide/custom-notifs.html),
sections "Event schema" and "Parameter details": the fields and their types; `version` (required) must be
"1.0", `source` (required) must be "custom", `textType` supports only "client-markdown"; `nextSteps`,
`keywords` and `relatedResources` are lists of strings, `additionalContext` a map of strings.

The guide gives no lengths. The limits below are data, each from where it is documented (never read from
handler/chat.py, whose budgets a test holds within them): the API's own limit where the service reuses a
field, and what the chat application draws where the service renders a field into it.

One thing is this project's, not the service's, and is marked so: no field beyond the documented ones (a
misspelt field would be silently ignored by the service).
"""

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SourcedLimit:
    chars: int
    source: str
    pattern: str | None = None


#: Field -> its longest value, from its source.
SOURCED_LIMITS: dict[str, SourcedLimit] = {
    # What Slack draws the title and the description in: a header and a section (see docs/chat.md).
    "title": SourcedLimit(150, "Slack Block Kit reference, header block: text at most 150 characters"),
    "description": SourcedLimit(3000, "Slack Block Kit reference, section block: text at most 3000 characters"),
    # Custom actions select notifications by it: the API's NotificationType.
    "eventType": SourcedLimit(
        100,
        "Amazon Q Developer in chat applications API reference, CustomActionAttachment.NotificationType: "
        "1-100 characters of [a-zA-Z0-9-]",
        pattern="^[a-zA-Z0-9-]+$",
    ),
}


def _string(field: str | None = None) -> dict[str, Any]:
    limit = SOURCED_LIMITS.get(field or "")
    if limit is None:
        return {"type": "string"}
    return {"type": "string", "maxLength": limit.chars, **({"pattern": limit.pattern} if limit.pattern else {})}


def _strings() -> dict[str, Any]:
    return {"type": "array", "items": _string()}


CUSTOM_NOTIFICATION_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Amazon Q Developer in chat applications custom notification",
    "type": "object",
    "required": ["version", "source", "content"],
    "additionalProperties": False,  # ours: only documented fields
    "properties": {
        "version": {"const": "1.0"},
        "source": {"const": "custom"},
        "id": _string(),
        "content": {
            "type": "object",
            # ours: a notification without a title and a description says nothing.
            "required": ["textType", "title", "description"],
            "additionalProperties": False,
            "properties": {
                "textType": {"const": "client-markdown"},
                "title": _string("title"),
                "description": _string("description"),
                "nextSteps": _strings(),
                "keywords": _strings(),
            },
        },
        "metadata": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "threadId": _string(),
                "summary": _string(),
                "eventType": _string("eventType"),
                "relatedResources": _strings(),
                "additionalContext": {"type": "object", "additionalProperties": _string()},
            },
        },
    },
}
