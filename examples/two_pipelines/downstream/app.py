"""Example downstream step: receives the normalized completion event of the encode pipeline.

EventBridge delivers at least once: use (jobId, status) as the idempotency key of whatever this does.
"""

import json


def handler(event: dict, context: object) -> dict:
    detail = event["detail"]
    print(json.dumps({"jobId": detail["jobId"], "status": detail["status"], "counts": detail["counts"]}))
    return {"jobId": detail["jobId"], "status": detail["status"]}
