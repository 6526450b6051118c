"""What institution staff teach, over HTTP, each answer held against the model: lessons
recorded (valid, backdated, unfinished, of the wrong length, overlapping their student's or
their teacher's other lesson, before the payment, outside the course dates, at the closing
time, for two orders, for the child taught most this week) and lessons recorded in bulk,
back to back up to a week's cap and past it."""

from __future__ import annotations

from datetime import datetime, timedelta

from tests.simulation import model
from tests.simulation.faults import Fault
from tests.simulation.model import Violation
from tests.simulation.people import expect
from tests.simulation.world import World


def lesson_times(w: World, o: model.Order, variant: int, gap: int) -> tuple[datetime, datetime]:
    """When the lesson is said to have been taught: in the hours offline lessons may be
    (06:00 to 20:30) unless the variant breaks a rule on purpose; variant 5 ends exactly at
    20:30 or a minute after, the last time it may or the first it may not; variant 9 begins
    in the student's last lesson, variant 12 in the teacher's."""
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
    teacher = w.shop_of(o).teacher_id
    taught = sorted(s for t, s, _ in w.teaching.values() if t == teacher)
    if variant == 12 and taught:
        started = taught[-1] + timedelta(minutes=10)
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
        ("invalid_lesson_time", length < 10 or length > model.MAX_LESSON_MINUTES),
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
    if teachable and variant % 13 not in (10, 11):  # mostly the orders it really teaches
        theirs = teachable
    if teachable and variant % 13 == 4:  # the child taught most this week: its week fills
        week = model.week_of(w.now)
        theirs = [max(teachable, key=lambda o: w.weekly[
            (w.family_of(o).student_id, sh.course_id, week)])]
    if not theirs:
        return "no order to teach"
    attending = [theirs[order % len(theirs)]]
    if variant % 13 == 11 and len(theirs) > 1:
        attending.append(theirs[(order + 1) % len(theirs)])
    started, ended = lesson_times(w, attending[0], variant % 13, gap)
    return teach(w, sh, attending, started, ended, faults)


def teach(w: World, sh: model.Shop, attending: list[model.Order], started: datetime,
          ended: datetime, faults: tuple[Fault, ...] = ()) -> str:
    """Record one lesson of `sh` for `attending`, its answer held against the model."""
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
    accepted, refused, teacher_busy = expected_consumers(w, attending, started, ended)
    if teacher_busy:
        expect(reply, {422}, {"teacher_double_booked"})
        return "lesson refused: the teacher was in another lesson"
    if not accepted:
        expect(reply, {409, 422}, {next(iter(refused.values()))})
        return f"lesson refused: {reply.code}"
    expect(reply, {201})
    got = {c["order_id"]: c for c in reply.body["consumptions"]}
    if set(got) != {o.order_id for o in accepted}:
        raise Violation(f"lesson consumed {sorted(got)}, the model expects "
                        f"{sorted(o.order_id for o in accepted)}")
    told = {r["order_id"]: r["code"] for r in reply.body["refused_orders"]}
    if told != refused:
        raise Violation(f"lesson refused {told}, the model expects {refused}")
    for o in accepted:
        remember(w, o, got[o.order_id], started, ended, reply.body["lesson_id"])
    return f"lesson {reply.body['lesson_id']} for {sorted(got)}"


def expected_consumers(w: World, attending: list[model.Order], started: datetime,
                       ended: datetime) -> tuple[list[model.Order], dict[str, str], bool]:
    """(the orders consumed, the others' refusals, whether the teacher refuses the whole
    lesson), once the request's own checks passed: an order is refused if its student is in
    another lesson then or has had the week's lessons of the course; the first order that is
    not stores the lesson and claims the teacher's time, refused whole if it is taken."""
    taken = list(w.lessons)
    weekly = w.weekly.copy()
    shop = w.shop_of(attending[0])
    accepted, refused = [], {}
    for o in attending:
        student = w.family_of(o).student_id
        week = (student, shop.course_id, model.week_of(started))
        if any(st == student and model.overlaps((s, e), (started, ended)) for st, s, e in taken):
            refused[o.order_id] = "student_lesson_overlap"
        elif weekly[week] >= shop.lessons_per_week:
            refused[o.order_id] = "weekly_lessons_exceeded"
        elif not accepted and teacher_busy(w, shop.teacher_id, started, ended):
            return [], refused, True
        else:
            taken.append((student, started, ended))
            weekly[week] += 1
            accepted.append(o)
    return accepted, refused, False


def teacher_busy(w: World, teacher: str, started: datetime, ended: datetime) -> bool:
    return any(t == teacher and model.overlaps((s, e), (started, ended))
               for t, s, e in w.teaching.values())


def remember(w: World, o: model.Order, view: dict, started: datetime, ended: datetime,
             lesson_id: str) -> None:
    """A consumption the platform answered for: its lesson's time is its student's and its
    teacher's, it counts in its student's week, and its parent may object until its
    region's confirm-by day."""
    shop = w.shop_of(o)
    consumption = model.Consumption(
        view["consumption_id"], o.order_id, w.family_of(o).student_id, started, ended, w.now,
        view["amount_fen"], region=shop.region)
    if view["confirm_by"] != model.confirm_by(w.now, shop.region).isoformat():
        raise Violation(f"{consumption.consumption_id} in {shop.region}: confirm by "
                        f"{view['confirm_by']}, the model counts "
                        f"{model.confirm_by(w.now, shop.region)}")
    w.consumptions[consumption.consumption_id] = consumption
    o.consumptions.append(consumption.consumption_id)
    w.lessons.append((consumption.student_id, started, ended))
    w.teaching[lesson_id] = (shop.teacher_id, started, ended)
    w.weekly[(consumption.student_id, shop.course_id, model.week_of(started))] += 1


def record_in_bulk(w: World, shop: int, order: int, faults: tuple[Fault, ...] = ()) -> str:
    """An institution records one order's lessons in bulk: back to back, the last ending a
    minute ago (or at the last closing time), as many as the course takes in a week and one
    more; the week's cap refuses the rest, the other rules what they must."""
    sh = w.pick(w.shops, shop)
    teachable = [o for o in w.orders if w.shop_of(o) is sh and o.status == "paid"
                 and o.remaining > 0]
    o = w.pick(teachable, order)
    if o is None:
        return "no order to teach in bulk"
    ended = by_closing(w.now - timedelta(minutes=1), sh.minutes)
    answers = []
    for _ in range(min(sh.lessons_per_week + 1, 4)):
        started = ended - timedelta(minutes=sh.minutes)
        answers.append(teach(w, sh, [o], started, ended, faults))
        faults, ended = (), started - timedelta(minutes=5)
    return f"in bulk for {o.order_id}: " + "; ".join(answers)
