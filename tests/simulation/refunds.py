"""Refund requests, over HTTP, each answer held against the model: a parent asks for an
order's unconsumed money back (or asks again while one is open, or for an order with nothing
left), the institution approves or rejects (and decides twice); silence approves on the
schedule and the payout goes through the bank's callbacks like any transfer. A parent takes
a rejection to the regulator, who orders the refund or dismisses the escalation; once one
is dismissed, the order takes no request (new or escalated) for its region's working days,
and parents cycling request, rejection, escalation and dismissal ask again in them."""

from __future__ import annotations

from datetime import timedelta

from tests.simulation import model, regulators
from tests.simulation.faults import Fault
from tests.simulation.model import Violation
from tests.simulation.people import expect
from tests.simulation.world import World


def ask_refund(w: World, order: int, faults: tuple[Fault, ...] = ()) -> str:
    paid = [o for o in w.orders if o.status == "paid"]
    cycling = [o for o in paid if o.refund_again_on is not None]
    o = w.pick(cycling if cycling and order % 4 == 0  # a parent asking again and again
               else paid if paid and order % 5 else w.orders, order)
    if o is None:
        return "no order to refund"
    return ask(w, o, faults)


def ask(w: World, o: model.Order, faults: tuple[Fault, ...] = ()) -> str:
    """The parent of `o` asks for its unconsumed money back."""
    fam = w.family_of(o)
    reply = w.http("POST", f"/v1/orders/{o.order_id}/refund-requests", fam.parent,
                   {"reason": "不想学了"}, key=w.new_key(), faults=faults)
    if o.status != "paid":
        expect(reply, {409}, {"order_not_refundable"})
        return f"refund of {o.order_id} ({o.status}): refused"
    if o.open_refund:
        expect(reply, {409}, {"refund_request_open"})
        return f"a second refund request for {o.order_id}: refused"
    if o.remaining == 0:
        expect(reply, {409}, {"nothing_to_refund"})
        return f"refund of {o.order_id}, every lesson taught: refused"
    if too_soon(w, o):
        expect(reply, {422}, {"refund_request_too_soon"})
        return f"refund of {o.order_id} asked again before {o.refund_again_on}: refused"
    expect(reply, {201})
    refund = reply.body
    worth = _worth(w, o)
    if (refund["lessons"], refund["amount_fen"]) != (o.remaining, worth):
        raise Violation(f"refund of {o.order_id}: {refund['lessons']} lessons for "
                        f"{refund['amount_fen']} fen; the model says {o.remaining} for {worth}")
    before_start = not o.consumptions and model.business_date(w.now) < w.shop_of(o).starts_on
    if refund["status"] != ("refunding" if before_start else "pending_decision"):
        raise Violation(f"refund of {o.order_id} is {refund['status']}, "
                        f"before the course started: {before_start}")
    clocks = model.CLOCKS[w.shop_of(o).region]
    decide_by = model.working_days_after(w.now, clocks.refund_decision)
    payout_due = model.business_date(w.now) + timedelta(
        days=model.PAYOUT_BEFORE_START if before_start else clocks.payout_after_start)
    if (refund["decide_by"], refund["payout_due"]) != (decide_by.isoformat(),
                                                       payout_due.isoformat()):
        raise Violation(f"refund of {o.order_id} in {w.shop_of(o).region}: decide by "
                        f"{refund['decide_by']}, paid by {refund['payout_due']}; the model "
                        f"counts {decide_by}, {payout_due}")
    w.refunds[refund["refund_id"]] = model.Refund(refund["refund_id"], o.order_id,
                                                  refund["lessons"], worth, refund["status"],
                                                  decide_after=model.end_of(decide_by))
    if before_start:
        o.refunded += refund["lessons"]
    else:
        o.open_refund = refund["refund_id"]
    return f"refund {refund['refund_id']} of {o.order_id}: {refund['status']}"


def decide_refund(w: World, n: int, verdict: int, faults: tuple[Fault, ...] = ()) -> str:
    """The institution approves (two in three) or rejects with a reason."""
    waiting = [r for r in w.refunds.values() if r.status == "pending_decision"]
    r = w.pick(waiting or list(w.refunds.values()), n)
    if r is None:
        return "no refund request to decide"
    return decide(w, r, verdict % 3 != 0, faults)


def decide(w: World, r: model.Refund, approve: bool, faults: tuple[Fault, ...] = ()) -> str:
    o = w.order(r.order_id)
    path = f"/v1/refund-requests/{r.refund_id}/{'approve' if approve else 'reject'}"
    reply = w.http("POST", path, w.shop_of(o).staff, {"reason": "" if approve else "已上课"},
                   key=w.new_key(), faults=faults)
    if r.status == "pending_decision":
        expect(reply, {200})
        decided(w, r, "refunding" if approve else "rejected")
        r.rejected = not approve
    elif r.status != "escalated" and (r.status == "rejected") != approve:
        expect(reply, {200})  # decided that way already (an escalated one: the regulator's)
    elif r.rejected and not approve:
        expect(reply, {200})  # its own rejection again, escalated or decided since
    else:
        expect(reply, {409}, {"refund_not_pending"})
    return f"refund {r.refund_id}: {reply.status} {reply.body.get('status')}"


