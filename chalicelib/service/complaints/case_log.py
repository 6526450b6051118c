"""How every change to a complaint is written: the case's next version (conditioned on the
version read), its timeline step (named by that version, so it is written once), its place
on the schedule, and the notices it sends, in one transaction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from chalicelib.domain.calendar import business_date
from chalicelib.domain.complaints.complaint import Action, Clock, Complaint, Stage, Step
from chalicelib.domain.errors import NotFound
from chalicelib.domain.messages.notice import Event, Notice
from chalicelib.service import retry
from chalicelib.service.context import Context
from chalicelib.service.messages import notices
from chalicelib.service.store import AtomicWrite

ROUTE_JOB = "complaintroute"
CLOCK_JOB = "complaintdue"
TEXT_LIMIT = 2000


@dataclass(frozen=True)
class Tell:
    """A notice a step sends."""

    recipient: str
    event: Event
    title: str


def clock(ctx: Context, working_days: int) -> Clock:
    """A stage's deadline, `working_days` after today (Asia/Shanghai)."""
    deadline = ctx.calendar.add_working_days(business_date(ctx.now()), working_days)
    return Clock(deadline.due_on, deadline.estimated)


def clocked(clock_: Clock) -> dict[str, object]:
    """The fields that start a stage's clock (a new clock: no transfer's floor given yet)."""
    return {"due_on": clock_.due_on, "due_estimated": clock_.estimated, "reminded": False,
            "floor_granted": False}


def add(ctx: Context, write: AtomicWrite, before: Complaint | None, after: Complaint,
        action: Action, actor: str, reason: str = "", tells: tuple[Tell, ...] = ()
        ) -> list[Notice]:
    """Add one step of a case to `write`; the notices to push once it commits."""
    if before is None:
        write.create(after, "complaint", due=(ROUTE_JOB, after.filed_at))
    else:
        write.replace(before, after, "complaint", due=_due(after))
    write.create(Step(after.complaint_id, after.version, ctx.now(), action, actor, after.stage,
                      after.holder, reason[:TEXT_LIMIT]), "step")
    return [notices.tell(ctx, write, t.recipient, t.event, after.complaint_id, t.title)
            for t in tells]


def commit(ctx: Context, before: Complaint, after: Complaint, action: Action, actor: str,
           reason: str = "", tells: tuple[Tell, ...] = ()) -> Complaint:
    """Write one step of a case on its own, and push its notices."""
    write = ctx.store.write()
    sent = add(ctx, write, before, after, action, actor, reason, tells)
    write.commit()
    notices.push_now(ctx, sent)
    return after


def step(ctx: Context, complaint_id: str, change: Callable[[Complaint], Complaint | None]
         ) -> Complaint:
    """Read a case, apply `change` (which commits a step, or answers None when the case is
    already where the caller wants it), and read again if another step won the race."""

    def attempt() -> Complaint:
        before = get(ctx, complaint_id)
        after = change(before)
        return before if after is None else after

    return retry.on_conflict(attempt, retry_when=lambda rejected: True)


def get(ctx: Context, complaint_id: str) -> Complaint:
    found = ctx.store.complaint(complaint_id)
    if found is None:
        raise not_found(complaint_id)
    return found


def not_found(complaint_id: str) -> NotFound:
    return NotFound("投诉不存在", code="complaint_not_found", complaint_id=complaint_id)


def _due(case: Complaint) -> tuple[str, datetime] | None:
    if case.stage is Stage.FILED:
        return (ROUTE_JOB, case.filed_at)
    tick = case.next_tick
    return None if tick is None else (CLOCK_JOB, tick)
