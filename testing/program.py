"""Run a Pulumi program under the SDK's mock runtime and record what the engine would receive.

One code path for the offline plan, the rehearsal and the stack tests, so none of them carries a copy
of the program's logic. It does what the Pulumi CLI does before the program starts: take the project
name from `Pulumi.yaml`, apply its config defaults, overlay `Pulumi.<stack>.yaml` and the caller's
overrides. The mocks answer like AWS would in shape: realistic ARNs, auto-named physical names.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import json
import logging
import os
import re
import runpy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import settings as pulumi_settings

from batch_array_notify.notifier import POWERTOOLS_VERSION, powertools_layer_arn
from batch_array_notify.stack_checks import (
    StackConfigError,
    check_config_keys,
    check_region,
    read_project_file,
    read_stack_file,
)
from batch_array_notify.stack_checks import UnknownConfigKeyError as UnknownKeyError

ROOT = Path(__file__).resolve().parent.parent
MOCK_ACCOUNT = "123456789012"
DEFAULT_REGION = "us-east-1"
SECRET_SIG = "4dabf18193072939515e22adb298388d"
_log = logging.getLogger(__name__)


class ProgramError(Exception):
    """The program or its stack files could not be loaded (not a config validation error)."""


class UnknownConfigKeyError(ProgramError):
    """A key in the project's namespace that `Pulumi.yaml` does not declare: the CLI refuses it, so do we."""


@dataclass(frozen=True)
class PlannedResource:
    type: str
    name: str
    parent: tuple[str, str] | None
    inputs: dict[str, Any]
    state: dict[str, Any]
    id: str | None = None
    provider: str | None = None
    """An explicit provider's reference, `<its urn>::<its id>`; None: the default provider."""
    urn: str = ""
    """The URN the Pulumi engine gives the resource (see `engine_urn`), its identity in the stack's state."""
    aliases: tuple[str, ...] = ()
    """URNs the resource also answers to (its `aliases` option, resolved as the engine resolves them): a
    resource whose alias is an existing resource's URN takes that resource over instead of replacing it."""
    delete_before_replace: bool = False
    """Its `delete_before_replace` option: a replacement deletes it first (a fixed name cannot exist twice)."""
    outputs: dict[str, Any] = field(default_factory=dict)
    """A component's registered outputs (`register_outputs`); empty for other resources."""
    revealed_inputs: dict[str, Any] = field(default_factory=dict, repr=False)
    """`inputs` with secrets in the clear, for an offline tool that acts on them (the organisation's
    rehearsal needs the external id); never printed (`to_json` leaves it out)."""

    def to_json(self) -> dict[str, Any]:
        parent = None if self.parent is None else {"type": self.parent[0], "name": self.parent[1]}
        document: dict[str, Any] = {
            "type": self.type,
            "name": self.name,
            "urn": self.urn,
            "parent": parent,
            "inputs": self.inputs,
        }
        if self.aliases:
            document["aliases"] = list(self.aliases)
        if self.delete_before_replace:
            document["deleteBeforeReplace"] = True
        return document


@dataclass
class Plan:
    project: str
    stack: str
    resources: list[PlannedResource] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)

    def of_type(self, type_token: str) -> list[PlannedResource]:
        return [resource for resource in self.resources if resource.type == type_token]

    def one(self, type_token: str) -> PlannedResource:
        found = self.of_type(type_token)
        if len(found) != 1:
            raise AssertionError(f"expected one {type_token}, found {len(found)}")
        return found[0]

    def by_urn(self) -> dict[str, PlannedResource]:
        return {resource.urn: resource for resource in self.resources}

    def ancestors(self, resource: PlannedResource) -> list[PlannedResource]:
        """The resource's parent, its parent's parent, ..., up to (not including) the stack."""
        by_urn, chain = self.by_urn(), []
        urn = _parent_urn(resource.urn, resource.parent)
        while urn in by_urn:
            chain.append(by_urn[urn])
            urn = _parent_urn(urn, by_urn[urn].parent)
        return chain

    def children(self, resource: PlannedResource) -> list[PlannedResource]:
        """The resources whose parent is `resource` (a component's own resources, not their children)."""
        return [child for child in self.resources if _parent_urn(child.urn, child.parent) == resource.urn]

    def named(self, type_token: str, name: str) -> PlannedResource:
        """The one resource of `type_token` with logical name `name`."""
        found = [resource for resource in self.of_type(type_token) if resource.name == name]
        if len(found) != 1:
            names = [resource.name for resource in self.of_type(type_token)]
            raise AssertionError(f"expected one {type_token} named {name}, found {len(found)} among {names}")
        return found[0]

    def to_json(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "stack": self.stack,
            "resources": [resource.to_json() for resource in self.resources],
            "outputs": self.outputs,
        }


