"""The custom-notification format of Amazon Q Developer in chat applications (formerly AWS Chatbot), as a
JSON Schema, for the tests of the chat message.

Source: Amazon Q Developer in chat applications, Administrator Guide, "Custom notifications using Amazon Q
Developer in chat applications" (https://docs.aws.amazon.com/chatbot/latest/adminguide/custom-notifs.html),
sections "Event schema" and "Parameter details": the fields and their types; `version` (required) must be
"1.0", `source` (required) must be "custom", `textType` supports only "client-markdown"; `nextSteps`,
`keywords` and `relatedResources` are lists of strings, `additionalContext` a map of strings.

Two things are this project's, not the service's, and are marked so: no field beyond the documented
ones (a misspelt field would be silently ignored by the service), and the `maxLength`/`maxItems` budgets
of handler/chat.py `LIMITS` (what Slack and Teams draw in one block), which the schema reads from the code
so the two cannot drift, and which `test_handler_chat.py` checks against literal figures.
"""

from typing import Any

from batch_array_notify.handler.chat import LIMITS


def _string(field: str) -> dict[str, Any]:
    return {"type": "string", "maxLength": LIMITS[field].chars}


def _strings(field: str) -> dict[str, Any]:
    return {"type": "array", "items": _string(field), "maxItems": LIMITS[field].items}


CUSTOM_NOTIFICATION_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Amazon Q Developer in chat applications custom notification",
    "type": "object",
    "required": ["version", "source", "content"],
    "additionalProperties": False,  # ours: only documented fields
    "properties": {
        "version": {"const": "1.0"},
        "source": {"const": "custom"},
        "id": _string("id"),
        "content": {
            "type": "object",
            # ours: a notification without a title and a description says nothing.
            "required": ["textType", "title", "description"],
            "additionalProperties": False,
            "properties": {
                "textType": {"const": "client-markdown"},
                "title": _string("title"),
                "description": _string("description"),
                "nextSteps": _strings("nextSteps"),
                "keywords": _strings("keywords"),
            },
        },
        "metadata": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "threadId": _string("threadId"),
                "summary": _string("summary"),
                # The pattern: custom actions select notifications by it (API reference, CustomActionAttachment).
                "eventType": {**_string("eventType"), "pattern": "^[a-zA-Z0-9-]+$"},
                "relatedResources": _strings("relatedResources"),
                "additionalContext": {
                    "type": "object",
                    "additionalProperties": _string("additionalContext"),
                    "maxProperties": LIMITS["additionalContext"].items,
                },
            },
        },
    },
}
