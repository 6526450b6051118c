"""The parent's silence confirms a lesson (the `autoconfirm` job), but only by the platform's
clock and never while its institution is frozen.

    recorded -> window of N working days -> confirmed by silence at the end of its last day
                   |  a freeze lands: silence waits (looked at again daily)
                   v
                the freeze ends: the window starts again, N working days from the day the
                freeze ended (never shorter than it was)

A freeze is a regulator's stop: nothing is paid out for a frozen institution and its
parents' silence agrees to nothing. Whatever was left of a lesson's window when the
institution froze, its parent gets the whole window again once teaching may go on
(docs/decisions.md, "Issue 22: freezes"). The rule is checked inside the confirming write
on the order it already writes (`Consumption.silence_expects`: no freeze marker, and the
freeze generation the window started under), so a freeze whose marker lands between the
read and the write stops it, and a lesson whose window has not been restarted after a freeze
is never confirmed on its old deadline. The unfreeze's fan-out restarts the windows of the
order's pending lessons before it lifts the order's marker
(chalicelib/service/institutions/freezes.py); one it missed (an index not yet caught up) is
restarted here when its old deadline comes.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from chalicelib.domain.calendar import business_date
from chalicelib.domain.escrow.consumption import ConfirmedBy, Consumption, ConsumptionStatus
from chalicelib.domain.escrow.order import Order
from chalicelib.service import retry
from chalicelib.service.context import Context
from chalicelib.service.escrow import consumptions, orders
from chalicelib.service.ports import every_page

JOB = "autoconfirm"
FROZEN_RECHECK = timedelta(days=1)
"""How often a lesson whose window ended while its institution is frozen is looked at again
(the unfreeze restarts its window anyway: this only catches one the fan-out missed)."""
PAGE = 100


def confirm_due(ctx: Context, consumption_id: str) -> bool:
    """The `autoconfirm` job's step for one lesson; True if silence confirmed it."""
    found = ctx.store.consumption(consumption_id)
    if found is None or found.status is not ConsumptionStatus.PENDING_CONFIRMATION:
        return False
    now = ctx.now()
    if now < found.confirm_deadline:  # not due by the clock: back to its own deadline
        _put_off(ctx, consumption_id, found.confirm_deadline)
        return False
    order = orders.get(ctx, found.order_id)
    if order.frozen:
        _put_off(ctx, consumption_id, now + FROZEN_RECHECK)
        return False
    if order.freeze_generation != found.window_generation:  # frozen and lifted since
        restart(ctx, found, order.freeze_generation, now)
        return False
    confirmed = consumptions.confirm_now(ctx, consumption_id, ConfirmedBy.AUTO)
    return confirmed.confirmed_by is ConfirmedBy.AUTO


def restart_pending(ctx: Context, order: Order, generation: int, ended_at: datetime) -> None:
    """The freeze of `order`'s institution ended at `ended_at` (the unfreeze of freeze
    generation `generation`): every lesson of the order still pending gets its window again
    from that day. Its parent's listing (an index) is read: a lesson it does not show yet is
    restarted when its own deadline comes (`confirm_due`)."""
    listed = every_page(lambda cursor: ctx.store.consumptions_of_parent(
        order.parent_sub, ConsumptionStatus.PENDING_CONFIRMATION, PAGE, cursor))
    for lesson in listed:
        if lesson.order_id == order.order_id and lesson.window_generation < generation:
            restart(ctx, lesson, generation, ended_at)


def restart(ctx: Context, lesson: Consumption, generation: int, ended_at: datetime) -> None:
    """Start `lesson`'s window again from `ended_at`'s business day, under `generation`
    (never shorter than it was); a lesson resolved meanwhile is left as it is."""
    loaded = [lesson]

    def attempt() -> None:
        before = loaded.pop() if loaded else ctx.store.consumption(lesson.consumption_id)
        if (before is None or before.status is not ConsumptionStatus.PENDING_CONFIRMATION
                or before.window_generation >= generation):
            return
        window = ctx.policy(before.region_code).auto_confirm_working_days
        deadline = ctx.calendar.add_working_days(business_date(ended_at), window)
        after = replace(before, window_generation=generation)
        if deadline.due_on > before.confirm_by:
            after = replace(after, confirm_by=deadline.due_on,
                            confirm_by_estimated=deadline.estimated)
        ctx.store.write().replace(before, after, "consumption",
                                  due=(JOB, after.confirm_deadline)).commit()

    retry.on_conflict(attempt, retry_when=lambda rejected: True)


def _put_off(ctx: Context, consumption_id: str, at: datetime) -> None:
    """Look at the lesson again at `at` (if it is still on the schedule for this job)."""
    ctx.schedule.reschedule("consumption", consumption_id, JOB, at, deferrals=None)
