"""Lambda code asset: tells users, exactly once, that an AWS Batch array job has finished.

Deployed as a package (handler setting `handler.app.handler`), so modules import each other absolutely.
"""