# --------------------------------------------------------------------------------------------------
# Config, as the CLI would hand it to the program


def load_project(program_dir: Path) -> dict[str, Any]:
    path = program_dir / "Pulumi.yaml"
    if not path.is_file():
        raise ProgramError(f"no Pulumi.yaml in {program_dir}")
    try:
        return read_project_file(path)
    except StackConfigError as error:
        raise ProgramError(str(error)) from None


def _config_value(value: Any) -> str:
    # The engine hands every value to the program as a string; structured values as JSON.
    return value if isinstance(value, str) else json.dumps(value)


def stack_config(program_dir: Path, stack: str, overrides: Mapping[str, str] = {}) -> dict[str, str]:
    """Project defaults, then `Pulumi.<stack>.yaml`, then overrides: fully qualified keys, string values.

    Read as strictly as `stack_checks` reads them for `pulumi up` too; a stack without `aws:region` plans
    for AWS_REGION (or AWS_DEFAULT_REGION), as the provider would, and is refused when neither is set:
    the provider's other source, the AWS profile, is not something an offline plan should guess from."""
    project = load_project(program_dir)
    name = project["name"]
    config: dict[str, str] = {}
    for key, schema in (project.get("config") or {}).items():
        if isinstance(schema, dict) and "default" in schema:
            qualified = key if ":" in key else f"{name}:{key}"
            config[qualified] = _config_value(schema["default"])
    stack_file = program_dir / f"Pulumi.{stack}.yaml"
    if not stack_file.is_file():
        raise ProgramError(f"no stack file {stack_file.name} in {program_dir}")
    sources: dict[str, str] = {}
    try:
        for key, value in read_stack_file(stack_file).items():
            qualified = key if ":" in key else f"{name}:{key}"
            config[qualified], sources[qualified] = _config_value(value), stack_file.name
        for key, value in overrides.items():
            qualified = key if ":" in key else f"{name}:{key}"
            config[qualified], sources[qualified] = value, "--config"
        check_config_keys(sources, name, declared_keys(project))
        region = config.get("aws:region")
        if region is None:
            config["aws:region"] = _region_from_environment(stack_file.name)
        elif config.get("aws:skipRegionValidation") != "true":
            check_region(region, sources["aws:region"])
    except StackConfigError as error:
        raise (UnknownConfigKeyError if isinstance(error, UnknownKeyError) else ProgramError)(str(error)) from None
    return config


def _region_from_environment(stack_file: str) -> str:
    for variable in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        if os.environ.get(variable):
            return check_region(os.environ[variable], variable)
    raise StackConfigError(
        f"{stack_file}: aws:region is not set, nor AWS_REGION: set it, e.g. "
        f"`pulumi config set aws:region {DEFAULT_REGION}` (or --config aws:region={DEFAULT_REGION})"
    )


def declared_keys(project: Mapping[str, Any]) -> frozenset[str]:
    """The project's own config keys as `Pulumi.yaml` declares them (short names, no namespace)."""
    return frozenset(key for key in (project.get("config") or {}) if ":" not in key)


