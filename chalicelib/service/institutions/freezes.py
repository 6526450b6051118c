"""Freezing an institution: while frozen it sells nothing new, is hidden from search, records
no lessons, releases nothing (its queued releases wait) and its parents' silence confirms
nothing (chalicelib/service/escrow/silence.py); refunds still flow. The freeze records its office:
only that office, or its department above it, lifts it (chalicelib/domain/institutions/measures.py),
and never while the institution is liquidated or blacklisted.

The money paths check the freeze inside their own transaction's condition, on the order
they already write: a freeze marker (`frozen`, `freeze_generation`) that a fan-out copies
onto each of the institution's orders, and that lesson recording, a release's reservation
and a payment require to be 0 (chalicelib/domain/escrow/order.py `UNBLOCKED`). The institution item
itself is written once per freeze and once per page of the fan-out, never on the money
path, so it is not a hot item.

The fan-out is the `freezefanout` job on the institution item: started at once over the
sweep queue, and found again by the schedule if that message is lost. Pass 1 marks every
order; pass 2, `SECOND_PASS_AFTER` later, marks an order a purchase created from a read of
the institution just before the freeze committed. Each freeze or unfreeze bumps the
generation, and an order takes a marker only from a newer generation than its own, so
passes of an older freeze never undo a newer one. A release reserved before its order was
marked completes (the reservation is the serialization point); one not yet reserved waits,
and the settlement sweep resumes it after the unfreeze. An unfreeze's pass gives each
order's pending lessons their whole confirmation window again before it lifts the order's
marker.
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import datetime, timedelta

from chalicelib.domain.errors import Forbidden, StateConflict
from chalicelib.domain.escrow.order import Order
from chalicelib.domain.institutions.catalog import Institution, InstitutionStatus
from chalicelib.domain.institutions.measures import Office
from chalicelib.service import retry
from chalicelib.service.caller import Caller, Role
from chalicelib.service.context import Context
from chalicelib.service.escrow import silence
from chalicelib.service.institutions import institutions
from chalicelib.service.jobs import work
from chalicelib.service.ports import WriteRejected

JOB = "freezefanout"
SECOND_PASS_AFTER = timedelta(minutes=2)
"""Far longer than a purchase takes between reading the institution and writing its order."""
PAGE_SIZE = 100
BUDGET_SECONDS = 10.0
"""Of a sweep task's time: marking goes on in the next run after this."""


def freeze(ctx: Context, caller: Caller, institution_id: str, *, reason: str) -> Institution:
    return _change(ctx, caller, institution_id, frozen=True, reason=reason)


def unfreeze(ctx: Context, caller: Caller, institution_id: str, *, reason: str) -> Institution:
    """Lift a freeze: only its office, or its department above it (403
    `measure_imposed_elsewhere`); never while the institution is liquidated or blacklisted
    (409)."""
    return _change(ctx, caller, institution_id, frozen=False, reason=reason)


def _change(
    ctx: Context, caller: Caller, institution_id: str, *, frozen: bool, reason: str
) -> Institution:
    """Freeze or unfreeze (again: the same answer) and start marking its orders."""
    caller.require(Role.REGULATOR)

    def attempt() -> Institution:
        before = institutions.visible_to_regulator(ctx, caller, institution_id)
        require_whitelisted(before)
        if frozen and before.frozen_with_blacklisting and before.liquidated_at is None:
            after = replace(before, frozen_with_blacklisting=False, frozen_by=caller.sub,
                            freeze_reason=reason, freeze_office=caller.office)
        elif before.frozen == frozen:
            return before
        else:
            if not frozen and not _liftable(caller, before, reason):
                return before  # lifted by this very caller already: a retry
            after = marked(before, frozen=frozen, who=caller.sub, reason=reason,
                           now=ctx.now(), office=caller.office)
        ctx.store.write().replace(before, after, "institution", due=fan_out_due(after, ctx))\
            .commit()
        return after

    changed = retry.on_conflict(attempt, retry_when=lambda rejected: True)
    work.run_now(ctx, JOB)
    return changed


def _liftable(caller: Caller, institution: Institution, reason: str) -> bool:
    """The caller may lift the freeze under way; False when it may not, but the last
    lifting was its own, for the same reason (a retry: the institution was frozen again
    since, by a liquidation, a blacklisting or another office); refused otherwise."""
    try:
        _require_liftable(caller, institution)
    except (StateConflict, Forbidden):
        if (institution.unfrozen_by, institution.unfreeze_reason) == (caller.sub, reason):
            return False
        raise
    return True


