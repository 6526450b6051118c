"""Transfers of cases, over HTTP, each answer held against the case as the tables held it
before: an ordinary transfer (to another department or region, or to the holder itself:
refused), a loop (the case handed to another office of the same department and straight
back), and a transfer to a region that does not exist (refused `region_unknown`, nothing
changed). Notes and transfers stop at the timeline's limit (`complaint_timeline_full`).
A note or transfer whose answer timed out after its write is sent again by the client and
held to the same 200, the case as the first attempt left it (issue 22, point 7: the office
that handed the case on is answered, not refused `not_case_holder`).

The check after every step (`deadline_kept`): while a case stays with departments under
one clock (no escalation between two looks), its due date never moves later, except once
per clock, when a transfer gives the receiving office the floor, and then to no later than
the floor counted from that day (chinese-calendar's working days, independently)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from chalicelib import bootstrap
from chalicelib.domain.complaints.complaint import Action, Complaint, Stage
from chalicelib.service import local_policy
from chalicelib.service.complaints import complaint_steps
from tests.simulation import model, regulators
from tests.simulation.faults import Fault
from tests.simulation.model import Violation
from tests.simulation.people import expect
from tests.simulation.world import World
from tests.support.harness import Reply

REGIONS = ("440106", "440104", "440100", "440305")  # Guangdong: where cases may be sent
DEPARTMENTS = ("culture", "education", "sports", "science")
MADE_UP = ("449999", "440199", "449900", "440190")
"""Six digits of this province the platform's region data does not know."""
SHORT_TIMELINE = 14
"""The simulated province's timelines take this many steps (the platform's 200 is out of a
run's reach): notes and transfers beyond it are refused."""


@contextmanager
def short_timelines() -> Iterator[None]:
    kept = complaint_steps.MAX_STEPS
    complaint_steps.MAX_STEPS = SHORT_TIMELINE
    try:
        yield
    finally:
        complaint_steps.MAX_STEPS = kept


def floor_days(case: Complaint) -> int:
    """The floor of the region of the case's institution (local policy)."""
    return local_policy.of_case(bootstrap.context(), case).complaint_transfer_floor_working_days


