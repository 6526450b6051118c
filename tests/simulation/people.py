"""What parents do, over HTTP, each answer held against the model (what institution staff
teach: tests/simulation/teaching.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

from tests.simulation import model
from tests.simulation.faults import Fault
from tests.simulation.model import Violation
from tests.simulation.world import World
from tests.support.harness import Reply

KEY_KEPT = timedelta(hours=47)  # an Idempotency-Key's answer is kept 48 hours


def expect(reply: Reply, statuses: set[int], codes: set[str] | None = None) -> Reply:
    if reply.status not in statuses or (codes is not None and reply.code not in codes):
        raise Violation(f"expected {sorted(statuses)} {sorted(codes or [])}, got "
                        f"{reply.status} {reply.body}")
    return reply


def create_order(w: World, family: int, shop: int, lessons: int,
                 faults: tuple[Fault, ...] = ()) -> str:
    """A parent buys a few lessons; one time in eleven a lot (up to one more than the course
    has), which the caps, counted with the child's lessons still held, may refuse."""
    fam, sh = w.pick(w.families, family), w.pick(w.shops, shop)
    count = 20 + lessons % 12 if lessons % 11 == 10 else 1 + lessons % 5
    body = {"course_id": sh.course_id, "student_id": fam.student_id, "lessons": count}
    key = w.new_key()
    status, refusal = w.purchase_refusal(sh) or (422, refused_purchase(w, fam, sh, count))
    reply = w.http("POST", "/v1/orders", fam.parent, body, key=key, faults=faults)
    if refusal:
        expect(reply, {status}, {refusal})
        return f"buying {count} lessons of {sh.course_id}: refused, {refusal}"
    expect(reply, {201})
    created = reply.body
    if created["amount_fen"] != sh.price * body["lessons"]:
        raise Violation(f"order priced {created['amount_fen']} for {body}")
    w.orders.append(model.Order(
        created["order_id"], w.families.index(fam), w.shops.index(sh), body["lessons"],
        created["amount_fen"], created["payment"]["reference"], created["payment"]["account"],
        datetime.fromisoformat(created["payment"]["expires_at"]), key, body, w.now))
    return f"order {created['order_id']} of {body['lessons']} lessons"


def refused_purchase(w: World, fam: model.Family, sh: model.Shop, lessons: int) -> str:
    """The rule a purchase breaks (docs/policy.md, one charge), "" if none."""
    today = model.business_date(w.now)
    held = sum(o.remaining for o in w.orders
               if w.family_of(o) is fam and w.shop_of(o) is sh and not o.liquidated
               and o.status in ("paid", "pending_payment"))
    for code, breaks in (
        ("lessons_exceed_course", lessons > model.COURSE_LESSONS),
        ("course_ended", today > sh.ends_on),
        ("renewal_too_early", held > model.RENEWAL_MAX_LEFT),
        ("charge_cap_exceeded", held + lessons > model.MAX_LESSONS_PER_CHARGE
         or (held + lessons) * sh.price > model.MAX_FEN_PER_CHARGE),
    ):
        if breaks:
            return code
    return ""


def replay_create(w: World, order: int, variant: int, faults: tuple[Fault, ...] = ()) -> str:
    o = w.pick(w.orders, order)
    if o is None:
        return "no order to replay"
    fam = w.family_of(o)
    if w.now - o.created_at > KEY_KEPT:
        return f"the key of {o.order_id} has expired: not replayed"
    if variant % 3:
        reply = expect(w.http("POST", "/v1/orders", fam.parent, o.body, key=o.key,
                              faults=faults), {200, 201})
        if reply.body["order_id"] != o.order_id:
            raise Violation(f"a replay of {o.key} created {reply.body['order_id']}")
        return f"replayed {o.order_id}"
    changed = {**o.body, "lessons": o.body["lessons"] % 4 + 1}
    expect(w.http("POST", "/v1/orders", fam.parent, changed, key=o.key, faults=faults), {422},
           {"idempotency_key_reused"})
    return f"key of {o.order_id} reused with another body: refused"


