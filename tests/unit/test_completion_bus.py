"""The completion bus's grant (components/completion_bus.py): a document IAM accepts, on the bus alone."""

from batch_array_notify.completion_bus import put_events_policy
from tests.policy_grammar import document_problems
from tests.support import ROLE_POLICY

BUS = "arn:aws:events:eu-west-1:123456789012:event-bus/completions"


def test_the_put_events_grant_is_a_valid_policy_on_the_bus_alone():
    document = put_events_policy(BUS)

    # Without a Version IAM reads the document as the 2008 policy language (no policy variables).
    assert document_problems(ROLE_POLICY, document) == []
    assert document["Statement"] == [
        {"Sid": "PutCompletionEvent", "Effect": "Allow", "Action": "events:PutEvents", "Resource": BUS}
    ]
