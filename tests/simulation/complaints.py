"""Complaints, over HTTP, each answer held against the case as the tables hold it: parents
file them (and the hotline takes calls), the routing worker's deliveries come duplicated,
lost, reordered and late, institutions answer, parents accept or reject, the holding
department notes, transfers (tests/simulation/case_transfers.py) and resolves (a linked
case's decision moving the money as the regulators' refund and dispute routes would), and
regulators elsewhere are turned away.
The clocks run on the schedule as the simulated days pass, holidays and swapped working
weekends included.

The checks (`observe`, `at_the_end`): each case routed once, in a legal stage with exactly
one well-formed holder, on the schedule while a clock runs, its timeline one step per
version; and once the province is drained, no case left unrouted and none overdue without
having been escalated as far as it goes."""

from __future__ import annotations

from typing import Any

from chalicelib import bootstrap
from chalicelib.domain.complaints.complaint import Action, Complaint, Stage, higher_region
from tests.simulation import case_transfers, disputes, model, refunds, regulators, system
from tests.simulation.faults import Fault
from tests.simulation.model import Violation
from tests.simulation.people import expect
from tests.simulation.world import World
from tests.support import flows
from tests.support.harness import Reply

CATEGORIES = ("teaching_quality", "fees", "false_advertising", "refund", "other", "safety",
              "fund_risk", "illegal_training")
ALERTING = frozenset({"safety", "fund_risk", "illegal_training"})
HOTLINE = {"sub": "hotline-gd", "region": "440000", "department": "education"}
ELSEWHERE = {"sub": "reg-zh-culture", "region": "440400", "department": "culture"}
"""Culture at Zhuhai: no case goes there (case_transfers.REGIONS sends them into Shenzhen's
440305, whose city is 440300)."""
MOVES = {
    "filed": {"filed", "institution", "department"},
    "institution": {"institution", "awaiting_parent", "department"},
    "awaiting_parent": {"awaiting_parent", "department", "resolved"},
    "department": {"department", "resolved"},
    "resolved": {"resolved"},
}


def file_complaint(w: World, family: int, target: int, category: int,
                   faults: tuple[Fault, ...] = ()) -> str:
    """A family complains about an institution (one in six: a hotline call about it)."""
    inst = w.pick(w.institutions, target)
    if inst is None:
        return "no institution to complain about"
    body: dict[str, Any] = {"institution_id": inst.institution_id,
                            "category": CATEGORIES[category % len(CATEGORIES)],
                            "text": "课程与宣传不符"}
    hotline = target % 6 == 0
    if hotline:
        body.update(caller_name="李四", caller_phone="13900001111")
        reply = w.http("POST", "/v1/regulator/complaints", flows.regulator(w.p, **HOTLINE),
                       body, key=w.new_key(), faults=faults)
    else:
        reply = w.http("POST", "/v1/complaints", w.pick(w.families, family).parent, body,
                       key=w.new_key(), faults=faults)
    expect(reply, {201})
    if reply.body["stage"] != "filed" or (hotline and reply.body["caller_phone"] != "139****1111"):
        raise Violation(f"a complaint filed as {reply.body}")
    case = model.Case(reply.body["complaint_id"], inst.institution_id,
                -1 if hotline else family % len(w.families))
    w.cases[case.complaint_id] = case
    return f"complaint {case.complaint_id} ({body['category']}) about {inst.institution_id}"


def deliver(w: World, mode: int, faults: tuple[Fault, ...] = ()) -> str:
    """One invocation of the complaint queue's Lambda (duplicated, lost, reversed, kept for
    later, or crashed, as `system.deliver` does)."""
    return system.deliver(w, "complaint", mode, faults)


def answer(w: World, n: int, faults: tuple[Fault, ...] = ()) -> str:
    """The institution answers a case (refused unless it is the institution's turn; one it
    may not see yet is not found)."""
    case = _pick(w, n, "institution")
    if case is None:
        return "no complaint to answer"
    staff = next(i.staff for i in w.institutions if i.institution_id == case.institution_id)
    stored = _stored(case)
    reply = w.http("POST", f"/v1/complaints/{case.complaint_id}/answer", staff,
                   {"text": "已核实并整改"}, faults=faults)
    if stored.hidden_from_institution:  # a safety, fund-risk or illegal-training report
        expect(reply, {404}, {"complaint_not_found"})
    elif stored.stage is Stage.INSTITUTION:
        expect(reply, {200})
    elif stored.stage is Stage.AWAITING_PARENT and stored.answer == "已核实并整改":
        expect(reply, {200})  # the same answer again
    elif _latest_step_of(stored, "institution:") in ((Action.ANSWERED, "已核实并整改"),):
        expect(reply, {200})  # its answer again, the case moved on since (issue 22, 7)
    else:
        expect(reply, {409}, {"complaint_not_awaiting_answer"})
    return f"answer to {case.complaint_id} ({stored.stage}): {reply.status}"