# --------------------------------------------------------------------------------------------------
# Mocks


def _auto_name(logical: str, type_token: str) -> str:
    """Pulumi appends 7 random hex characters to the logical name; here they are derived, for stable plans."""
    return f"{logical}-{hashlib.sha256(f'{type_token}::{logical}'.encode()).hexdigest()[:7]}"


def _arn_and_extras(type_token: str, name: str, region: str, account: str = MOCK_ACCOUNT) -> dict[str, Any]:
    prefix = f"arn:aws:{{}}:{region}:{account}:"
    service_arns = {
        "aws:batch/computeEnvironment:ComputeEnvironment": prefix.format("batch") + f"compute-environment/{name}",
        "aws:batch/jobQueue:JobQueue": prefix.format("batch") + f"job-queue/{name}",
        "aws:cloudwatch/eventRule:EventRule": prefix.format("events") + f"rule/{name}",
        "aws:cloudwatch/eventBus:EventBus": prefix.format("events") + f"event-bus/{name}",
        "aws:cloudwatch/logGroup:LogGroup": prefix.format("logs") + f"log-group:{name}",
        "aws:cloudwatch/metricAlarm:MetricAlarm": prefix.format("cloudwatch") + f"alarm:{name}",
        "aws:lambda/function:Function": prefix.format("lambda") + f"function:{name}",
        "aws:sns/topic:Topic": prefix.format("sns") + name,
        "aws:sqs/queue:Queue": prefix.format("sqs") + name,
        "aws:dynamodb/table:Table": prefix.format("dynamodb") + f"table/{name}",
        "aws:kms/key:Key": prefix.format("kms") + f"key/{hashlib.md5(name.encode()).hexdigest()}",
        "aws:iam/role:Role": f"arn:aws:iam::{account}:role/{name}",
        "aws:iam/instanceProfile:InstanceProfile": f"arn:aws:iam::{account}:instance-profile/{name}",
        "aws:iam/policy:Policy": f"arn:aws:iam::{account}:policy/{name}",
    }
    extras: dict[str, Any] = {}
    if type_token == "aws:batch/jobDefinition:JobDefinition":
        arn_prefix = prefix.format("batch") + f"job-definition/{name}"
        extras = {"arn": f"{arn_prefix}:1", "arnPrefix": arn_prefix, "revision": 1}
    elif type_token in service_arns:
        extras = {"arn": service_arns[type_token]}
    if type_token == "aws:sqs/queue:Queue":
        extras["url"] = f"https://sqs.{region}.amazonaws.com/{account}/{name}"
    if type_token == "aws:lambda/function:Function":
        extras["invokeArn"] = (
            f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{extras['arn']}/invocations"
        )
    if type_token == "aws:kms/key:Key":
        extras["keyId"] = extras["arn"].rsplit("/", 1)[-1]
    if type_token == "aws:sns/topicSubscription:TopicSubscription":
        extras["arn"] = prefix.format("sns") + f"{name}:{hashlib.md5(name.encode()).hexdigest()}"
    return extras


#: Resources whose AWS provider ID is their name (the rest use their ARN, a URL or a generated ID).
ID_IS_NAME = frozenset(
    {
        "aws:iam/role:Role",
        "aws:iam/instanceProfile:InstanceProfile",
        "aws:cloudwatch/logGroup:LogGroup",
        "aws:cloudwatch/eventRule:EventRule",
        "aws:cloudwatch/metricAlarm:MetricAlarm",
        "aws:dynamodb/table:Table",
        "aws:lambda/function:Function",
        "aws:batch/computeEnvironment:ComputeEnvironment",
    }
)


def _physical_id(type_token: str, name: str, state: Mapping[str, Any]) -> str:
    if type_token in ID_IS_NAME:
        return name
    if type_token == "aws:ec2/securityGroup:SecurityGroup":
        return "sg-" + hashlib.sha256(name.encode()).hexdigest()[:17]
    if type_token == "aws:sqs/queue:Queue":
        return str(state["url"])
    return str(state.get("arn") or name)