def pay(w: World, order: int, kind: int) -> str:
    """A family pays at the bank: exact, a fen short, or twice."""
    unpaid = [o for o in w.orders if o.paid_at_bank == 0]
    o = w.pick(unpaid if unpaid and kind % 10 < 7 else w.orders, order)
    if o is None:
        return "nothing to pay"
    fam = w.family_of(o)
    amount = o.amount - 1 if kind % 10 == 7 else o.amount
    for _ in range(2 if kind % 10 == 8 else 1):
        w.p.bank.pay(fam.payer, o.account, o.reference, amount)
        o.paid_at_bank += amount
    return f"paid {amount}{' twice' if kind % 10 == 8 else ''} for {o.order_id}"


def confirm(w: World, consumption: int, who: int, faults: tuple[Fault, ...] = ()) -> str:
    open_ones = [c for c in w.consumptions.values()
                 if c.status in ("pending_confirmation", "disputed")]
    c = w.pick(open_ones if open_ones and who % 3 else list(w.consumptions.values()),
               consumption)
    if c is None:
        return "nothing to confirm"
    owner = w.family_of(w.order(c.order_id))
    if who % 10 == 9:
        stranger = next(f for f in w.families if f is not owner)
        expect(w.http("POST", f"/v1/consumptions/{c.consumption_id}/confirm", stranger.parent,
                      faults=faults), {404}, {"consumption_not_found"})
        return f"a stranger could not confirm {c.consumption_id}"
    reply = w.http("POST", f"/v1/consumptions/{c.consumption_id}/confirm", owner.parent,
                   key=w.new_key(), faults=faults)
    if c.status == "withdrawn":
        expect(reply, {409}, {"consumption_withdrawn"})
        return f"{c.consumption_id} was withdrawn: not confirmed"
    expect(reply, {200})
    if reply.body["status"] not in model.CONFIRMED:
        raise Violation(f"confirmed {c.consumption_id} answered {reply.body['status']}")
    c.parent_confirmed = c.parent_confirmed or c.status in ("pending_confirmation", "disputed")
    return f"confirmed {c.consumption_id}"


def dispute(w: World, consumption: int, faults: tuple[Fault, ...] = ()) -> str:
    pending = [c for c in w.consumptions.values() if c.status == "pending_confirmation"]
    c = w.pick(pending if pending and consumption % 2 else list(w.consumptions.values()),
               consumption)
    if c is None:
        return "nothing to dispute"
    owner = w.family_of(w.order(c.order_id))
    reply = w.http("POST", f"/v1/consumptions/{c.consumption_id}/dispute", owner.parent,
                   {"reason": "老师没来"}, key=w.new_key(), faults=faults)
    if (c.status in model.CONFIRMED or c.status == "withdrawn") and c.escalate_after is None:
        expect(reply, {409}, {"consumption_not_pending"})
        return f"{c.consumption_id} is {c.status}: no dispute"
    expect(reply, {200})  # (settled since its parent disputed it so: its dispute again)
    if c.status in model.CONFIRMED or c.status == "withdrawn":
        return f"{c.consumption_id} is {c.status}: its dispute answered again"
    if c.status != "disputed":
        c.status = "disputed"
        answer_by = model.working_days_after(w.now, model.CLOCKS[c.region].dispute_answer)
        if reply.body["answer_by"] != answer_by.isoformat():
            raise Violation(f"{c.consumption_id} in {c.region}: answer by "
                            f"{reply.body['answer_by']}, the model counts {answer_by}")
        c.escalate_after = model.end_of(answer_by)
    return f"disputed {c.consumption_id}"


def read_order(w: World, order: int, who: int) -> str:
    """Everyone sees only what is theirs: the owner and the institution see an order, other
    parents and other institutions get a 404."""
    o = w.pick(w.orders, order)
    if o is None:
        return "no order to read"
    owner, shop = w.family_of(o), w.shop_of(o)
    stranger = next(f for f in w.families if f is not owner)
    others = [s for s in w.shops if s.institution_id != shop.institution_id]  # another
    callers = [(owner.parent, True), (shop.staff, True), (stranger.parent, False)]  # course
    callers += [(others[0].staff, False)] if others else []  # of one institution is its own
    for caller, allowed in callers:
        reply = w.http("GET", f"/v1/orders/{o.order_id}", caller)
        expect(reply, {200} if allowed else {404})
    return f"read {o.order_id} as its owner, its institution and two strangers"
