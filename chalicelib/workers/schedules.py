"""Scheduled jobs: auto-confirm silent lessons, expire unpaid orders, sweep settlement."""

from __future__ import annotations

import logging

from chalice.app import Blueprint, CloudWatchEvent, Rate

from chalicelib import bootstrap
from chalicelib.service import schedules, settlement

log = logging.getLogger(__name__)

scheduled_jobs = Blueprint(__name__)


@scheduled_jobs.schedule(Rate(15, unit=Rate.MINUTES), name="auto_confirm")
def auto_confirm(event: CloudWatchEvent) -> int:
    confirmed = schedules.auto_confirm(bootstrap.context())
    log.info("auto-confirmed %d lessons", confirmed)
    return confirmed


@scheduled_jobs.schedule(Rate(5, unit=Rate.MINUTES), name="expire_orders")
def expire_orders(event: CloudWatchEvent) -> int:
    expired = schedules.expire_orders(bootstrap.context())
    log.info("expired %d unpaid orders", expired)
    return expired


@scheduled_jobs.schedule(Rate(5, unit=Rate.MINUTES), name="settlement_sweeper")
def settlement_sweeper(event: CloudWatchEvent) -> int:
    redriven = settlement.sweep(bootstrap.context())
    log.info("re-drove %d settlements", redriven)
    return redriven