def transfer(w: World, stored: Complaint, pick: int, faults: tuple[Fault, ...]) -> str:
    """The holder hands the case to a department at a region (both picked)."""
    target = {"department": DEPARTMENTS[pick % len(DEPARTMENTS)],
              "region_code": REGIONS[(pick // 4) % len(REGIONS)]}
    reply = _send(w, stored, target, faults)
    _expect_moved(w, stored, target, reply)
    return f"transfer of {stored.complaint_id} to {target['department']}@" \
        f"{target['region_code']}: {reply.status}"


def loop(w: World, stored: Complaint, pick: int, faults: tuple[Fault, ...]) -> str:
    """The holder hands the case to another office of its department, which hands it
    straight back: the case ends where it was, its due date no later (but the floor)."""
    if stored.stage is not Stage.DEPARTMENT or stored.department is None:
        return f"no loop for {stored.complaint_id} ({stored.stage})"
    others = [r for r in REGIONS if r != stored.region]
    away = {"department": str(stored.department), "region_code": others[pick % len(others)]}
    first = _send(w, stored, away, faults)
    _expect_moved(w, stored, away, first)
    if first.status != 200:
        return f"loop of {stored.complaint_id}: {first.status}"
    moved = _stored(stored.complaint_id)
    back = {"department": str(stored.department), "region_code": stored.region}
    second = _send(w, moved, back, ())
    _expect_moved(w, moved, back, second)  # the floor, if given going, is not given back
    return f"loop of {stored.complaint_id} via {away['region_code']}: {second.status}"


def made_up(w: World, stored: Complaint, pick: int, faults: tuple[Fault, ...]) -> str:
    """A transfer to a region that does not exist: refused, the case as it was."""
    region = MADE_UP[pick % len(MADE_UP)]
    reply = _send(w, stored, {"region_code": region}, faults)
    expect(reply, {422}, {"region_unknown"})
    if _stored(stored.complaint_id) != stored:
        raise Violation(f"{stored.complaint_id} changed by a transfer to {region}")
    return f"transfer of {stored.complaint_id} to made-up {region}: refused"


def note(w: World, stored: Complaint, faults: tuple[Fault, ...]) -> str:
    holder = regulators.holder_of(w, stored)
    again = _latest_step_is_this_note(stored)
    noted = w.http("POST", f"/v1/regulator/complaints/{stored.complaint_id}/notes",
                   holder, {"text": NOTE}, faults=faults)
    if again:  # its own note again: the case as it is now (case_repeats.py)
        expect(noted, {200})
        if noted.body["stage"] != str(stored.stage):
            raise Violation(f"the same note on {stored.complaint_id} again answered "
                            f"{noted.body}")
    elif stored.stage is Stage.RESOLVED:
        expect(noted, {409}, {"complaint_resolved"})
    elif stored.version >= complaint_steps.MAX_STEPS:
        expect(noted, {409}, {"complaint_timeline_full"})
    else:
        expect(noted, {200})
    return f"note on {stored.complaint_id} ({stored.stage}): {noted.status}"


NOTE = "已电话联系"


def _latest_step_is_this_note(stored: Complaint) -> bool:
    """Whether the holder's latest step on the case is this very note (a step the platform
    answers as a retry, whatever happened to the case since: docs/decisions.md, issue 22,
    point 7)."""
    actor = f"regulator:{regulators.holder_sub(stored)}"
    mine = [step for step in bootstrap.context().store.timeline(stored.complaint_id)
            if step.actor == actor]
    return bool(mine) and mine[-1].action is Action.NOTE and mine[-1].reason == NOTE


def _send(w: World, stored: Complaint, target: dict[str, str],
          faults: tuple[Fault, ...]) -> Reply:
    return w.http("POST", f"/v1/regulator/complaints/{stored.complaint_id}/transfer",
                  regulators.holder_of(w, stored), {**target, "reason": "职责划分"},
                  faults=faults)


def _expect_moved(w: World, stored: Complaint, target: dict[str, str], reply: Reply) -> None:
    """The answer to a transfer of the case as `stored`: refused for a case no department
    holds now, a full timeline or the holder itself; else taken, with the due date kept
    (or the floor, once per clock)."""
    if stored.stage is not Stage.DEPARTMENT:
        expect(reply, {409}, {"complaint_not_with_department"})
        return
    if stored.version >= complaint_steps.MAX_STEPS:
        expect(reply, {409}, {"complaint_timeline_full"})
        return
    if (target["department"], target["region_code"]) == (str(stored.department),
                                                         stored.region):
        expect(reply, {422}, {"transfer_to_same_holder"})
        return
    expect(reply, {200})
    if (reply.body["department"], reply.body["region"]) != (target["department"],
                                                             target["region_code"]):
        raise Violation(f"{stored.complaint_id} transferred to {reply.body['holder']}, "
                        f"asked for {target}")
    floor = model.working_days_after(w.now, floor_days(stored))
    kept = stored.due_on is not None and (stored.floor_granted or stored.due_on >= floor)
    due = str(stored.due_on if kept else floor)
    if reply.body["due_on"] != due:
        raise Violation(f"{stored.complaint_id} transferred due {reply.body['due_on']}, "
                        f"expected {due} (was {stored.due_on}, floor {floor})")


def _stored(complaint_id: str) -> Complaint:
    found = bootstrap.context().store.complaint(complaint_id)
    assert found is not None, complaint_id
    return found


# the check after every step


def deadline_kept(w: World, case: model.Case, stored: Complaint) -> None:
    """Under one clock with departments (no escalation since the last look), the due date
    moves later only by the floor, once."""
    if not (case.stage == "department" and stored.stage is Stage.DEPARTMENT
            and stored.escalations == case.escalations and case.due_on is not None
            and stored.due_on is not None and stored.due_on > case.due_on):
        return
    floored = stored.floor_granted and not case.floor_granted
    if not floored or stored.due_on > model.working_days_after(w.now, floor_days(stored)):
        raise Violation(f"{stored.complaint_id}: due {case.due_on} moved to {stored.due_on} "
                        f"under one clock (floor given before: {case.floor_granted})")


def remember(case: model.Case, stored: Complaint) -> None:
    case.due_on, case.floor_granted = stored.due_on, stored.floor_granted