def _worth(w: World, o: model.Order) -> int:
    """What the order's remaining lessons are worth: what it cost, less its live lessons."""
    return o.amount - sum(w.consumptions[c].amount for c in o.consumptions
                          if w.consumptions[c].status != "withdrawn")


def escalate_refund(w: World, n: int, faults: tuple[Fault, ...] = ()) -> str:
    """The parent takes a rejection to the regulator (or tries with one not rejected)."""
    rejected = [r for r in w.refunds.values() if r.status == "rejected" and not r.dismissed]
    r = w.pick(rejected or list(w.refunds.values()), n)
    if r is None:
        return "no refund request to escalate"
    return escalate(w, r, faults)


def escalate(w: World, r: model.Refund, faults: tuple[Fault, ...] = ()) -> str:
    o = w.order(r.order_id)
    reply = w.http("POST", f"/v1/refund-requests/{r.refund_id}/escalate",
                   w.family_of(o).parent, {"reason": "拒绝无理"}, key=w.new_key(),
                   faults=faults)
    if r.escalated and r.status != "escalated":
        expect(reply, {200})  # its own escalation again, decided since: as it is now
        return f"escalating {r.refund_id} again ({r.status}): answered as it is"
    refusal = ("" if r.status == "escalated" else "refund_not_rejected" if r.status != "rejected"
               else "refund_already_escalated" if r.dismissed
               else "order_not_refundable" if o.status != "paid"
               else "refund_request_open" if o.open_refund
               else "nothing_to_refund" if o.remaining == 0
               else "refund_request_too_soon" if too_soon(w, o) else "")
    if refusal:
        expect(reply, {422} if refusal == "refund_request_too_soon" else {409}, {refusal})
        return f"escalating {r.refund_id}: {refusal}"
    expect(reply, {200})
    if r.status == "rejected":
        r.status, r.lessons, r.amount = "escalated", o.remaining, _worth(w, o)
        r.escalated = True
        o.open_refund = r.refund_id
    if (reply.body["lessons"], reply.body["amount_fen"]) != (r.lessons, r.amount):
        raise Violation(f"{r.refund_id} escalated for {reply.body['lessons']} lessons, "
                        f"{reply.body['amount_fen']} fen; the model: {r.lessons}, {r.amount}")
    return f"escalated {r.refund_id}"


def regulate_refund(w: World, n: int, verdict: int, faults: tuple[Fault, ...] = ()) -> str:
    """A regulator of the province orders (one in two) or dismisses an escalated request."""
    escalated = [r for r in w.refunds.values() if r.status == "escalated"]
    r = w.pick(escalated or list(w.refunds.values()), n)
    if r is None:
        return "no refund request to regulate"
    return regulate(w, r, verdict % 2 == 1, faults)


def regulate(w: World, r: model.Refund, order_it: bool, faults: tuple[Fault, ...] = ()) -> str:
    path = f"/v1/regulator/refund-requests/{r.refund_id}/{'order' if order_it else 'dismiss'}"
    reply = w.http("POST", path, regulators.deciding_regulator(w, r.refund_id),
                   {"reason": "经核查"}, key=w.new_key(),
                   faults=faults)
    if r.status == "escalated":
        expect(reply, {200})
        r.dismissed = not order_it
        decided(w, r, "refunding" if order_it else "rejected")
        r.status = reply.body["status"]
    elif (order_it and r.status in model.APPROVED) or (not order_it and r.dismissed):
        expect(reply, {200})
    else:
        expect(reply, {409}, {"refund_not_escalated"})
    return f"regulator on {r.refund_id}: {reply.status} {reply.body.get('status')}"


def too_soon(w: World, o: model.Order) -> bool:
    """A regulator dismissed an escalation of the order within its region's working days."""
    return o.refund_again_on is not None and model.business_date(w.now) < o.refund_again_on


def decided(w: World, r: model.Refund, status: str) -> None:
    """A request left `pending_decision` or `escalated` (by an answer, or silence seen in
    the tables); a dismissed escalation starts the order's time without requests."""
    o = w.order(r.order_id)
    if status == "rejected" and r.dismissed and o.open_refund == r.refund_id:
        cooldown = model.CLOCKS[w.shop_of(o).region].refund_cooldown
        o.refund_again_on = model.working_days_after(w.now, cooldown)
    if o.open_refund == r.refund_id:
        o.open_refund = ""
        if status in model.APPROVED:  # priced again: lessons withdrawn meanwhile go with it
            r.amount, r.lessons = r.amount + r.returned, r.lessons + r.returned_lessons
            o.refunded += r.lessons
        r.returned = r.returned_lessons = 0
