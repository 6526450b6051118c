"""Consumptions: the parent confirms or disputes each lesson; a confirmed one becomes
settlement work."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from chalicelib.domain.calendar import business_date
from chalicelib.domain.errors import NotFound, StateConflict
from chalicelib.domain.escrow import order as order_rules
from chalicelib.domain.escrow.consumption import (
    ALREADY_CONFIRMED,
    CONFIRMABLE,
    ConfirmedBy,
    Consumption,
    ConsumptionStatus,
)
from chalicelib.service import retry
from chalicelib.service.caller import Caller, Role
from chalicelib.service.context import Context
from chalicelib.service.escrow import orders
from chalicelib.service.jobs import work
from chalicelib.service.ports import Page
from chalicelib.service.store import Guard


def confirm(ctx: Context, caller: Caller, consumption_id: str) -> Consumption:
    caller.require(Role.PARENT)
    own = _own_consumption(ctx, caller, consumption_id)
    return confirm_now(ctx, consumption_id, ConfirmedBy.PARENT, fresh=own)


def confirm_now(
    ctx: Context, consumption_id: str, by: ConfirmedBy, *, fresh: Consumption | None = None,
    reason: str = "", guard: Guard | None = None,
) -> Consumption:
    """Confirm once, however many callers race: the loser sees it confirmed and returns it.
    A withdrawn lesson cannot be confirmed (409); `reason` is a regulator's, for the record
    (`guard`: what else its write requires: the regulator's department holding the case).
    Silence confirms only what `Consumption.silence_confirms` allows, and requires the order
    to be as it judged inside the write (a freeze marker that lands meanwhile stops it)."""
    loaded = [fresh] if fresh is not None else []

    def attempt() -> Consumption:
        before = loaded.pop() if loaded else ctx.store.consumption(consumption_id)
        if before is None:
            raise NotFound("消课记录不存在", code="consumption_not_found")
        if before.status in ALREADY_CONFIRMED:
            return before
        if before.status is ConsumptionStatus.WITHDRAWN:
            if by is ConfirmedBy.AUTO:
                return before
            raise StateConflict("该课时已撤回", code="consumption_withdrawn")
        order = orders.get(ctx, before.order_id)
        now = ctx.now()
        silence = by is ConfirmedBy.AUTO
        if silence and not before.silence_confirms(order, now):
            return before  # disputed, not due by the clock, or frozen meanwhile
        after = replace(
            before, status=ConsumptionStatus.CONFIRMED, confirmed_at=now, confirmed_by=by,
            resolution_reason=reason[:500],
        )
        grace = timedelta(minutes=ctx.policy(before.region_code).settlement_grace_minutes)
        write = ctx.store.write().replace(
            before, after, "consumption", due=("settle", now + grace)).move_order(
                order,
                order_rules.lesson_confirmed(
                    was_disputed=before.status is ConsumptionStatus.DISPUTED
                ),
                expect=before.silence_expects() if silence else None,
            )
        if guard is not None:
            guard(write)
        write.commit()
        work.publish_settlement(ctx, after)
        return after

    return retry.on_conflict(attempt, retry_when=lambda r: True)


def dispute(ctx: Context, caller: Caller, consumption_id: str, reason: str) -> Consumption:
    """The parent disputes a pending lesson: the institution answers, and a dispute still
    open after the policy's working days goes to the regulator (service/refunds/disputes.py)."""
    caller.require(Role.PARENT)

    def attempt() -> Consumption:
        before = _own_consumption(ctx, caller, consumption_id)
        if before.status is ConsumptionStatus.DISPUTED or (
                before.disputed_at is not None and before.dispute_reason == reason):
            return before  # (the latter settled since: the parent's retry)
        if before.status not in CONFIRMABLE:
            raise StateConflict(
                "该课时不在待确认状态，不能提出异议", code="consumption_not_pending",
                status=str(before.status),
            )
        now = ctx.now()
        answer_by = ctx.calendar.add_working_days(
            business_date(now), ctx.policy(before.region_code).dispute_answer_working_days
        )
        after = replace(before, status=ConsumptionStatus.DISPUTED, dispute_reason=reason,
                        disputed_at=now, answer_by=answer_by.due_on,
                        answer_by_estimated=answer_by.estimated)
        ctx.store.write().replace(
            before, after, "consumption", due=("disputeescalate", after.answer_deadline)
        ).move_order(
            orders.get(ctx, before.order_id), order_rules.lesson_disputed()
        ).commit()
        return after

    return retry.on_conflict(attempt, retry_when=lambda r: True)


def _own_consumption(ctx: Context, caller: Caller, consumption_id: str) -> Consumption:
    consumption = ctx.store.consumption(consumption_id)
    if consumption is None or consumption.parent_sub != caller.sub:
        raise NotFound("消课记录不存在", code="consumption_not_found",
                       consumption_id=consumption_id)
    return consumption


def listing(
    ctx: Context, caller: Caller, *, status: str, limit: int, cursor: str | None
) -> Page[Consumption]:
    if caller.role is Role.PARENT:
        return ctx.store.consumptions_of_parent(caller.sub, status, limit, cursor)
    return ctx.store.consumptions_of_institution(caller.own_institution(), status, limit, cursor)
