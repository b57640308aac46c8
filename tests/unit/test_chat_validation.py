"""The chat keys: checked before any resource, in the service's own formats, complete pairs and triples;
and the component declares nothing of chat without them."""

from __future__ import annotations

import re
from pathlib import Path

import botocore.loaders
import pytest

from batch_array_notify import BatchArrayPipeline, validation
from batch_array_notify.chat import ChatSettings, SlackChannel, TeamsChannel, chat_delivery, configuration_name
from batch_array_notify.cli.plan import main as plan_main
from batch_array_notify.testing.program import run_under_mocks
from batch_array_notify.validation import InvalidArgumentError, resolve_args
from tests.support import SLACK_CHANNEL, TEAMS_CHANNEL, TOPIC

ROOT = Path(__file__).resolve().parents[2]
SLACK = {"slack_workspace_id": "T07EA123LEP", "slack_channel_id": "C07EZ1ABC23"}
TEAMS = {
    "teams_tenant_id": "00000000-1111-2222-3333-444444444444",
    "teams_team_id": "55555555-6666-7777-8888-999999999999",
    "teams_channel_id": "19%3Aabc123def456%40thread.tacv2",
}
#: Our rule for each key, and the shape of the service's API model that must accept the same values.
API_SHAPES = {
    "slack_workspace_id": ("CreateSlackChannelConfigurationRequest", "SlackTeamId"),
    "slack_channel_id": ("CreateSlackChannelConfigurationRequest", "SlackChannelId"),
    "teams_tenant_id": ("CreateTeamsChannelConfigurationRequest", "TenantId"),
    "teams_team_id": ("CreateTeamsChannelConfigurationRequest", "TeamId"),
    "teams_channel_id": ("CreateTeamsChannelConfigurationRequest", "ChannelId"),
}

#: (arguments, the key the error must name, a fragment of what it says)
INVALID = [
    ({"slack_channel_id": "C07EZ1ABC23"}, "slack_channel_id", "needs slack_workspace_id too (both or neither)"),
    ({"slack_workspace_id": "T07EA123LEP"}, "slack_workspace_id", "needs slack_channel_id too"),
    ({**SLACK, "slack_workspace_id": "t07ea123lep"}, "slack_workspace_id", "capitals and digits"),
    ({**SLACK, "slack_channel_id": "#builds"}, "slack_channel_id", "letters and digits"),
    ({**SLACK, "slack_channel_id": 42}, "slack_channel_id", "letters and digits"),
    ({**SLACK, "slack_channel_id": "C" * 256}, "slack_channel_id", "letters and digits"),
    (
        {"teams_team_id": TEAMS["teams_team_id"]},
        "teams_team_id",
        "needs teams_tenant_id and teams_channel_id too (all three or none)",
    ),
    ({**TEAMS, "teams_tenant_id": "contoso.onmicrosoft.com"}, "teams_tenant_id", "a UUID"),
    ({**TEAMS, "teams_team_id": "55555555666677778888999999999999"}, "teams_team_id", "a UUID"),
    ({**TEAMS, "teams_channel_id": "19:abc123def456@thread.tacv2"}, "teams_channel_id", "URL-encoded"),
]


@pytest.mark.parametrize(("args", "key", "says"), INVALID, ids=[f"{case[1]}-{n}" for n, case in enumerate(INVALID)])
def test_a_bad_chat_argument_names_its_key(args, key, says):
    with pytest.raises(InvalidArgumentError) as raised:
        resolve_args(args)

    assert raised.value.key == key
    assert says in str(raised.value)


def test_the_keys_resolve_to_the_channels():
    assert resolve_args({}).chat is None
    assert resolve_args(SLACK).chat == ChatSettings(SlackChannel("T07EA123LEP", "C07EZ1ABC23"), None)
    assert resolve_args(TEAMS).chat == ChatSettings(None, TeamsChannel(*TEAMS.values()))
    assert resolve_args({**SLACK, **TEAMS}).chat == ChatSettings(
        SlackChannel("T07EA123LEP", "C07EZ1ABC23"), TeamsChannel(*TEAMS.values())
    )


