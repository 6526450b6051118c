"""A teacher is in one place at a time: the consuming write that stores a lesson also claims
its teacher's time, so an institution cannot split a class into two overlapping lessons of
one teacher to get past the course's class size (the class size priced the course), nor
record its teacher in two courses at once."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

import pytest

from chalicelib import bootstrap
from chalicelib.domain.errors import PlatformError
from chalicelib.service.caller import Caller, Role
from chalicelib.service.escrow import lessons
from tests.support import flows
from tests.support.concurrency import race, refused_or_result
from tests.support.harness import Platform
from tests.support.snapshot import assert_refused


def paid_orders(p: Platform, shop: flows.Shop, count: int) -> list[str]:
    """`count` children of `count` families, each with a paid order of `shop`'s course."""
    return [flows.buy_and_pay(p, shop, flows.family(p, f"孩子{n}"), lessons=4)["order_id"]
            for n in range(count)]


def second_course(p: Platform, shop: flows.Shop) -> flows.Shop:
    """Another approved course of the same institution, taught by the same teacher."""
    submitted = p.post("/v1/courses", shop.staff, flows.course_body(title="少儿书法班"))
    assert submitted.status == 201, submitted.body
    course_id = submitted.body["course_id"]
    assert p.post(f"/v1/regulator/courses/{course_id}/approve", flows.competent(p),
                  {}).status == 200
    return flows.Shop(shop.institution_id, shop.staff, course_id, shop.supervised_account,
                      shop.general_account, shop.price_per_lesson_fen, shop.teacher_id)


def test_one_teacher_cannot_split_a_class_into_two_overlapping_lessons(
    platform: Platform,
) -> None:
    p = platform
    shop = flows.open_shop(p, class_size=2)
    orders = paid_orders(p, shop, 4)
    started = p.clock.now() + timedelta(hours=1)
    p.advance(hours=3, minutes=5)
    first = p.post("/v1/lessons", shop.staff, flows.lesson_body(shop, orders[:2], started))
    assert first.status == 201, first.body
    for offset in (0, 30, -30, 59, -59):
        other_half = flows.lesson_body(shop, orders[2:], started + timedelta(minutes=offset))
        reply = assert_refused(p, partial(p.post, "/v1/lessons", shop.staff, other_half), 422,
                               "teacher_double_booked")
        assert reply.body["error"]["details"]["teacher_id"] == shop.teacher_id
    for order_id in orders[2:]:
        assert flows.order_of(p, shop.staff, order_id)["lessons_remaining"] == 4
    p.check()


def test_a_teacher_is_free_once_the_lesson_ends_and_another_teacher_is_free_meanwhile(
    platform: Platform,
) -> None:
    p = platform
    shop = flows.open_shop(p, class_size=2)
    orders = paid_orders(p, shop, 6)
    started = p.clock.now()
    p.advance(hours=2, minutes=5)
    assert p.post("/v1/lessons", shop.staff,
                  flows.lesson_body(shop, orders[:2], started)).status == 201
    touching = flows.lesson_body(shop, orders[2:4], started + timedelta(hours=1))
    assert p.post("/v1/lessons", shop.staff, touching).status == 201
    colleague = flows.checked_teacher(p, shop.staff, flows.competent(p))
    meanwhile = {**flows.lesson_body(shop, orders[4:], started + timedelta(minutes=30)),
                 "teacher_id": colleague}
    recorded = p.post("/v1/lessons", shop.staff, meanwhile)
    assert recorded.status == 201, recorded.body
    p.check()


def test_a_teacher_cannot_be_recorded_in_two_courses_at_once(platform: Platform) -> None:
    p = platform
    painting = flows.open_shop(p)
    calligraphy = second_course(p, painting)
    fam, other = flows.family(p, "小明"), flows.family(p, "小红")
    painting_order = flows.buy_and_pay(p, painting, fam, lessons=2)["order_id"]
    calligraphy_order = flows.buy_and_pay(p, calligraphy, other, lessons=2)["order_id"]
    started = p.clock.now()
    p.advance(minutes=80)
    assert p.post("/v1/lessons", painting.staff,
                  flows.lesson_body(painting, [painting_order], started)).status == 201
    overlapping = flows.lesson_body(calligraphy, [calligraphy_order],
                                    started + timedelta(minutes=15))
    assert_refused(p, partial(p.post, "/v1/lessons", calligraphy.staff, overlapping), 422,
                   "teacher_double_booked")
    p.check()


