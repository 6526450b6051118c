"""Follow-up work on the queues. The queues are the fast path only: every piece of work is
also on the schedule (the `due` index), so a message that is never sent, or lost, is found
by the sweep."""

from __future__ import annotations

import logging

from chalicelib.domain.consumption import Consumption
from chalicelib.service.context import Context

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
