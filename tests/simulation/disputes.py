"""How lessons not yet confirmed end, over HTTP, each answer held against the model: the
institution withdraws one (pending or disputed, or one already confirmed: refused) or
upholds a dispute with a note; a regulator decides a dispute escalated on the schedule (or
one not yet escalated: refused, or one outside its jurisdiction: not found)."""

from __future__ import annotations

from tests.simulation import model, regulators
from tests.simulation.faults import Fault
from tests.simulation.model import Violation
from tests.simulation.people import expect
from tests.simulation.world import World
from tests.support import flows

OPEN = ("pending_confirmation", "disputed")
DONE = {"release": "released", "return": "returned"}
ELSEWHERE = {"sub": "reg-sz", "region": "440300"}  # Shenzhen: not the shops' district


def withdraw(w: World, n: int, variant: int, faults: tuple[Fault, ...] = ()) -> str:
    open_ones = [c for c in w.consumptions.values() if c.status in OPEN]
    c = w.pick(open_ones if open_ones and variant % 4 else list(w.consumptions.values()), n)
    if c is None:
        return "no lesson to withdraw"
    o = w.order(c.order_id)
    shop = w.shop_of(o)
    path = f"/v1/consumptions/{c.consumption_id}/withdraw"
    if variant % 10 == 9:
        other = next((s for s in w.shops if s.institution_id != shop.institution_id), None)
        if other is not None:
            expect(w.http("POST", path, other.staff, {"reason": "误录"}, faults=faults), {404},
                   {"consumption_not_found"})
            return f"another institution could not withdraw {c.consumption_id}"
    reply = w.http("POST", path, shop.staff, {"reason": "学生当天请假"}, key=w.new_key(),
                   faults=faults)
    if c.status == "withdrawn":
        expect(reply, {200})
        return f"{c.consumption_id} withdrawn again: the same answer"
    if c.status not in OPEN:
        expect(reply, {409}, {"consumption_not_withdrawable"})
        return f"{c.consumption_id} is {c.status}: not withdrawn"
    expect(reply, {200})
    withdrawn(w, o, c)
    return f"withdrew {c.consumption_id} of {o.order_id}"


def withdrawn(w: World, o: model.Order, c: model.Consumption) -> None:
    """The model of a withdrawal (docs/decisions.md): the lesson goes back to the order; if
    the order's remaining money was already refunded, its money is refunded at once."""
    c.status = "withdrawn"
    o.withdrawn += 1
    if o.open_refund:
        pending = w.refunds[o.open_refund]
        pending.returned += c.amount
        pending.returned_lessons += 1
    elif o.refunded:
        refund_id = "rfd_" + c.consumption_id.removeprefix("con_")
        w.refunds[refund_id] = model.Refund(refund_id, o.order_id, 1, c.amount, "refunding")
        o.refunded += 1


def uphold(w: World, n: int, faults: tuple[Fault, ...] = ()) -> str:
    disputed = [c for c in w.consumptions.values() if c.status == "disputed"]
    c = w.pick(disputed or list(w.consumptions.values()), n)
    if c is None:
        return "no dispute to answer"
    staff = w.shop_of(w.order(c.order_id)).staff
    reply = w.http("POST", f"/v1/consumptions/{c.consumption_id}/uphold", staff,
                   {"note": UPHELD}, key=w.new_key(), faults=faults)
    if c.upheld_note == UPHELD:  # its own uphold again: the lesson as it is now
        expect(reply, {200})
        if reply.body["status"] != c.status:
            raise Violation(f"upholding {c.consumption_id} again answered {reply.body}")
        return f"{c.consumption_id} upheld so already ({c.status})"
    if c.status != "disputed":
        expect(reply, {409}, {"consumption_not_disputed"})
        return f"{c.consumption_id} is {c.status}: nothing to answer"
    expect(reply, {200})
    if reply.body["status"] != "disputed" or reply.body["institution_note"] != UPHELD:
        raise Violation(f"upholding {c.consumption_id} answered {reply.body}")
    c.upheld_note = UPHELD
    return f"upheld {c.consumption_id}"


UPHELD = "有签到记录"


def decide(w: World, n: int, verdict: int, faults: tuple[Fault, ...] = ()) -> str:
    """A regulator of the province releases (one in two) or returns a disputed lesson."""
    disputed = [c for c in w.consumptions.values() if c.status == "disputed"]
    c = w.pick(disputed or list(w.consumptions.values()), n)
    if c is None:
        return "no dispute to decide"
    outcome = "release" if verdict % 2 else "return"
    path = f"/v1/regulator/consumptions/{c.consumption_id}/decide"
    body = {"outcome": outcome, "reason": "经核查"}
    if verdict % 7 == 6:
        expect(w.http("POST", path, flows.regulator(w.p, **ELSEWHERE), body, faults=faults),
               {404}, {"consumption_not_found"})
        return f"a regulator elsewhere could not decide {c.consumption_id}"
    reply = w.http("POST", path, regulators.deciding_regulator(w, c.consumption_id), body,
                   key=w.new_key(), faults=faults)
    if not c.escalated:
        expect(reply, {409}, {"dispute_not_escalated"})
        return f"{c.consumption_id} never escalated: no decision"
    agrees = (c.status in model.CONFIRMED) if outcome == "release" else c.status == "withdrawn"
    if c.status not in OPEN and not agrees:
        expect(reply, {409}, {"dispute_already_resolved", "consumption_not_withdrawable"})
        return f"{c.consumption_id} is {c.status}: not {DONE[outcome]}"
    expect(reply, {200})
    if c.status == "disputed" and outcome == "return":
        withdrawn(w, w.order(c.order_id), c)
    return f"regulator {DONE[outcome]} {c.consumption_id}: {reply.body['status']}"