CHAT_CONFIGURATION_KINDS = {
    "aws:chatbot/slackChannelConfiguration:SlackChannelConfiguration": "slack-channel",
    "aws:chatbot/teamsChannelConfiguration:TeamsChannelConfiguration": "microsoft-teams-channel",
}
#: A Powertools release whose layer version AWS is known to publish (powertools-lambda-python#7689: 3.23.0
#: is version 27 of each layer); the mock counts one layer version per minor release from there.
KNOWN_POWERTOOLS_LAYER = ((3, 23), 27)
POWERTOOLS_PARAMETER_PATH = re.compile(r"^/aws/service/powertools/python/(arm64|x86_64)/(python3\.\d+)/(.+)$")


def powertools_parameter_answer(name: str, region: str) -> dict[str, Any]:
    """GetParameter of Powertools' public parameter, in the shape AWS answers (a String whose value is the
    layer ARN); any other name answers ParameterNotFound, as AWS does."""
    match = POWERTOOLS_PARAMETER_PATH.match(name)
    if match is None:
        raise ProgramError(f"ParameterNotFound: the offline plan knows no SSM parameter {name}")
    architecture, runtime, release = match.groups()
    major, minor = (int(part) for part in (POWERTOOLS_VERSION if release == "latest" else release).split(".")[:2])
    (known_major, known_minor), known_version = KNOWN_POWERTOOLS_LAYER
    layer = powertools_layer_arn(region, architecture, runtime, known_version + minor - known_minor)
    if major != known_major:
        raise ProgramError(f"ParameterNotFound: no Powertools V3 layer parameter {name}")
    return {
        "id": name,
        "name": name,
        "type": "String",
        "value": layer,
        "insecureValue": layer,
        "arn": f"arn:aws:ssm:{region}::parameter{name}",
        "version": 1,
        "withDecryption": True,
    }


def _assumed_account(assume_roles: Any) -> str | None:
    """The account a provider works in when it assumes roles (its `assumeRoles`, JSON as the engine hands
    provider inputs): the last role's, as the provider chains them in order."""
    roles = json.loads(assume_roles) if isinstance(assume_roles, str) else assume_roles
    found = [role.get("role_arn") or role.get("roleArn") for role in roles or [] if isinstance(role, dict)]
    arns = [arn for arn in found if isinstance(arn, str) and arn.count(":") >= 5]
    return arns[-1].split(":")[4] if arns else None


