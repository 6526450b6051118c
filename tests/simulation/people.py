"""What parents and institution staff do, over HTTP, each answer held against the model."""

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


def lesson_times(w: World, o: model.Order, variant: int, gap: int) -> tuple[datetime, datetime]:
    """When the lesson is said to have been taught: in the hours offline lessons may be
    (06:00 to 20:30) unless the variant breaks a rule on purpose; variant 5 ends exactly at
    20:30 or a minute after, the last time it may or the first it may not."""
    minutes, now = w.shop_of(o).minutes, w.now
    ended = by_closing(now - timedelta(minutes=1 + gap % 90), minutes)
    if variant == 5:
        ended = _closing_before(now) + timedelta(minutes=gap % 2)
    elif variant == 6:
        ended = now - timedelta(hours=73 + gap % 100)
    elif variant == 7:
        ended = now + timedelta(minutes=1 + gap % 60)  # within the skew allowed, or not
    started = ended - timedelta(minutes=minutes + (25 if variant == 8 else 0))
    theirs = [(s, e) for student, s, e in w.lessons if student == w.family_of(o).student_id]
    if variant == 9 and theirs:
        started = theirs[-1][0] + timedelta(minutes=10)
        ended = started + timedelta(minutes=minutes)
    if variant == 10 and o.paid_at is not None:
        started = o.paid_at - timedelta(minutes=1)
        ended = started + timedelta(minutes=minutes)
    return started, ended


def _closing_before(moment: datetime) -> datetime:
    """The last closing time (20:30, Asia/Shanghai) before `moment`, less a minute of room."""
    local = moment.astimezone(model.SHANGHAI)
    closing = datetime.combine(local.date(), model.OFFLINE_ENDS_BY, model.SHANGHAI)
    return closing if closing + timedelta(minutes=1) <= moment else closing - timedelta(days=1)


def by_closing(ended: datetime, minutes: int) -> datetime:
    """`ended`, or the last closing time before it if the lesson would fall outside the
    hours it may be taught."""
    start = (ended - timedelta(minutes=minutes)).astimezone(model.SHANGHAI)
    if model.in_teaching_hours(start, ended):
        return ended
    return _closing_before(ended)


def predicted_refusals(w: World, orders: list[model.Order], started: datetime,
                       ended: datetime) -> tuple[set[str], dict[str, str]]:
    """(request-level codes that apply, per-order refusals by order id)."""
    shop = w.shop_of(orders[0])
    length = (ended - started).total_seconds() / 60
    request = {code for code, applies in (
        ("invalid_lesson_time", length < 10 or length > 12 * 60),
        ("lesson_not_finished", ended > w.now + model.CLOCK_SKEW),
        ("lesson_recorded_too_late", w.now - ended > model.RECORD_WINDOW),
        ("lesson_length_mismatch", abs(length - shop.minutes) > model.LENGTH_TOLERANCE_MINUTES),
        ("lesson_outside_course_dates", not (
            shop.starts_on <= model.business_date(started) <= shop.ends_on
            and shop.starts_on <= model.business_date(ended) <= shop.ends_on)),
        ("lesson_starts_too_early",
         started.astimezone(model.SHANGHAI).time() < model.LESSONS_START_FROM),
        ("lesson_ends_too_late", not model.ends_in_hours(started, ended)),
    ) if applies}
    refused: dict[str, str] = {}
    for o in orders:
        if o.status != "paid" or o.remaining < 1:
            refused[o.order_id] = "order_has_no_lessons"
        elif o.open_refund:
            refused[o.order_id] = "order_refund_pending"
        elif any(w.consumptions[c].status == "disputed" for c in o.consumptions):
            refused[o.order_id] = "order_dispute_open"
        elif w.frozen(w.shop_of(o)):
            refused[o.order_id] = "institution_frozen"
        elif o.paid_at is not None and started < o.paid_at:
            refused[o.order_id] = "lesson_before_payment"
    return request, refused


def record_lesson(w: World, shop: int, order: int, variant: int, gap: int,
                  faults: tuple[Fault, ...] = ()) -> str:
    sh = w.pick(w.shops, shop)
    theirs = [o for o in w.orders if w.shop_of(o) is sh]
    teachable = [o for o in theirs if o.status == "paid" and o.remaining > 0]
    if teachable and variant % 12 < 10:  # mostly the orders an institution really teaches
        theirs = teachable
    if not theirs:
        return "no order to teach"
    attending = [theirs[order % len(theirs)]]
    if variant % 12 == 11 and len(theirs) > 1:
        attending.append(theirs[(order + 1) % len(theirs)])
    started, ended = lesson_times(w, attending[0], variant % 12, gap)
    request_codes, order_codes = predicted_refusals(w, attending, started, ended)
    body = {"course_id": sh.course_id, "started_at": started.isoformat(),
            "ended_at": ended.isoformat(), "teacher_id": sh.teacher_id,
            "order_ids": [o.order_id for o in attending]}
    asked_at = w.now
    reply = w.http("POST", "/v1/lessons", sh.staff, body, key=w.new_key(), faults=faults)
    if w.now != asked_at:  # the client waited out its key's lease: its last try ran later
        request_codes, order_codes = predicted_refusals(w, attending, started, ended)
    if request_codes or order_codes:
        expect(reply, {400, 409, 422}, request_codes or set(order_codes.values()))
        return f"lesson refused: {reply.code}"
    accepted = _expected_consumers(w, attending, started, ended)
    if not accepted:
        expect(reply, {409, 422}, {"student_lesson_overlap"})
        return "lesson refused: the student was elsewhere"
    expect(reply, {201})
    got = {c["order_id"]: c for c in reply.body["consumptions"]}
    if set(got) != {o.order_id for o in accepted}:
        raise Violation(f"lesson consumed {sorted(got)}, the model expects "
                        f"{sorted(o.order_id for o in accepted)}")
    for o in accepted:
        remember(w, o, got[o.order_id], started, ended)
    return f"lesson {reply.body['lesson_id']} for {sorted(got)}"


def _expected_consumers(w: World, attending: list[model.Order], started: datetime,
                        ended: datetime) -> list[model.Order]:
    taken = [(student, s, e) for student, s, e in w.lessons]
    accepted = []
    for o in attending:
        student = w.family_of(o).student_id
        if any(st == student and model.overlaps((s, e), (started, ended)) for st, s, e in taken):
            continue
        taken.append((student, started, ended))
        accepted.append(o)
    return accepted


def remember(w: World, o: model.Order, view: dict, started: datetime, ended: datetime) -> None:
    consumption = model.Consumption(
        view["consumption_id"], o.order_id, w.family_of(o).student_id, started, ended, w.now,
        view["amount_fen"])
    w.consumptions[consumption.consumption_id] = consumption
    o.consumptions.append(consumption.consumption_id)
    w.lessons.append((consumption.student_id, started, ended))


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
        c.escalate_after = model.end_of(model.working_days_after(w.now,
                                                                 model.ANSWER_WORKING_DAYS))
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