def test_a_lesson_recorded_again_under_its_own_key_is_not_its_teachers_second_lesson(
    platform: Platform,
) -> None:
    p = platform
    shop = flows.open_shop(p, class_size=2)
    orders = paid_orders(p, shop, 2)
    body = flows.teach(p, shop, orders)
    first = p.post("/v1/lessons", shop.staff, body, key="lesson-teacher-twice")
    again = p.post("/v1/lessons", shop.staff, body, key="lesson-teacher-twice")
    assert (first.status, again.status) == (201, 201), again.body
    assert again.body["lesson_id"] == first.body["lesson_id"]
    p.check()


def test_the_longest_lesson_a_course_may_have_fits_one_transaction(
    platform: Platform,
) -> None:
    """A lesson of 240 minutes plus the tolerance, starting off a slot boundary, claims the
    most time slots of its student and of its teacher that a lesson can (the transaction
    holds at most 100 items)."""
    p = platform
    shop = flows.open_shop(p, lesson_minutes=240, timetable=[{"weekday": 1, "starts_at": "08:00"}])
    order = paid_orders(p, shop, 1)
    started = p.clock.now() + timedelta(minutes=3)
    p.advance(minutes=260)
    body = flows.lesson_body(shop, order, started, minutes=250)
    recorded = p.post("/v1/lessons", shop.staff, body)
    assert recorded.status == 201, recorded.body
    p.check()


@pytest.mark.parametrize("platform", ["dynamodb_local"], indirect=True)
def test_two_overlapping_lessons_racing_for_one_teacher_consume_one(platform: Platform) -> None:
    p = platform
    shop = flows.open_shop(p, class_size=2)
    orders = paid_orders(p, shop, 4)
    started = p.clock.now()
    p.advance(hours=2)
    ctx = bootstrap.context()
    staff = Caller(sub="staff-1", role=Role.INSTITUTION, institution_id=shop.institution_id)

    def record(half: int, attempt: int) -> lessons.RecordedLesson:
        return lessons.record(
            ctx, staff, f"les_{attempt:013d}{half:013d}", course_id=shop.course_id,
            started_at=started + timedelta(minutes=10 * half), teacher_id=shop.teacher_id,
            ended_at=started + timedelta(minutes=60 + 10 * half),
            order_ids=orders[2 * half:2 * half + 2],
        )

    for attempt in range(3):  # each round, fresh lessons race for the teacher's time
        outcomes = race(*(refused_or_result(partial(record, half, attempt)) for half in (0, 1)))
        codes = sorted(o.code if isinstance(o, PlatformError) else "recorded" for o in outcomes)
        assert codes == ["recorded", "teacher_double_booked"], outcomes
        p.check()
        started += timedelta(hours=2)
        p.advance(hours=2)
    remaining = [flows.order_of(p, shop.staff, o)["lessons_remaining"] for o in orders]
    assert sum(remaining) == 16 - 3 * 2


@pytest.mark.parametrize("platform", ["dynamodb_local"], indirect=True)
def test_twins_of_one_lesson_racing_record_it_once(platform: Platform) -> None:
    p = platform
    shop = flows.open_shop(p, class_size=2)
    orders = paid_orders(p, shop, 2)
    started = p.clock.now()
    p.advance(hours=2)
    ctx = bootstrap.context()
    staff = Caller(sub="staff-1", role=Role.INSTITUTION, institution_id=shop.institution_id)
    for attempt in range(3):
        twin = partial(lessons.record, ctx, staff, f"les_{attempt:026d}",
                       course_id=shop.course_id, started_at=started,
                       ended_at=started + timedelta(minutes=60), teacher_id=shop.teacher_id,
                       order_ids=orders)
        first, second = race(twin, twin)
        ids = {c.consumption_id for c in first.consumptions}
        assert ids == {c.consumption_id for c in second.consumptions} and len(ids) == 2
        p.check()
        started += timedelta(hours=2)
        p.advance(hours=2)