class PlanMocks(pulumi.runtime.Mocks):
    """Answers resource registrations and data-source calls the way AWS would, in shape; a
    `pulumi.StackReference` to a stack of `stack_outputs` reads that stack's outputs."""

    def __init__(
        self, region: str, stack_outputs: Mapping[str, Mapping[str, Any]] = {}, account: str = MOCK_ACCOUNT
    ) -> None:
        self.region = region
        self.account = account
        self.stack_outputs = stack_outputs
        self.provider_regions: dict[str, str] = {}
        self.provider_accounts: dict[str, str] = {}

    def _region_of(self, provider: str | None) -> str:
        # A provider reference is "<urn>::<id>"; explicit providers may target another region.
        return self.provider_regions.get((provider or "").rsplit("::", 1)[-1], self.region)

    def _account_of(self, provider: str | None) -> str:
        # ... and another account, through the roles they assume.
        return self.provider_accounts.get((provider or "").rsplit("::", 1)[-1], self.account)

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        if args.typ.startswith("pulumi:providers:"):
            provider_id = f"{args.name}-provider-id"
            self.provider_regions[provider_id] = str(args.inputs.get("region") or self.region)
            self.provider_accounts[provider_id] = _assumed_account(args.inputs.get("assumeRoles")) or self.account
            return provider_id, dict(args.inputs)
        if args.typ == "pulumi:pulumi:StackReference":
            stack = str(args.resource_id or args.inputs.get("name"))
            if stack not in self.stack_outputs:
                raise ProgramError(f"the offline plan knows no stack {stack!r} to reference")
            return stack, {"name": stack, "outputs": dict(self.stack_outputs[stack]), "secretOutputNames": []}
        name = args.inputs.get("name") or _auto_name(args.name, args.typ)
        state = {
            **args.inputs,
            "name": name,
            **_arn_and_extras(args.typ, name, self._region_of(args.provider), self._account_of(args.provider)),
        }
        if args.typ in CHAT_CONFIGURATION_KINDS:
            # Account-wide, named by configurationName (the chatbot API reference's ChatConfigurationArn).
            kind = CHAT_CONFIGURATION_KINDS[args.typ]
            configuration = args.inputs["configurationName"]
            state["chatConfigurationArn"] = f"arn:aws:chatbot::{self.account}:chat-configuration/{kind}/{configuration}"
        return _physical_id(args.typ, name, state), state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        region, account = self._region_of(args.provider), self._account_of(args.provider)
        default_vpc = "vpc-0d3fa017b0e2c5a10"
        answers: dict[str, dict[str, Any]] = {
            "aws:index/getRegion:getRegion": {"region": region, "name": region, "id": region},
            "aws:index/getPartition:getPartition": {
                "partition": "aws",
                "dnsSuffix": "amazonaws.com",
                "id": "aws",
            },
            "aws:index/getCallerIdentity:getCallerIdentity": {
                "accountId": account,
                "arn": f"arn:aws:iam::{account}:user/planner",
                "userId": "AIDAPLANNER",
                "id": account,
            },
            "aws:ec2/getVpc:getVpc": {"id": default_vpc, "default": True, "cidrBlock": "172.31.0.0/16"},
            "aws:ec2/getSubnets:getSubnets": {
                "id": region,
                "ids": [f"subnet-0default{zone}{region.replace('-', '')}"[:24] for zone in "abc"],
                "filters": args.args.get("filters"),
            },
            "aws:ec2/getSubnet:getSubnet": {"id": args.args.get("id"), "vpcId": "vpc-0f1e2d3c4b5a69788"},
        }
        if args.token == "aws:ssm/getParameter:getParameter":
            answers[args.token] = powertools_parameter_answer(str(args.args["name"]), region)
        if args.token not in answers:
            raise NotImplementedError(f"the offline plan has no mock for data source {args.token}")
        # No check failures; `None` here makes the SDK iterate None (pulumi 3.272 mocks.py).
        return answers[args.token], []


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """Also keeps each registration's parent and aliases, which `MockResourceArgs` does not carry, and
    the outputs components register."""

    def __init__(self, mocks: PlanMocks) -> None:
        super().__init__(mocks)
        self.registrations: list[tuple[Any, Any]] = []
        self.component_outputs: dict[str, dict[str, Any]] = {}

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type != "pulumi:pulumi:Stack":
            self.registrations.append((request, response))
        return response

    def RegisterResourceOutputs(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
        self.component_outputs[request.urn] = pulumi.runtime.rpc.deserialize_properties(request.outputs)
        return super().RegisterResourceOutputs(request)  # type: ignore[no-untyped-call]


ROOT_STACK_TYPE = "pulumi:pulumi:Stack"


def engine_urn(stack: str, project: str, parent_urn: str | None, type_token: str, name: str) -> str:
    """The URN the engine computes: the parent's whole type chain, `$`, the type (nothing for the stack).

    The SDK's mock monitor keeps only the parent's last type and prefixes the stack's own type, so its
    URNs differ from the engine's for nested components; state, aliases and `pulumi up` use these.
    """
    qualified = type_token
    if parent_urn is not None:
        parent_type = parent_urn.split("::")[2]
        if parent_type != ROOT_STACK_TYPE:
            qualified = f"{parent_type}${type_token}"
    return f"urn:pulumi:{stack}::{project}::{qualified}::{name}"


def _parent_urn(urn: str, parent: tuple[str, str] | None) -> str | None:
    """The engine URN of the parent of the resource at `urn` (its type chain minus the last type)."""
    if parent is None:
        return None
    head, chain, _ = urn.rsplit("::", 2)
    parent_chain = chain.rpartition("$")[0]
    return f"{head}::{parent_chain}::{parent[1]}" if parent_chain else None


def _engine_urns(stack: str, project: str, registrations: list[tuple[Any, Any]]) -> dict[str, str]:
    """Mock URN -> engine URN for every registration (parents register before their children)."""
    urns: dict[str, str] = {}
    for request, response in registrations:
        parent = urns.get(request.parent) if request.parent else None
        urns[response.urn] = engine_urn(stack, project, parent, request.type, request.name)
    return urns


def _engine_reference(reference: str, urns: Mapping[str, str]) -> str | None:
    """An explicit provider's reference (`<urn>::<id>`) with the engine's URN (`PlannedResource.urn`); None
    for the default provider."""
    if not reference:
        return None
    urn, _, provider_id = reference.rpartition("::")
    return f"{urns.get(urn, urn)}::{provider_id}"


def _alias_urns(stack: str, project: str, request: Any, urns: Mapping[str, str]) -> tuple[str, ...]:
    """The URNs the engine derives from a registration's alias specs (or takes as given)."""
    current_parent = urns.get(request.parent) if request.parent else None
    resolved = []
    for alias in request.aliases:
        if alias.WhichOneof("alias") == "urn":
            resolved.append(alias.urn)
            continue
        spec = alias.spec
        which = spec.WhichOneof("parent")
        parent = None if which == "noParent" else urns.get(spec.parentUrn) if which == "parentUrn" else current_parent
        resolved.append(
            engine_urn(
                spec.stack or stack,
                spec.project or project,
                parent,
                spec.type or request.type,
                spec.name or request.name,
            )
        )
    return tuple(resolved)


def _urn_type_and_name(urn: str) -> tuple[str, str] | None:
    # urn:pulumi:<stack>::<project>::<parentType$...$type>::<name>
    parts = urn.split("::")
    if len(parts) < 4:
        return None
    type_token = parts[2].split("$")[-1]
    return None if type_token == "pulumi:pulumi:Stack" else (type_token, parts[3])


def json_safe(value: Any, *, reveal: bool = False) -> Any:
    """Inputs as the engine sees them, made printable: assets by path, secrets masked (unless `reveal`),
    resources by URN."""
    if isinstance(value, dict):
        if value.get(SECRET_SIG) == "1b47061264138c4ac30d75fd1eb44270":
            return json_safe(value.get("value"), reveal=True) if reveal else "[secret]"
        return {str(key): json_safe(item, reveal=reveal) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item, reveal=reveal) for item in value]
    if isinstance(value, pulumi.AssetArchive):
        return {"assetArchive": {key: json_safe(asset) for key, asset in value.assets.items()}}
    if isinstance(value, (pulumi.FileAsset, pulumi.FileArchive)):
        path = Path(value.path).resolve()
        return {"file": str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)}
    if isinstance(value, pulumi.Resource):
        return {"resource": type(value).__name__}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