def _require_liftable(caller: Caller, institution: Institution) -> None:
    if institution.liquidated_at is not None:
        raise StateConflict("机构正在清算，不能解冻", code="institution_liquidating")
    if institution.status is InstitutionStatus.BLACKLISTED:
        raise StateConflict("机构已被列入黑名单，须先解除黑名单", code="institution_blacklisted")
    caller.require_may_undo(institution.freeze_imposed_by)


def require_whitelisted(institution: Institution) -> None:
    """Freezing, unfreezing and liquidating are for an institution that has been whitelisted
    (and so may hold parents' money), whatever its status now: back in review after a new
    custodian account, or blacklisted, it is still frozen or liquidated."""
    if not institution.ever_whitelisted:
        raise StateConflict("只能冻结、解冻或清算列入过白名单的机构",
                            code="institution_not_whitelisted", status=str(institution.status))


def marked(before: Institution, *, frozen: bool, who: str, reason: str, now: datetime,
           office: Office | None = None, with_blacklisting: bool = False) -> Institution:
    """`before` frozen (or unfrozen) by `who` of `office`: a new generation, its fan-out from
    pass 1."""
    return replace(
        before,
        frozen_at=now if frozen else None,
        frozen_by=who if frozen else "",
        freeze_reason=reason if frozen else "",
        freeze_office=office if frozen else None,
        frozen_with_blacklisting=frozen and with_blacklisting,
        unfrozen_at=before.unfrozen_at if frozen else now,
        unfrozen_by=before.unfrozen_by if frozen else who,
        unfreeze_reason=before.unfreeze_reason if frozen else reason,
        freeze_generation=before.freeze_generation + 1,
        fanout_pass=1,
        fanout_cursor="",
    )


def second_pass_from(institution: Institution, now: datetime) -> datetime:
    """Pass 2 runs no sooner than SECOND_PASS_AFTER after the freeze (or unfreeze)."""
    changed = institution.frozen_at if institution.frozen else institution.unfrozen_at
    return (changed or now) + SECOND_PASS_AFTER


def fan_out_due(institution: Institution, ctx: Context) -> tuple[str, datetime] | None:
    """Where a rewrite of `institution` keeps its fan-out on the schedule while one is under
    way: pass 1 now, pass 2 no sooner than SECOND_PASS_AFTER after the freeze (for the
    purchases that read the institution just before it)."""
    if not institution.fanout_pass:
        return None
    now = ctx.now()
    if institution.fanout_pass == 2:
        return JOB, max(now, second_pass_from(institution, now))
    return JOB, now


def fan_out(ctx: Context, institution_id: str) -> bool:
    """The due pass of an institution's freeze marker, for as many pages as the budget
    allows; True if it made progress."""
    institution = ctx.store.institution(institution_id)
    now = ctx.now()
    if institution is None or not institution.fanout_pass or (
            institution.fanout_pass == 2 and now < second_pass_from(institution, now)):
        return False
    deadline = time.monotonic() + BUDGET_SECONDS
    cursor = institution.fanout_cursor or None
    while True:
        page = ctx.store.orders_of_institution(institution_id, PAGE_SIZE, cursor)
        for order in page.items:
            if order.freeze_generation < institution.freeze_generation:
                _stamp(ctx, institution, order)
        cursor = page.next_cursor
        if cursor is None or time.monotonic() >= deadline:
            break
    return _advance(ctx, institution, cursor)


def _stamp(ctx: Context, institution: Institution, order: Order) -> None:
    """Copy the marker onto one order. Lifting it, the order's pending lessons get their
    windows again first (chalicelib/service/escrow/silence.py), so silence never finds the order
    unfrozen with a window the freeze cut short."""
    generation = institution.freeze_generation
    if not institution.frozen and order.lessons_pending_confirmation:
        silence.restart_pending(ctx, order, generation, institution.unfrozen_at or ctx.now())
    ctx.store.stamp_freeze(order.order_id, generation, frozen=institution.frozen)


def _advance(ctx: Context, institution: Institution, cursor: str | None) -> bool:
    """Save where the fan-out goes on: the rest of this pass now, pass 2 later, or done. A
    newer freeze or unfreeze (or a twin run) that wrote first wins."""
    now = ctx.now()
    if cursor is not None:
        after, due = replace(institution, fanout_cursor=cursor), now
    elif institution.fanout_pass == 1:
        after, due = replace(institution, fanout_pass=2, fanout_cursor=""), now + SECOND_PASS_AFTER
    else:
        after, due = replace(institution, fanout_pass=0, fanout_cursor=""), None
    try:
        ctx.store.write().replace(
            institution, after, "institution", due=(JOB, due) if due else None
        ).commit()
    except WriteRejected:
        return False
    if cursor is not None:
        work.run_now(ctx, JOB)
    return True
