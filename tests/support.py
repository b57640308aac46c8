"""Helpers shared by test modules (plain functions; fixtures live in conftest files)."""

from tools.program import Plan

COMPUTE_ENV = "aws:batch/computeEnvironment:ComputeEnvironment"
QUEUE = "aws:batch/jobQueue:JobQueue"


def queued_compute_types(plan: Plan, queue_name: str) -> list[str]:
    """Compute types in the order the queue tries them.

    Registration order under the mock runtime is not deterministic (inputs resolve concurrently), so
    order is read from the queue's `computeEnvironmentOrders`, which is what Batch uses anyway.
    """
    types_by_arn = {env.state["arn"]: env.inputs["computeResources"]["type"] for env in plan.of_type(COMPUTE_ENV)}
    orders = plan.named(QUEUE, queue_name).inputs["computeEnvironmentOrders"]
    return [types_by_arn[order["computeEnvironment"]] for order in sorted(orders, key=lambda o: o["order"])]
