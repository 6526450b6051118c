"""Liquidating an institution (the states and rules: chalicelib/domain/institutions/liquidation.py):
a regulator starts it, and the `liquidate` job lists the institution's orders onto the
liquidation queue (chalicelib/service/institutions/liquidation_orders.py liquidates each), then
watches the progress until every order is done and every refund it made is paid.

The job is on the schedule (the liquidation's `due` entry) from the start to the end, so a
lost message, a crashed worker or a twin run only delays it: listing is saved page by page
(a rewrite conditioned on the cursor it read), an order whose message was lost is queued
again by another listing pass once no order has been done for `WATCH_AFTER`, and it is
completed only by a pass that finds every order done, every fen of its refunds paid back
and the institution's escrow empty (chalicelib/service/institutions/liquidation_escrow.py); while
money is still held the liquidation names it (`outstanding`) and is looked at again every
`WATCH_AFTER`."""

from __future__ import annotations

import logging
import time
from dataclasses import replace

from chalicelib.domain.errors import NotFound
from chalicelib.domain.institutions.liquidation import (
    LIST_AFTER,
    WATCH_AFTER,
    Held,
    Liquidation,
    LiquidationStatus,
    Outstanding,
    Progress,
)
from chalicelib.service import retry
from chalicelib.service.caller import Caller, Role
from chalicelib.service.context import Context
from chalicelib.service.institutions import freezes, institutions, liquidation_escrow
from chalicelib.service.jobs import work
from chalicelib.service.ports import WriteRejected

log = logging.getLogger(__name__)

JOB = "liquidate"
PAGE_SIZE = 100
BUDGET_SECONDS = 10.0
"""Of a sweep task's time: listing goes on in the next run after this."""


def liquidate(ctx: Context, caller: Caller, institution_id: str, *, reason: str
              ) -> tuple[Liquidation, Progress]:
    """Start liquidating a whitelisted institution (again: the same liquidation): frozen in
    the same write if it was not, its orders listed once the freeze has settled."""
    caller.require(Role.REGULATOR)

    def attempt() -> Liquidation:
        before = institutions.visible_to_regulator(ctx, caller, institution_id)
        existing = ctx.store.liquidation(institution_id)
        if existing is not None:
            return existing
        freezes.require_whitelisted(before)
        now = ctx.now()
        frozen = before if before.frozen else freezes.marked(
            before, frozen=True, who=caller.sub, reason=reason, now=now, office=caller.office)
        after = replace(frozen, liquidated_at=now)
        started = Liquidation(
            institution_id=institution_id, region_code=before.region_code, reason=reason,
            started_at=now, started_by=caller.sub, freeze_generation=after.freeze_generation,
            status=LiquidationStatus.LISTING, list_from=now + LIST_AFTER,
        )
        ctx.store.write() \
            .replace(before, after, "institution", due=freezes.fan_out_due(after, ctx)) \
            .create(started, "liquidation", due=(JOB, started.list_from)) \
            .commit()
        return started

    started = retry.on_conflict(attempt, retry_when=lambda rejected: True)
    work.run_now(ctx, freezes.JOB)
    return started, ctx.store.liquidation_progress(institution_id)


def progress(ctx: Context, caller: Caller, institution_id: str
             ) -> tuple[Liquidation, Progress]:
    """A liquidation and its progress, for the regulators supervising the institution."""
    caller.require(Role.REGULATOR)
    institutions.visible_to_regulator(ctx, caller, institution_id)
    found = ctx.store.liquidation(institution_id)
    if found is None:
        raise NotFound("该机构未进入清算", code="liquidation_not_found",
                       institution_id=institution_id)
    return found, ctx.store.liquidation_progress(institution_id)


def advance(ctx: Context, institution_id: str) -> bool:
    """The due step of a liquidation: list its orders (a page at a time, within the budget)
    or look at its progress; True if it did something."""
    liquidation = ctx.store.liquidation(institution_id)
    if (liquidation is None or liquidation.status is LiquidationStatus.COMPLETED
            or ctx.now() < (liquidation.next_step_at or liquidation.list_from)):
        return False
    if liquidation.listing_pass:
        return _list(ctx, liquidation)
    return _watch(ctx, liquidation)


