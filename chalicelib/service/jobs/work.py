"""Follow-up work on the queues. The queues are the fast path only: every piece of work is
also on the schedule (the `due` index), so a message that is never sent, or lost, is found
by the sweep."""

from __future__ import annotations

import logging

from chalicelib.domain.escrow.consumption import Consumption
from chalicelib.service.context import Context
from chalicelib.service.ports import SweepTask

log = logging.getLogger(__name__)


def publish_settlement(ctx: Context, consumption: Consumption, *, redrive: str = "") -> None:
    """Queue the consumption's next settlement step; if the queue is unreachable the sweep
    will find the work anyway."""
    try:
        ctx.publisher.publish_settlement(
            consumption.order_id, consumption.consumption_id, consumption.attempt,
            redrive=redrive,
        )
    except Exception:
        log.exception("settlement of %s not queued; the sweep will re-drive it",
                      consumption.consumption_id)


def run_now(ctx: Context, job: str) -> int:
    """Queue a run of a scheduled job now, one task per shard of the schedule (the fast path
    of work that is due at once); if the queue is unreachable the job's next scheduled run
    does it."""
    tasks = [SweepTask(job, shard, ctx.now()) for shard in range(ctx.schedule.shards)]
    try:
        for task in tasks:
            ctx.publisher.publish_sweep(task)
    except Exception:
        log.exception("a run of %s not queued; its next scheduled run does the work", job)
        return 0
    return len(tasks)
