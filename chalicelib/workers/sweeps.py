"""The sweep queue consumer: each message is one shard of one scheduled job's run
(chalicelib/service/jobs/sweeps.py), run within a time budget; the rest is queued again as a
continuation, so a backlog of any size drains across invocations, shards in parallel."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

from chalice.app import Blueprint, SQSEvent

from chalicelib import bootstrap
from chalicelib.service.jobs import sweeps
from chalicelib.service.jobs.messages import SweepMessage
from chalicelib.workers.batches import handle_in_order

sweep_worker = Blueprint(__name__)

QUEUE_NAME = os.environ.get("SWEEP_QUEUE_NAME", "local-sweep.fifo")
BUDGET = timedelta(seconds=20)
"""Of the sweep function's 60 s timeout (.chalice/config.json): the time a page may overrun
it, and the continuation's send, fit in the rest."""


@sweep_worker.on_sqs_message(queue=QUEUE_NAME, batch_size=1, name="sweep")
def handle_sweep(event: SQSEvent) -> dict[str, Any]:
    return process_batch(event.to_dict().get("Records", []))


def process_batch(records: list[dict[str, Any]]) -> dict[str, Any]:
    ctx = bootstrap.context()

    def run(message: SweepMessage) -> str:
        """The outcome for the log; empty when the shard had nothing due."""
        report = sweeps.run(ctx, message.task(), budget=BUDGET)
        if report.continuation is not None:
            ctx.publisher.publish_sweep(report.continuation)
        if not (report.handled or report.failed or report.continuation):
            return ""
        return (f"{message.job} shard {message.shard}: {report.handled} handled, "
                f"{report.failed} failed{', continued' if report.continuation else ''}")

    return handle_in_order(records, SweepMessage, run)
