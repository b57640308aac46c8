"""BatchArrayPipeline's own outputs (components/pipeline.py): what it takes from the notifier it embeds."""

import pulumi

from batch_array_notify import BatchArrayPipeline, BatchArrayPipelineArgs
from batch_array_notify.testing.program import Plan, run_under_mocks
from tests.support import RULE


def exported(args: BatchArrayPipelineArgs) -> Plan:
    def program() -> None:
        for key, output in BatchArrayPipeline("etl", args).outputs().items():
            pulumi.export(key, output)

    return run_under_mocks(program, "etl", "test", {"aws:region": "eu-west-1"})


def test_the_downstream_rule_arn_is_the_pipelines_one_downstream_rule_and_absent_without_one():
    downstream = {"code_path": __file__, "handler": "test_pipeline.handler"}
    plan = exported({"downstream_function": downstream})  # type: ignore[typeddict-item]

    assert plan.outputs["downstream_rule_arn"] == plan.named(RULE, "etl-downstream").state["arn"]
    assert exported({}).outputs.get("downstream_rule_arn") is None