# --------------------------------------------------------------------------------------------------
# Running


def _left_behind(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """What a finished run's loop says of a future or task it left behind: one debug line, no traceback."""
    _log.debug("left behind by a mock run: %s", context.get("message", "(no message)"))


def run_under_mocks(
    program: Callable[[], None],
    project: str,
    stack: str,
    config: Mapping[str, str] = {},
    stack_outputs: Mapping[str, Mapping[str, Any]] = {},
    account: str = MOCK_ACCOUNT,
) -> Plan:
    """Run `program` (anything that declares resources) under mocks and record every registration;
    `stack_outputs` are the outputs of the stacks the program may reference (`pulumi.StackReference`);
    `account` is the AWS account the program runs in (its caller identity, the ARNs it is given).

    Exceptions raised by the program propagate, so a validation error surfaces as itself.
    """
    mocks = PlanMocks(config.get("aws:region", DEFAULT_REGION), stack_outputs, account)
    monitor = RecordingMonitor(mocks)

    # Fresh global state per run: the SDK keeps the root stack, config and the event loop in globals.
    loop = asyncio.new_event_loop()
    # A refused run leaves futures whose error nobody retrieved; when the garbage collector finds them,
    # maybe in the middle of a later `ast.parse` (pytest rewriting a test module), asyncio's default handler
    # formats their traceback, and CPython 3.11 before 3.11.8 then parses source inside that parse: the
    # outer one fails with "AST constructor recursion depth mismatch" (gh-106905). The error itself
    # already propagated from `run()`, so the handler records one line and formats nothing.
    loop.set_exception_handler(_left_behind)
    asyncio.set_event_loop(loop)
    pulumi_settings.ROOT.set(None)
    pulumi.runtime.set_all_config(dict(config))
    pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=False, monitor=monitor)

    exported: dict[str, Any] = {}

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def run() -> pulumi.Output[Any]:
        program()
        root = pulumi.runtime.get_root_resource()
        outputs = getattr(root, "outputs", {}) or {}
        return pulumi.Output.all(**{key: pulumi.Output.from_input(value) for key, value in outputs.items()}).apply(
            exported.update
        )

    try:
        run()
    finally:
        pulumi.runtime.set_all_config({})
        loop.close()

    plan = Plan(project=project, stack=stack, outputs=json_safe(exported))
    states = monitor.get_registered_resources()
    urns = _engine_urns(stack, project, monitor.registrations)
    for request, response in monitor.registrations:
        registration = states.get(response.urn)
        inputs = pulumi.runtime.rpc.deserialize_properties(request.object)
        plan.resources.append(
            PlannedResource(
                type=request.type,
                name=request.name,
                parent=_urn_type_and_name(request.parent) if request.parent else None,
                inputs=json_safe(inputs),
                revealed_inputs=json_safe(inputs, reveal=True),
                state=json_safe(registration.state if registration else {}),
                id=registration.id if registration else None,
                provider=_engine_reference(request.provider, urns),
                urn=urns[response.urn],
                aliases=_alias_urns(stack, project, request, urns),
                delete_before_replace=request.deleteBeforeReplace,
                outputs=json_safe(monitor.component_outputs.get(response.urn, {})),
            )
        )
    return plan


