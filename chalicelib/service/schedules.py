"""Scheduled jobs: each reads its due items from the sparse `due` index (never a Scan)."""

from __future__ import annotations

import logging

from chalicelib.domain import order as order_rules
from chalicelib.domain.consumption import ConfirmedBy
from chalicelib.domain.order import OrderStatus
from chalicelib.service import consumptions
from chalicelib.service.context import Context
from chalicelib.service.ports import WriteRejected

log = logging.getLogger(__name__)


def auto_confirm(ctx: Context, *, limit: int = 100) -> int:
    """Confirm every lesson whose parent stayed silent past its confirm-by date."""
    confirmed = 0
    for consumption_id in ctx.store.due("autoconfirm", ctx.now(), limit):
        consumptions.confirm_now(ctx, consumption_id, ConfirmedBy.AUTO)
        confirmed += 1
    return confirmed


def expire_orders(ctx: Context, *, limit: int = 100) -> int:
    """Expire unpaid orders past their payment deadline (a payment that wins the race stays)."""
    expired = 0
    now = ctx.now()
    for order_id in ctx.store.due("expire", now, limit):
        order = ctx.store.order(order_id)
        if order is None or order.status is not OrderStatus.PENDING_PAYMENT:
            continue
        if order.expires_at > now:
            continue
        try:
            ctx.store.write().move_order(order, order_rules.expiry()).commit()
        except WriteRejected:
            log.info("order %s changed while expiring (paid meanwhile): left as it is", order_id)
            continue
        expired += 1
    return expired
