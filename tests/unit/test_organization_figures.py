"""docs/organization.md's limits are the code's: the accounts the intake bus policy names before
`organizationId` is needed, the policy quota and the pattern size."""

import re
from pathlib import Path

from batch_array_notify.event_pattern import MAX_PATTERN_CHARS
from batch_array_notify.intake_bus import MAX_BUS_POLICY_CHARS, accounts_fitting_policy

PAGE = (Path(__file__).resolve().parents[2] / "docs" / "organization.md").read_text()


def limits() -> str:
    """The Limits section, joined into one line (the prose wraps anywhere)."""
    section = PAGE[PAGE.index("## Limits") :].split("\n## ", 1)[0]
    return re.sub(r"\s+", " ", section)


def test_the_accounts_the_bus_policy_names_are_what_the_code_counts():
    assert re.findall(r"at most (\d+) accounts", limits()) == [str(accounts_fitting_policy())]


def test_the_quotas_are_the_codes():
    assert f"at most {MAX_BUS_POLICY_CHARS:,} characters" in limits()
    assert f"at most {MAX_PATTERN_CHARS:,} characters" in limits()