def _list(ctx: Context, liquidation: Liquidation) -> bool:
    """Queue a message for each order not done yet, page by page, counting the orders and
    the money they still hold; at the end of the pass the count is the orders' total, and
    a pass that found every order done looks at what the escrow still holds: empty, with
    every fen of its refunds paid back, the liquidation is completed."""
    deadline = time.monotonic() + BUDGET_SECONDS
    cursor = liquidation.cursor or None
    listed, queued = liquidation.listed, liquidation.queued
    holding, accounts = liquidation.holding, set(liquidation.accounts)
    while True:
        page = ctx.store.orders_of_institution(liquidation.institution_id, PAGE_SIZE, cursor)
        waiting = [o.order_id for o in page.items if o.liquidated_at is None]
        if waiting:
            ctx.publisher.publish_liquidation(liquidation.institution_id, waiting)
        for order in page.items:
            accounts.add(order.supervised_bank_account)
            if order.escrow_fen:
                holding = holding.with_one(order.order_id, order.escrow_fen)
        listed, queued = listed + len(page.items), queued + len(waiting)
        cursor = page.next_cursor
        if cursor is None or time.monotonic() >= deadline:
            break
    if cursor is not None:
        after = replace(liquidation, cursor=cursor, listed=listed, queued=queued,
                        holding=holding, accounts=tuple(sorted(accounts)))
        return _save(ctx, liquidation, after, again_now=True)
    counted = replace(liquidation, status=LiquidationStatus.REFUNDING, listing_pass=0,
                      cursor="", orders_total=listed, listed=0, queued=0, holding=Held(),
                      accounts=())
    if not queued:
        counted = _looked_at(ctx, counted, liquidation_escrow.outstanding(
            ctx, liquidation.institution_id, holding, accounts))
    return _save(ctx, liquidation, counted)


def _looked_at(ctx: Context, liquidation: Liquidation, left: Outstanding) -> Liquidation:
    """Every order is done: completed once its refunds are paid back and the escrow is
    empty; held up while its refunds are paid, or by money ops must clear."""
    paid_back = ctx.store.liquidation_progress(liquidation.institution_id).finished(
        liquidation.orders_total)
    if paid_back and left.empty:
        return replace(liquidation, status=LiquidationStatus.COMPLETED, outstanding=left,
                       completed_at=ctx.now())
    status = LiquidationStatus.ESCROW_HELD if paid_back else LiquidationStatus.REFUNDING
    if status is not liquidation.status or left != liquidation.outstanding:
        log.info("liquidation of %s: %s, outstanding %s", liquidation.institution_id, status,
                 left)
    return replace(liquidation, status=status, outstanding=left)


def _watch(ctx: Context, liquidation: Liquidation) -> bool:
    """List the orders again once every order is done (a pass that finds them all done
    looks at what the escrow still holds, and may complete it) or when no order was done
    since the last look while some are not (messages lost, or an order the count missed);
    otherwise look again later."""
    seen = ctx.store.liquidation_progress(liquidation.institution_id)
    every_order_done = seen.orders_done == liquidation.orders_total
    stalled = not every_order_done and seen.orders_done == liquidation.orders_done_seen
    if stalled or every_order_done:
        again = replace(liquidation, listing_pass=2, cursor="", listed=0, queued=0,
                        orders_done_seen=seen.orders_done, holding=Held(), accounts=())
        return _save(ctx, liquidation, again) and _list(ctx, again)
    return _save(ctx, liquidation, replace(liquidation, orders_done_seen=seen.orders_done))


def _save(ctx: Context, before: Liquidation, after: Liquidation, *, again_now: bool = False
          ) -> bool:
    """Rewrite the liquidation (a twin run that saved first wins) and schedule its next
    step: at once, later (`WATCH_AFTER`), or never once completed."""
    now = ctx.now()
    due = None if after.status is LiquidationStatus.COMPLETED else (
        JOB, now if again_now else now + WATCH_AFTER)
    after = replace(after, next_step_at=due[1] if due else None)
    try:
        ctx.store.write().replace(before, after, "liquidation", due=due).commit()
    except WriteRejected:
        return False
    if again_now:
        work.run_now(ctx, JOB)
    return True