def verdict(w: World, n: int, accepts: int, faults: tuple[Fault, ...] = ()) -> str:
    """The filing parent accepts (one in two) or rejects the institution's answer."""
    case = _pick(w, n, "awaiting_parent", filed_by_family=True)
    if case is None:
        return "no answer for a parent to judge"
    parent = w.families[case.family].parent
    stored = _stored(case)
    action = "accept" if accepts % 2 else "reject"
    reply = w.http("POST", f"/v1/complaints/{case.complaint_id}/{action}", parent,
                   {"reason": "答复敷衍"} if action == "reject" else None, faults=faults)
    accepted_already = (action == "accept" and stored.stage is Stage.RESOLVED
                        and stored.resolved_by.startswith("parent:"))
    latest = _latest_step_of(stored, "parent:")  # its own step again (issue 22, point 7)
    own_again = latest == (Action.REJECTED, "答复敷衍") if action == "reject" else (
        latest is not None and latest[0] is Action.ACCEPTED)
    if stored.stage is Stage.AWAITING_PARENT or accepted_already or own_again:
        expect(reply, {200})
    else:
        expect(reply, {409}, {"complaint_not_awaiting_parent"})
    return f"parent {action}s the answer to {case.complaint_id} ({stored.stage}): {reply.status}"


def department(w: World, n: int, kind: int, pick: int, faults: tuple[Fault, ...] = ()) -> str:
    """The holding department notes (kind 0), transfers (1, 6) or resolves (2) a case; a
    regulator elsewhere (3) can neither read nor touch it; the holder hands the case to
    another office of its department and gets it straight back (4, 7), or names a region
    that does not exist (5). Transfers: tests/simulation/case_transfers.py."""
    case = _pick(w, n, "department")
    if case is None:
        return "no case for a department"
    stored = _stored(case)
    path = f"/v1/regulator/complaints/{case.complaint_id}"
    kind %= 8
    if kind == 3:
        before = _stored(case)
        outsider = flows.regulator(w.p, **ELSEWHERE)
        expect(w.http("GET", f"/v1/complaints/{case.complaint_id}", outsider), {404})
        expect(w.http("POST", f"{path}/resolve", outsider, {"outcome": "越权"}), {404})
        if _stored(case) != before:
            raise Violation(f"{case.complaint_id} changed by a regulator elsewhere")
        return f"a regulator elsewhere turned away from {case.complaint_id}"
    if stored.department is None:
        return f"{case.complaint_id} not routed yet"
    if kind == 0:
        return case_transfers.note(w, stored, faults)
    if kind in (1, 6):
        return case_transfers.transfer(w, stored, pick, faults)
    if kind in (4, 7):
        return case_transfers.loop(w, stored, pick, faults)
    if kind == 5:
        return case_transfers.made_up(w, stored, pick, faults)
    return _resolve(w, case, stored, regulators.holder_of(w, stored), pick, faults)


def _resolve(w: World, case: model.Case, stored: Complaint, holder: dict[str, str], pick: int,
             faults: tuple[Fault, ...]) -> str:
    decision = _decision(stored, pick)
    body = {"outcome": "经核查处理完毕", **({"decision": decision} if decision else {})}
    reply = w.http("POST", f"/v1/regulator/complaints/{case.complaint_id}/resolve", holder,
                   body, faults=faults)
    if stored.stage is Stage.RESOLVED:
        same = stored.decision == decision
        expect(reply, {200} if same else {409}, None if same else
               {"complaint_not_with_department"})
    elif stored.stage is not Stage.DEPARTMENT:
        expect(reply, {409}, {"complaint_not_with_department"})
    elif stored.refund_id:
        _refund_decided(w, stored.refund_id, decision == "order_refund", reply)
    elif stored.consumption_id:
        _lesson_decided(w, stored.consumption_id, decision == "release_lesson", reply)
    else:
        expect(reply, {200})
    return f"resolve {case.complaint_id} ({stored.stage}, {decision}): {reply.status}"


def _decision(stored: Complaint, pick: int) -> str | None:
    if stored.refund_id:
        return ("order_refund", "dismiss_refund")[pick % 2]
    if stored.consumption_id:
        return ("release_lesson", "return_lesson")[pick % 2]
    return None


def _refund_decided(w: World, refund_id: str, order_it: bool, reply: Reply) -> None:
    """As the regulators' refund route: the model moves with the money."""
    r = w.refunds[refund_id]
    if r.status == "escalated":
        expect(reply, {200})
        r.dismissed = not order_it
        refunds.decided(w, r, "refunding" if order_it else "rejected")
        r.status = "refunding" if order_it else "rejected"
    elif (order_it and r.status in model.APPROVED) or (not order_it and r.dismissed):
        expect(reply, {200})
    else:
        expect(reply, {409}, {"refund_not_escalated", "refund_not_pending"})


