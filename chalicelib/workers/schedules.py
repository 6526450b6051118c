"""Scheduled jobs: each fans a run of its job out over the sweep queue, one task per shard
of the schedule (chalicelib/service/jobs/sweeps.py). The settlement sweeper (releases, refund
payouts, returns of unmatched money, freeze markers, liquidations, complaints to route and
notices to push) also reports how many releases are parked for review, which the province
stack alarms on. Complaints' clocks run with the other working-day deadlines."""

from __future__ import annotations

import logging

from chalice.app import Blueprint, CloudWatchEvent, Rate

from chalicelib import bootstrap
from chalicelib.service.escrow import parked
from chalicelib.service.jobs import sweeps
from chalicelib.service.supervision import reconciliations

log = logging.getLogger(__name__)

scheduled_jobs = Blueprint(__name__)

NEEDS_REVIEW_METRIC = "ConsumptionsNeedingReview"


@scheduled_jobs.schedule(Rate(15, unit=Rate.MINUTES), name="auto_confirm")
def auto_confirm(event: CloudWatchEvent) -> int:
    ctx = bootstrap.context()  # silence confirms lessons, escalates disputes, approves
    return sum(sweeps.fan_out(ctx, job)  # refunds; complaints' clocks remind and escalate
               for job in ("autoconfirm", "disputeescalate", "refunddecide", "complaintdue"))


@scheduled_jobs.schedule(Rate(5, unit=Rate.MINUTES), name="expire_orders")
def expire_orders(event: CloudWatchEvent) -> int:
    return sweeps.fan_out(bootstrap.context(), "expire")


@scheduled_jobs.schedule(Rate(5, unit=Rate.MINUTES), name="settlement_sweeper")
def settlement_sweeper(event: CloudWatchEvent) -> int:
    ctx = bootstrap.context()
    ctx.metrics.gauge(NEEDS_REVIEW_METRIC, parked.count(ctx))
    return sum(sweeps.fan_out(ctx, job)
               for job in ("settle", "refund", "returnpayment", "freezefanout", "liquidate",
                           "liquidationpaid", "complaintroute", "push"))


@scheduled_jobs.schedule(Rate(1, unit=Rate.HOURS), name="reconcile")
def reconcile(event: CloudWatchEvent) -> int:
    """Yesterday's statements against the bank book, once the day closed (a run that could
    not read every statement is run again the next hour)."""
    return reconciliations.run_scheduled(bootstrap.context())
