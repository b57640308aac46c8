"""Lambda code asset: tells users, exactly once, that an AWS Batch array job has finished.

Shipped inside the component package as `batch_array_notify.handler` and deployed on its own as the
top-level package `handler` (handler setting `handler.app.handler`): modules import each other
relatively, so both work.
"""
