"""A step of a case sent again by the one who took it (a client's retry after a timeout
whose write succeeded, with or without its Idempotency-Key) is answered with the case as it
is now, never refused as if someone else's.

The timeline is the record: every step names its actor (`role:sub`) and its text. A request
is the caller's own step again when the caller's latest step on the case is that very step:
the same action, the same text (a transfer: the same target too, read from the holder the
step records). Another caller's step, or a different decision, is refused as before.

Two ways, by what a repeat could otherwise do:

- `unless_taken`: most steps are refused once taken (the case moved on: the parent's
  rejection sent it to the department). The step runs as before; only when it is refused
  is the timeline read, and the caller's own step answers the case instead.
- `once`: a note is always allowed, and a transfer is again allowed to an office that
  still holds the case from above. Taken again they would write twice, so the timeline is
  read first. A note identical to the caller's latest step is that step; a transfer is a
  new one only once the case is back at the caller's own office (it came back, and the
  office may pass it on again).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Concatenate, ParamSpec

from chalicelib.domain.complaints.complaint import Action, Complaint, Stage, Step
from chalicelib.domain.errors import Forbidden, NotFound, StateConflict
from chalicelib.domain.institutions.catalog import Department
from chalicelib.service.caller import Caller
from chalicelib.service.complaints import complaints
from chalicelib.service.complaints.case_log import TEXT_LIMIT
from chalicelib.service.context import Context

P = ParamSpec("P")
CaseStep = Callable[Concatenate[Context, Caller, str, P], Complaint]
Same = Callable[Concatenate[Caller, Complaint, Step, P], bool]
"""Whether the caller's latest step on the case is the step asked for (with its arguments)."""

REFUSALS = (NotFound, Forbidden, StateConflict)


def unless_taken(same: Same[P]) -> Callable[[CaseStep[P]], CaseStep[P]]:
    """A step that, refused, answers the case if the caller took this very step already."""

    def decorate(step: CaseStep[P]) -> CaseStep[P]:
        def run(ctx: Context, caller: Caller, complaint_id: str, /, *args: P.args,
                **kwargs: P.kwargs) -> Complaint:
            try:
                return step(ctx, caller, complaint_id, *args, **kwargs)
            except REFUSALS:
                taken = _taken(ctx, caller, complaint_id, same, *args, **kwargs)
                if taken is None:
                    raise
                return taken

        functools.update_wrapper(run, step)
        return run

    return decorate


def once(same: Same[P]) -> Callable[[CaseStep[P]], CaseStep[P]]:
    """A step that answers the case, without taking it again, if it is the caller's latest."""

    def decorate(step: CaseStep[P]) -> CaseStep[P]:
        def run(ctx: Context, caller: Caller, complaint_id: str, /, *args: P.args,
                **kwargs: P.kwargs) -> Complaint:
            taken = _taken(ctx, caller, complaint_id, same, *args, **kwargs)
            return taken if taken is not None else step(ctx, caller, complaint_id, *args,
                                                        **kwargs)

        functools.update_wrapper(run, step)
        return run

    return decorate


def _taken(ctx: Context, caller: Caller, complaint_id: str, same: Same[P], *args: P.args,
           **kwargs: P.kwargs) -> Complaint | None:
    """The case as it is now, if the caller's latest step on it is `same`."""
    case = ctx.store.complaint(complaint_id)
    if case is None:
        return None
    actor = complaints.actor(caller)
    mine = [step for step in ctx.store.timeline(complaint_id) if step.actor == actor]
    return case if mine and same(caller, case, mine[-1], *args, **kwargs) else None


def said(action: Action, step: Step, text: str) -> bool:
    """`step` is `action` with this text (as the timeline keeps it)."""
    return step.action is action and step.reason == text[:TEXT_LIMIT]


def transfer_text(department: str, region: str, reason: str) -> str:
    """What a transfer's step says: where the case went, and why."""
    return f"移交至 {department}@{region}：{reason}"


def same_transfer(caller: Caller, case: Complaint, step: Step, *,
                  department: Department | None, region: str | None, reason: str) -> bool:
    """`step` is the transfer asked for (an omitted department or region: the one the step
    sent it to), and the case has not come back to the caller's own office since."""
    if step.action is not Action.TRANSFERRED:
        return False
    if case.stage is Stage.DEPARTMENT and (case.department, case.region) == (
            caller.department, caller.region):
        return False
    sent_to, _, sent_region = step.holder.removeprefix("regulator:").partition(":")
    if (str(department or sent_to), region or sent_region) != (sent_to, sent_region):
        return False
    return said(Action.TRANSFERRED, step, transfer_text(sent_to, sent_region, reason))
