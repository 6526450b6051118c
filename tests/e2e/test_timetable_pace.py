"""Lessons keep to the course's published pace: an institution could otherwise record a
whole order's lessons in one sitting, back to back anywhere in the 72 hours a record may
look back, and silence would pay for them all. A student takes at most as many lessons of a
course in a week (Monday to Sunday, Beijing time) as its weekly timetable has slots, plus the
policy's make-up lessons (`extra_lessons_per_week`, 1), counted in the consuming write."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

import pytest

from chalicelib import bootstrap
from chalicelib.domain.errors import PlatformError
from chalicelib.service.caller import Caller, Role
from chalicelib.service.escrow import lessons
from tests.support import flows
from tests.support.concurrency import race, refused_or_result
from tests.support.harness import Platform
from tests.support.snapshot import assert_refused

SHANGHAI = ZoneInfo("Asia/Shanghai")
TWICE_A_WEEK = [{"weekday": 1, "starts_at": "09:00"}, {"weekday": 3, "starts_at": "09:00"}]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def test_lessons_recorded_in_bulk_stop_at_the_timetables_weekly_count(
    platform: Platform,
) -> None:
    p = platform
    shop = flows.open_shop(p, timetable=TWICE_A_WEEK)
    fam = flows.family(p)
    order_id = flows.buy_and_pay(p, shop, fam, lessons=10)["order_id"]
    p.clock.set(at("2026-03-04 14:00"))  # Wednesday: Monday to now, back to back
    recorded = []
    for hour in ("09", "10", "11"):  # two slots a week and one make-up lesson
        reply = p.post("/v1/lessons", shop.staff,
                       flows.lesson_body(shop, [order_id], at(f"2026-03-02 {hour}:00")))
        assert reply.status == 201, reply.body
        recorded.append(reply.body["consumptions"][0]["consumption_id"])
    withdrawn = p.post(f"/v1/consumptions/{recorded[0]}/withdraw", shop.staff,
                       {"reason": "误录"})
    assert withdrawn.status == 200, withdrawn.body  # a withdrawn lesson keeps its place
    for day in ("2026-03-02 12:00", "2026-03-03 09:00", "2026-03-04 09:00"):
        bulk = flows.lesson_body(shop, [order_id], at(day))
        refused = assert_refused(p, partial(p.post, "/v1/lessons", shop.staff, bulk), 422,
                                 "weekly_lessons_exceeded")
        details = refused.body["error"]["details"]
        assert (details["week"], details["lessons_per_week"]) == ("2026-W10", 3)
    p.clock.set(at("2026-03-09 11:00"))  # a new week
    next_week = flows.lesson_body(shop, [order_id], at("2026-03-09 09:00"))
    assert p.post("/v1/lessons", shop.staff, next_week).status == 201
    p.check()


def test_a_childs_week_counts_every_order_of_the_course_and_only_that_child_is_refused(
    platform: Platform,
) -> None:
    p = platform
    shop = flows.open_shop(p, timetable=TWICE_A_WEEK)
    busy, other = flows.family(p, "小明"), flows.family(p, "小红")
    first = flows.buy_and_pay(p, shop, busy, lessons=3)["order_id"]
    renewal = flows.buy_and_pay(p, shop, busy, lessons=3)["order_id"]
    others = flows.buy_and_pay(p, shop, other, lessons=3)["order_id"]
    p.clock.set(at("2026-03-02 18:00"))
    for hour in ("09", "11", "13"):
        assert p.post("/v1/lessons", shop.staff, flows.lesson_body(
            shop, [first], at(f"2026-03-02 {hour}:00"))).status == 201
    class_ = p.post("/v1/lessons", shop.staff,
                    flows.lesson_body(shop, [renewal, others], at("2026-03-02 15:00")))
    assert class_.status == 201, class_.body
    assert [c["order_id"] for c in class_.body["consumptions"]] == [others]
    assert class_.body["refused_orders"] == [
        {"order_id": renewal, "code": "weekly_lessons_exceeded"}]
    p.check()


def test_a_course_with_a_full_timetable_takes_a_lesson_in_each_slot(platform: Platform) -> None:
    """The tests' default course (flows.course_body) names every slot it may: three a day."""
    p = platform
    shop = flows.open_shop(p)
    fam = flows.family(p)
    order_id = flows.buy_and_pay(p, shop, fam, lessons=12)["order_id"]
    p.clock.set(at("2026-03-04 20:00"))
    for day in ("02", "03", "04"):
        for hour in ("09", "13", "17"):
            reply = p.post("/v1/lessons", shop.staff, flows.lesson_body(
                shop, [order_id], at(f"2026-03-{day} {hour}:00")))
            assert reply.status == 201, reply.body
    p.check()


@pytest.mark.parametrize("platform", ["dynamodb_local"], indirect=True)
def test_two_lessons_racing_for_a_childs_last_lesson_of_the_week_consume_one(
    platform: Platform,
) -> None:
    p = platform
    shop = flows.open_shop(p, timetable=TWICE_A_WEEK)
    fam = flows.family(p)
    orders = [flows.buy_and_pay(p, shop, fam, lessons=4)["order_id"] for _ in range(2)]
    ctx = bootstrap.context()
    staff = Caller(sub="staff-1", role=Role.INSTITUTION, institution_id=shop.institution_id)
    monday = at("2026-03-02 09:00")
    for week in range(2):  # each week: two lessons recorded, then two race for the third
        p.clock.set(monday + timedelta(days=7 * week, hours=9))
        for n, order_id in enumerate(orders):
            lessons.record(ctx, staff, f"les_{week:013d}{n:013d}", course_id=shop.course_id,
                           started_at=monday + timedelta(days=7 * week, hours=2 * n),
                           ended_at=monday + timedelta(days=7 * week, hours=2 * n + 1),
                           teacher_id=shop.teacher_id, order_ids=[order_id])

        def third(n: int, week: int = week) -> lessons.RecordedLesson:
            started = monday + timedelta(days=7 * week, hours=4 + 2 * n)
            return lessons.record(ctx, staff, f"les_{week:013d}{n + 2:013d}",
                                  course_id=shop.course_id, started_at=started,
                                  ended_at=started + timedelta(hours=1),
                                  teacher_id=shop.teacher_id, order_ids=[orders[n]])

        outcomes = race(*(refused_or_result(partial(third, n)) for n in (0, 1)))
        codes = sorted(o.code if isinstance(o, PlatformError) else "recorded" for o in outcomes)
        assert codes == ["recorded", "weekly_lessons_exceeded"], outcomes
        p.check()
