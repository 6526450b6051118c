"""Refund requests, over HTTP, each answer held against the model: a parent asks for an
order's unconsumed money back (or asks again while one is open, or for an order with nothing
left), the institution approves or rejects (and decides twice); silence approves on the
schedule and the payout goes through the bank's callbacks like any transfer. A parent takes
a rejection to the regulator, who orders the refund or dismisses the escalation."""

from __future__ import annotations

from tests.simulation import model, regulators
from tests.simulation.faults import Fault
from tests.simulation.model import Violation
from tests.simulation.people import expect
from tests.simulation.world import World


def ask_refund(w: World, order: int, faults: tuple[Fault, ...] = ()) -> str:
    paid = [o for o in w.orders if o.status == "paid"]
    o = w.pick(paid if paid and order % 5 else w.orders, order)
    if o is None:
        return "no order to refund"
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
    w.refunds[refund["refund_id"]] = model.Refund(refund["refund_id"], o.order_id,
                                                  refund["lessons"], worth, refund["status"])
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
    o = w.order(r.order_id)
    approve = verdict % 3 != 0
    path = f"/v1/refund-requests/{r.refund_id}/{'approve' if approve else 'reject'}"
    reply = w.http("POST", path, w.shop_of(o).staff, {"reason": "" if approve else "已上课"},
                   key=w.new_key(), faults=faults)
    if r.status == "pending_decision":
        expect(reply, {200})
        decided(w, r, "refunding" if approve else "rejected")
    elif r.status != "escalated" and (r.status == "rejected") != approve:
        expect(reply, {200})  # decided that way already (an escalated one: the regulator's)
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
    o = w.order(r.order_id)
    reply = w.http("POST", f"/v1/refund-requests/{r.refund_id}/escalate",
                   w.family_of(o).parent, {"reason": "拒绝无理"}, key=w.new_key(),
                   faults=faults)
    refusal = ("" if r.status == "escalated" else "refund_not_rejected" if r.status != "rejected"
               else "refund_already_escalated" if r.dismissed
               else "order_not_refundable" if o.status != "paid"
               else "refund_request_open" if o.open_refund
               else "nothing_to_refund" if o.remaining == 0 else "")
    if refusal:
        expect(reply, {409}, {refusal})
        return f"escalating {r.refund_id}: {refusal}"
    expect(reply, {200})
    if r.status == "rejected":
        r.status, r.lessons, r.amount = "escalated", o.remaining, _worth(w, o)
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
    order_it = verdict % 2 == 1
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


def decided(w: World, r: model.Refund, status: str) -> None:
    """A request left `pending_decision` (by an answer, or silence seen in the tables)."""
    o = w.order(r.order_id)
    if o.open_refund == r.refund_id:
        o.open_refund = ""
        if status in model.APPROVED:  # priced again: lessons withdrawn meanwhile go with it
            r.amount, r.lessons = r.amount + r.returned, r.lessons + r.returned_lessons
            o.refunded += r.lessons
        r.returned = r.returned_lessons = 0
