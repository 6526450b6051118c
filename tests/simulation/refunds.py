"""Refund requests, over HTTP, each answer held against the model: a parent asks for an
order's unconsumed money back (or asks again while one is open, or for an order with nothing
left), the institution approves or rejects (and decides twice); silence approves on the
schedule and the payout goes through the bank's callbacks like any transfer."""

from __future__ import annotations

from tests.simulation import model
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
    worth = o.amount - sum(w.consumptions[c].amount for c in o.consumptions
                           if w.consumptions[c].status != "withdrawn")
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
    elif (r.status == "rejected") != approve:
        expect(reply, {200})
    else:
        expect(reply, {409}, {"refund_not_pending"})
    return f"refund {r.refund_id}: {reply.status} {reply.body.get('status')}"


def decided(w: World, r: model.Refund, status: str) -> None:
    """A request left `pending_decision` (by an answer, or silence seen in the tables)."""
    o = w.order(r.order_id)
    if o.open_refund == r.refund_id:
        o.open_refund = ""
        if status in model.APPROVED:  # priced again: lessons withdrawn meanwhile go with it
            r.amount, r.lessons = r.amount + r.returned, r.lessons + r.returned_lessons
            o.refunded += r.lessons
        r.returned = r.returned_lessons = 0