@pytest.mark.parametrize("key", API_SHAPES)
def test_the_formats_are_the_services(key):
    """Each rule is the pattern and length of the service's API model (botocore's copy of it)."""
    operation, member = API_SHAPES[key]
    model = botocore.loaders.Loader().load_service_model("chatbot", "service-2")
    shape = model["shapes"][model["shapes"][operation]["members"][member]["shape"]]
    pattern, _ = validation.CHAT_KEYS[key]

    assert pattern.pattern == f"^{shape['pattern']}$"
    if shape["pattern"].startswith("[0-9A-Fa-f]{8}"):
        assert shape["min"] == shape["max"] == 36  # a UUID: the pattern fixes the length
    else:
        assert (shape["min"], shape["max"]) == (1, validation.CHAT_ID_MAX)


def test_the_config_error_names_the_config_key_and_declares_nothing(capsys):
    with pytest.raises(SystemExit) as exited:
        plan_main(["--stack", "dev", "--config", "batch-array-notify:slackChannelId=C07EZ1ABC23"])

    captured = capsys.readouterr()
    assert exited.value.code == 2
    assert captured.out == ""
    line = (
        "error: batch-array-notify:slackChannelId: 'C07EZ1ABC23' is not allowed; "
        "needs batch-array-notify:slackWorkspaceId too (both or neither)"
    )
    assert captured.err == line + "\n"
    # docs/chat.md shows this very line.
    assert line in (ROOT / "docs" / "chat.md").read_text()


def test_the_component_declares_nothing_when_a_chat_key_is_bad():
    def program() -> None:
        with pytest.raises(InvalidArgumentError):
            BatchArrayPipeline("etl", {**SLACK, "slack_channel_id": "#builds"})

    assert run_under_mocks(program, "p", "dev").resources == []


def _chat_only(settings: ChatSettings | None):
    import pulumi  # noqa: PLC0415 (inside the mocked program)

    class Parent(pulumi.ComponentResource):
        def __init__(self) -> None:
            super().__init__("test:index:Parent", "etl")

    def program() -> None:
        chat_delivery("etl", settings, "arn:aws:kms:us-east-1:123456789012:key/k", "arn:aws:sns:x:1:a", {}, Parent())

    return run_under_mocks(program, "p", "dev")


def test_no_channel_no_resource():
    assert [resource.type for resource in _chat_only(None).resources] == ["test:index:Parent"]


@pytest.mark.parametrize(("slack", "teams"), [(True, False), (False, True)], ids=["slack-only", "teams-only"])
def test_only_the_configured_application_gets_a_configuration(slack, teams):
    settings = ChatSettings(
        SlackChannel("T07EA123LEP", "C07EZ1ABC23") if slack else None,
        TeamsChannel(*TEAMS.values()) if teams else None,
    )

    plan = _chat_only(settings)

    assert len(plan.of_type(SLACK_CHANNEL)) == int(slack)
    assert len(plan.of_type(TEAMS_CHANNEL)) == int(teams)
    assert len(plan.of_type(TOPIC)) == 1


def test_configuration_names_fit_the_api_and_stay_distinct():
    long = configuration_name("p" * 130, "stack", "etl", "slack")
    other = configuration_name("p" * 130, "stack", "etl2", "slack")

    assert len(long) == 128
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,128}", long)
    assert long != other
    assert configuration_name("my.project", "dev", "etl", "teams") == "my-project-dev-etl-teams"


def test_a_long_configuration_name_is_the_same_in_every_release():
    """The name is the configuration's physical name: were it to change (a longer hash, say), the next
    `pulumi up` would replace the channel's configuration, and AWS allows one per channel per account."""
    long = configuration_name("p" * 130, "stack", "etl", "slack")

    assert long == "p" * 117 + "-6547a952ca"


def test_an_id_of_the_longest_length_the_service_allows_is_accepted_and_one_more_is_not():
    longest = "C" * validation.CHAT_ID_MAX

    assert resolve_args({**SLACK, "slack_channel_id": longest}).chat == ChatSettings(
        SlackChannel("T07EA123LEP", longest), None
    )
    with pytest.raises(InvalidArgumentError, match="slack_channel_id"):
        resolve_args({**SLACK, "slack_channel_id": longest + "C"})