#: Plans already made in this process, by program folder, stack and config. Under mocks a program is a
#: function of exactly these, and the rehearsal, compare and plan tools each plan the stack again: the
#: suite planned the dev stack dozens of times per process. `forget_plans()` empties it (mutation testing
#: must, after it changes a module in memory).
_PLANS: dict[tuple[str, str, str, str], Plan] = {}


def forget_plans() -> None:
    _PLANS.clear()


def run_program(program_dir: Path, stack: str, overrides: Mapping[str, str] = {}, account: str = MOCK_ACCOUNT) -> Plan:
    """Run `<program_dir>/__main__.py` for `stack` with its project's config, as `pulumi up` would in
    `account` (an organisation's member stacks run in their own accounts).

    Each call returns its own copy, so a caller may change what it gets."""
    program_dir = program_dir.resolve()
    project = str(load_project(program_dir)["name"])
    config = stack_config(program_dir, stack, overrides)
    key = (str(program_dir), stack, json.dumps(dict(config), sort_keys=True), account)

    def main() -> None:
        # Like the CLI's Python host: run the folder, which puts the folder itself first on the import
        # path for the run; the component comes from the installed package, as in any other program.
        runpy.run_path(str(program_dir), run_name="__main__")

    if key not in _PLANS:
        _PLANS[key] = run_under_mocks(main, project, stack, config, account=account)
    return copy.deepcopy(_PLANS[key])