def _lesson_decided(w: World, consumption_id: str, release: bool, reply: Reply) -> None:
    """As the regulators' dispute route."""
    c = w.consumptions[consumption_id]
    agrees = (c.status in model.CONFIRMED) if release else c.status == "withdrawn"
    if c.status not in disputes.OPEN and not agrees:
        expect(reply, {409}, {"dispute_already_resolved", "consumption_not_withdrawable"})
        return
    expect(reply, {200})
    if c.status == "disputed" and not release:
        disputes.withdrawn(w, w.order(c.order_id), c)


def _pick(w: World, n: int, stage: str, *, filed_by_family: bool = False) -> model.Case | None:
    """A case, most often one whose turn it is (`stage`), sometimes any."""
    cases = [c for c in w.cases.values() if not filed_by_family or c.family >= 0]
    turn = [c for c in cases if c.stage == stage]
    return w.pick(turn if turn and n % 4 else cases, n)


def _latest_step_of(stored: Complaint, role: str) -> tuple[Action, str] | None:
    """The action and text of the latest step on the case by someone of `role` (the run
    has one staff token per institution and one filing parent per case)."""
    steps = [s for s in bootstrap.context().store.timeline(stored.complaint_id)
             if s.actor.startswith(role)]
    return (steps[-1].action, steps[-1].reason) if steps else None


def _stored(case: model.Case) -> Complaint:
    found = bootstrap.context().store.complaint(case.complaint_id)
    assert found is not None, case.complaint_id
    return found


# the checks


def observe(w: World, wires: list[dict[str, Any]]) -> None:
    """After each step: every case the tables hold was filed by someone the model knows of
    (or opened by an escalation), in a stage reachable from the one last seen, with one
    holder and, while a clock runs, on the schedule."""
    for wire in wires:
        stored: Complaint = w.decoded(Complaint, w.p.plane.platform_table, wire)
        case = w.cases.get(stored.complaint_id)
        if case is None:
            if stored.source.value in ("app", "12345"):
                raise Violation(f"a complaint nobody filed: {stored.complaint_id}")
            case = w.cases[stored.complaint_id] = model.Case(stored.complaint_id,
                                                       stored.institution_id, -1)
        model.move("complaint", MOVES, case.complaint_id, case.stage, stored.stage.value)
        if stored.version < case.version or stored.escalations < case.escalations:
            raise Violation(f"{case.complaint_id} went back: version {stored.version}, "
                            f"escalations {stored.escalations}")
        _one_holder(stored)
        _scheduled(stored, wire)
        case_transfers.deadline_kept(w, case, stored)
        case.stage, case.version = stored.stage.value, stored.version
        case.escalations = stored.escalations
        case_transfers.remember(case, stored)


def _one_holder(stored: Complaint) -> None:
    holder = stored.holder
    routed = stored.department is not None and len(stored.region) == 6
    well_formed = {
        Stage.FILED: holder == "platform" and stored.department is None,
        Stage.INSTITUTION: routed and holder == f"institution:{stored.institution_id}",
        Stage.AWAITING_PARENT: routed and bool(stored.parent_sub),
        Stage.DEPARTMENT: routed and holder == f"regulator:{stored.department}:{stored.region}",
        Stage.RESOLVED: routed and stored.resolved_at is not None,
    }[stored.stage]
    if not well_formed:
        raise Violation(f"{stored.complaint_id} in {stored.stage} held by {holder!r}")


def _scheduled(stored: Complaint, wire: dict[str, Any]) -> None:
    due = wire.get("due_pk", {}).get("S", "")
    expected = ("complaintroute" if stored.stage is Stage.FILED
                else "complaintdue" if stored.next_tick is not None else "")
    if due.split("#")[0] != expected:
        raise Violation(f"{stored.complaint_id} ({stored.stage}) scheduled for {due!r}, "
                        f"expected {expected!r}")


def at_the_end(w: World) -> None:
    """Drained: every case routed exactly once, its timeline one step per version, and no
    clock run out without its case having moved on (escalated as far as it goes)."""
    store = bootstrap.context().store
    for case in w.cases.values():
        stored = store.complaint(case.complaint_id)
        assert stored is not None
        steps = store.timeline(case.complaint_id)
        if [s.seq for s in steps] != list(range(1, stored.version + 1)):
            raise Violation(f"{case.complaint_id} version {stored.version}, timeline "
                            f"{[s.seq for s in steps]}")
        routed = sum(s.action == "routed" for s in steps)
        if routed != 1:
            raise Violation(f"{case.complaint_id} routed {routed} times")
        clock = stored.clock
        if clock is not None and clock.due_at <= w.now and not stored.overdue_at_top:
            raise Violation(f"{case.complaint_id} overdue since {clock.due_at} in "
                            f"{stored.stage}, not moved on")
        if stored.overdue_at_top and higher_region(stored.region) is not None:
            raise Violation(f"{case.complaint_id} left overdue at {stored.region}")
