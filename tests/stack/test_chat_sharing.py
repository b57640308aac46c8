"""One channel configuration per chat channel per account (AWS refuses a second one: cloudcomponents/
cdk-constructs#92, hashicorp/terraform-provider-awscc#1011, aws-cloudformation/cloudformation-coverage-
roadmap#1155): two pipelines of one program, and dev and prod of one account, plan exactly one for their
shared Slack channel, carrying every topic; a stack given an existing configuration plans none."""

import json

import pytest

from batch_array_notify import BatchArrayPipeline, InvalidArgumentError
from batch_array_notify.testing.program import ROOT, Plan, run_program, run_under_mocks
from tests.support import SLACK_CHANNEL, TEAMS_CHANNEL, TOPIC

EXAMPLE = ROOT / "examples" / "two_pipelines"
SLACK = {"slackWorkspaceId": "T07EA123LEP", "slackChannelId": "C07EZ1ABC23"}
PROD_CONFIGURATION = "batch-array-notify-prod-batch-array-notify-slack"


def _config(project: str, values: dict[str, object]) -> dict[str, str]:
    return {f"{project}:{key}": value if isinstance(value, str) else json.dumps(value) for key, value in values.items()}


def _topic_arn(plan: Plan, name: str) -> str:
    return plan.named(TOPIC, name).state["arn"]


def test_two_pipelines_of_one_program_share_one_configuration_carrying_every_topic():
    plan = run_program(EXAMPLE, "dev", _config("two-pipelines", SLACK))

    (configuration,) = plan.of_type(SLACK_CHANNEL)
    assert configuration.parent == ("batcharray:index:ArrayCompletionNotifier", "render")
    assert configuration.inputs["configurationName"] == "two-pipelines-dev-render-slack"
    # Each pipeline's chat topic and alerts topic (the completion topic: no alertsTopicArn), once each.
    assert configuration.inputs["snsTopicArns"] == [
        _topic_arn(plan, "render-chat"),
        _topic_arn(plan, "render-completed"),
        _topic_arn(plan, "encode-chat"),
        _topic_arn(plan, "encode-completed"),
    ]


def test_without_the_chat_keys_the_example_has_nothing_of_chat():
    plan = run_program(EXAMPLE, "dev")

    assert plan.of_type(SLACK_CHANNEL) == []
    assert [topic.name for topic in plan.of_type(TOPIC) if topic.name.endswith("-chat")] == []


def test_dev_and_prod_of_one_account_on_one_channel_plan_one_configuration_with_both_stacks_topics():
    # Dev in another region: a configuration is account-wide and carries topics of any region (and the
    # offline plan names topics by logical name alone, so two stacks of one region would look alike).
    dev = run_program(
        ROOT,
        "dev",
        {"aws:region": "eu-west-1", **_config("batch-array-notify", {"existingChatConfiguration": PROD_CONFIGURATION})},
    )
    prod = run_program(
        ROOT, "prod", _config("batch-array-notify", {**SLACK, "chatExtraTopicArns": dev.outputs["chatTopicArns"]})
    )

    assert dev.of_type(SLACK_CHANNEL) == dev.of_type(TEAMS_CHANNEL) == []
    assert dev.outputs["chatTopicArns"] == [
        _topic_arn(dev, "batch-array-notify-chat"),
        _topic_arn(dev, "batch-array-notify-completed"),
    ]
    assert "chatConfigurationArns" not in dev.outputs or dev.outputs["chatConfigurationArns"] == []
    (configuration,) = prod.of_type(SLACK_CHANNEL)
    assert configuration.inputs["configurationName"] == PROD_CONFIGURATION
    assert configuration.inputs["snsTopicArns"] == [*prod.outputs["chatTopicArns"], *dev.outputs["chatTopicArns"]]
    assert prod.outputs["chatConfigurationArns"] == [configuration.state["chatConfigurationArn"]]


def test_a_stack_on_an_existing_configuration_still_delivers_to_its_chat_topic_but_creates_no_role():
    plan = run_program(ROOT, "dev", _config("batch-array-notify", {"existingChatConfiguration": PROD_CONFIGURATION}))
    chat_topic = _topic_arn(plan, "batch-array-notify-chat")

    variables = [f.inputs["environment"]["variables"] for f in plan.of_type("aws:lambda/function:Function")]
    assert [v["CHAT_TOPIC_ARN"] for v in variables] == [chat_topic, chat_topic]
    trusted = [r for r in plan.of_type("aws:iam/role:Role") if "chatbot.amazonaws.com" in r.inputs["assumeRolePolicy"]]
    assert trusted == []


def _two_pipelines_on_one_channel() -> None:
    for name in ("render", "encode"):
        BatchArrayPipeline(name, {"slack_workspace_id": "T07EA123LEP", "slack_channel_id": "C07EZ1ABC23"})


def test_two_pipelines_of_one_program_that_each_configure_the_channel_are_refused_naming_the_first():
    with pytest.raises(InvalidArgumentError) as raised:
        run_under_mocks(_two_pipelines_on_one_channel, "shop", "dev")

    assert raised.value.key == "slack_channel_id"
    assert "notifier 'render' of this program configures that channel already" in raised.value.allowed
    assert "existing_chat_configuration='shop-dev-render-slack'" in raised.value.allowed


def test_each_run_of_a_program_is_its_own():
    """Programs planned one after another in one process (as the tools and tests do): a pipeline of the
    second may configure the channel a pipeline of the first configured."""
    for name in ("render", "encode"):
        run_under_mocks(
            lambda name=name: BatchArrayPipeline(
                name, {"slack_workspace_id": "T07EA123LEP", "slack_channel_id": "C07EZ1ABC23"}
            ),
            "shop",
            "dev",
        )


@pytest.mark.parametrize(
    ("values", "key", "says"),
    [
        (
            {**SLACK, "existingChatConfiguration": PROD_CONFIGURATION},
            "existingChatConfiguration",
            "not with batch-array-notify:slackWorkspaceId",
        ),
        ({"chatExtraTopicArns": ["arn:aws:sns:us-east-1:123456789012:x"]}, "chatExtraTopicArns", "only with"),
        ({"existingChatConfiguration": "has spaces"}, "existingChatConfiguration", "1-128 of A-Za-z0-9-_"),
        ({**SLACK, "chatExtraTopicArns": ["arn:aws:sqs:us-east-1:123456789012:x"]}, "chatExtraTopicArns[0]", "SNS"),
    ],
)
def test_a_stack_cannot_both_own_and_borrow_a_configuration(values, key, says):
    with pytest.raises(InvalidArgumentError) as raised:
        run_program(ROOT, "dev", _config("batch-array-notify", values))

    assert raised.value.key == f"batch-array-notify:{key}"
    assert says in str(raised.value)
