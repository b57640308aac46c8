"""One notifier for an organisation, in one program (docs/organization.md): the central
ArrayCompletionNotifier in this program's account (the default provider), and a BatchEventForwarder in
each of two member accounts, each through an `aws.Provider` that assumes the member's
OrganizationAccountAccessRole (the role AWS Organizations creates in an account it creates).

The central stack names each member's read role before it exists: a forwarder names its read role
`<forwarder name>-read`, so its ARN is known from the account id alone. The forwarders need the central
side's bus and roles, which exist first (they are Outputs of the notifier): IAM refuses a trust naming a
role that does not exist yet.
"""

import pulumi
import pulumi_aws as aws

from batch_array_notify import ArrayCompletionNotifier, BatchEventForwarder

stage = pulumi.get_stack()
config = pulumi.Config()
organization_id = config.require("organizationId")
#: Forwarder name -> (its account's config key, the region its Batch queues run in).
MEMBERS = {"render": ("renderAccountId", "eu-west-1"), "encode": ("encodeAccountId", "us-east-1")}
accounts = {name: config.require(key) for name, (key, _) in MEMBERS.items()}


def read_role_arn(forwarder: str) -> str:
    """The read role a forwarder declares in its account (named `<forwarder>-read`)."""
    return f"arn:aws:iam::{accounts[forwarder]}:role/{forwarder}-read"


# The bus policy names the two accounts (under the accounts a policy holds: `intakeBusAccountCapacity`).
central = ArrayCompletionNotifier(
    "central",
    {
        "stage": stage,
        "job_queue_arns": [],
        "member_accounts": [
            {"account_id": accounts[name], "read_role_arn": read_role_arn(name), "regions": [region]}
            for name, (_, region) in MEMBERS.items()
        ],
        "name_prefix": f"org-{stage}",
    },
)
central_roles = [central.notifier_role_arn]
if central.sweep_role_arn is not None:
    central_roles.append(central.sweep_role_arn)

for name, (_, region) in MEMBERS.items():
    member = aws.Provider(
        f"{name}-account",
        region=region,
        assume_roles=[
            {
                "role_arn": f"arn:aws:iam::{accounts[name]}:role/OrganizationAccountAccessRole",
                "session_name": "batch-array-notify",
            }
        ],
        # A wrong role or a copied id never deploys into another account.
        allowed_account_ids=[accounts[name]],
    )
    forwarder = BatchEventForwarder(
        name,
        {
            "central_bus_arn": central.intake_bus_arn,
            "central_notifier_role_arns": central_roles,
            "organization_id": organization_id,
        },
        opts=pulumi.ResourceOptions(providers=[member]),
    )
    pulumi.export(f"{name}ForwarderRuleArn", forwarder.rule_arn)
    pulumi.export(f"{name}ReadRoleArn", forwarder.read_role_arn)

pulumi.export("intakeBusArn", central.intake_bus_arn)
pulumi.export("intakeBusAccountCapacity", central.intake_bus_account_capacity)
pulumi.export("topicArn", central.topic_arn)
