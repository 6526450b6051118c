"""Only lessons really taught are paid: what an institution trying to get money early would
record (backdated, before the payment, outside the course, of the wrong length, two lessons
at once for one student) is refused before it consumes anything, and the parent's window to
confirm opens when the lesson is recorded."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

import pytest

from chalicelib import bootstrap
from chalicelib.service.caller import Caller, Role
from chalicelib.service.escrow import lessons
from tests.support import flows
from tests.support.concurrency import race, refused_or_result
from tests.support.harness import Platform, Reply
from tests.support.snapshot import assert_refused

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime:
    """A Beijing wall-clock time, e.g. at("2026-03-02 10:00")."""
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def lesson(shop: flows.Shop, order_ids: list[str], started: datetime,
           minutes: int = 60) -> dict[str, object]:
    return flows.lesson_body(shop, order_ids, started, minutes)


@pytest.fixture
def shop(platform: Platform) -> flows.Shop:
    return flows.open_shop(platform)


@pytest.fixture
def fam(platform: Platform) -> flows.Family:
    return flows.family(platform)


# backdated lessons


def test_four_lessons_that_ended_weeks_ago_cannot_drain_a_four_lesson_order(
    platform: Platform, shop: flows.Shop, fam: flows.Family
) -> None:
    """The hole the review found: lessons recorded weeks after they 'ended' were auto-confirmed
    by the next run, before the parent ever saw them."""
    order = flows.buy_and_pay(platform, shop, fam, lessons=4)
    paid_at = platform.clock.now()
    platform.advance(days=21)
    for week in range(4):
        started = paid_at + timedelta(days=week, hours=1)
        assert_refused(
            platform,
            partial(platform.post, "/v1/lessons", shop.staff,
                    lesson(shop, [order["order_id"]], started)),
            422, "lesson_recorded_too_late",
        )
    platform.run_schedule("auto_confirm")
    platform.settle_everything()
    platform.check()
    seen = flows.order_of(platform, fam.parent, order["order_id"])
    assert (seen["lessons_remaining"], seen["released_fen"]) == (4, 0)
    assert platform.bank.balance(shop.general_account) == 0


def test_a_lesson_may_be_recorded_up_to_the_policys_72_hours_after_it_ended(
    platform: Platform, shop: flows.Shop, fam: flows.Family
) -> None:
    order = flows.buy_and_pay(platform, shop, fam, lessons=4)
    started = platform.clock.now()
    ended = started + timedelta(hours=1)
    platform.clock.set(ended + timedelta(hours=72, seconds=1))
    assert_refused(
        platform,
        lambda: platform.post("/v1/lessons", shop.staff, lesson(shop, [order["order_id"]],
                                                                 started)),
        422, "lesson_recorded_too_late",
    )
    platform.clock.set(ended + timedelta(hours=72))
    recorded = platform.post("/v1/lessons", shop.staff, lesson(shop, [order["order_id"]], started))
    assert recorded.status == 201, recorded.body
    platform.check()


# before the payment, outside the course


def test_a_lesson_that_began_before_the_order_was_paid_consumes_nothing(
    platform: Platform, shop: flows.Shop, fam: flows.Family
) -> None:
    order = flows.buy(platform, shop, fam, lessons=2)
    started = platform.clock.now()
    platform.advance(minutes=30)
    flows.pay(platform, fam, order)
    platform.advance(minutes=35)
    body = lesson(shop, [order["order_id"]], started)
    reply = assert_refused(
        platform, lambda: platform.post("/v1/lessons", shop.staff, body), 422,
        "lesson_before_payment",
    )
    assert reply.body["error"]["details"]["order_id"] == order["order_id"]
    platform.advance(minutes=25)
    begun_after_payment = lesson(shop, [order["order_id"]], started + timedelta(minutes=30))
    assert platform.post("/v1/lessons", shop.staff, begun_after_payment).status == 201


def test_a_class_where_one_order_was_paid_after_the_lesson_began_is_refused_whole(
    platform: Platform, shop: flows.Shop
) -> None:
    early, late = flows.family(platform, "小明"), flows.family(platform, "小红")
    first = flows.buy_and_pay(platform, shop, early, lessons=2)
    second = flows.buy(platform, shop, late, lessons=2)
    started = platform.clock.now()
    platform.advance(minutes=10)
    flows.pay(platform, late, second)
    platform.advance(minutes=55)
    body = lesson(shop, [first["order_id"], second["order_id"]], started)
    assert_refused(
        platform, lambda: platform.post("/v1/lessons", shop.staff, body), 422,
        "lesson_before_payment",
    )


def test_a_lesson_outside_the_courses_dates_in_beijing_time_is_refused(
    platform: Platform,
) -> None:
    platform.clock.set(at("2026-06-29 09:00"))
    shop = flows.open_shop(platform, starts_on="2026-06-30", ends_on="2026-06-30")
    fam = flows.family(platform)
    order = flows.buy_and_pay(platform, shop, fam, lessons=3)

    def record(started: datetime) -> Reply:
        platform.clock.set(started + timedelta(minutes=65))
        return platform.post("/v1/lessons", shop.staff,
                             lesson(shop, [order["order_id"]], started))

    assert_refused(platform, lambda: record(at("2026-06-29 10:00")), 422,
                   "lesson_outside_course_dates")
    # the course's dates are Beijing's: 07:00 in Beijing is 23:00 the day before in UTC
    assert record(at("2026-06-30 07:00")).status == 201  # still 29 June in UTC
    assert_refused(platform, lambda: record(at("2026-07-01 07:00")), 422,
                   "lesson_outside_course_dates")  # still 30 June in UTC


# length


def test_a_lesson_longer_or_shorter_than_the_course_beyond_the_tolerance_is_refused(
    platform: Platform, shop: flows.Shop, fam: flows.Family, subtests: pytest.Subtests
) -> None:
    order = flows.buy_and_pay(platform, shop, fam, lessons=4)
    for minutes in (49, 71, 180):
        with subtests.test(f"{minutes} minutes of a 60-minute course"):
            body = flows.teach(platform, shop, [order["order_id"]], minutes=minutes)
            reply = assert_refused(
                platform, partial(platform.post, "/v1/lessons", shop.staff, body), 422,
                "lesson_length_mismatch",
            )
            assert reply.body["error"]["details"]["lesson_minutes"] == 60
    for minutes in (50, 70):
        with subtests.test(f"{minutes} minutes is within the 10 minutes of tolerance"):
            body = flows.teach(platform, shop, [order["order_id"]], minutes=minutes)
            assert platform.post("/v1/lessons", shop.staff, body).status == 201
    platform.check()


# one student, one lesson at a time


def test_a_student_is_never_consumed_for_two_overlapping_lessons_of_two_institutions(
    platform: Platform, fam: flows.Family
) -> None:
    art, chess = flows.open_shop(platform), flows.open_shop(platform)
    art_order = flows.buy_and_pay(platform, art, fam, lessons=4)
    chess_order = flows.buy_and_pay(platform, chess, fam, lessons=4)
    platform.advance(hours=2)
    started = platform.clock.now()
    platform.advance(hours=3)
    first = platform.post("/v1/lessons", art.staff, lesson(art, [art_order["order_id"]], started))
    assert first.status == 201, first.body
    for offset in (0, 59, -59, 30):
        overlapping = lesson(chess, [chess_order["order_id"]],
                             started + timedelta(minutes=offset))
        assert_refused(
            platform, lambda body=overlapping: platform.post("/v1/lessons", chess.staff, body),
            422, "student_lesson_overlap",
        )
    touching = lesson(chess, [chess_order["order_id"]], started + timedelta(hours=1))
    assert platform.post("/v1/lessons", chess.staff, touching).status == 201
    before = lesson(chess, [chess_order["order_id"]], started - timedelta(hours=1))
    assert platform.post("/v1/lessons", chess.staff, before).status == 201
    platform.check()


def test_the_same_lesson_recorded_again_under_another_key_consumes_nothing_more(
    platform: Platform, shop: flows.Shop, fam: flows.Family
) -> None:
    order = flows.buy_and_pay(platform, shop, fam, lessons=4)
    body = flows.teach(platform, shop, [order["order_id"]])
    assert platform.post("/v1/lessons", shop.staff, body, key="lesson-first-key").status == 201
    assert_refused(
        platform, lambda: platform.post("/v1/lessons", shop.staff, body, key="lesson-other-key"),
        422, "student_lesson_overlap",
    )
    assert flows.order_of(platform, fam.parent, order["order_id"])["lessons_remaining"] == 3


def test_in_a_class_only_the_student_who_was_elsewhere_is_refused(
    platform: Platform, shop: flows.Shop
) -> None:
    busy, free = flows.family(platform, "小明"), flows.family(platform, "小红")
    elsewhere = flows.open_shop(platform)
    busy_there = flows.buy_and_pay(platform, elsewhere, busy, lessons=2)
    busy_here = flows.buy_and_pay(platform, shop, busy, lessons=2)
    free_here = flows.buy_and_pay(platform, shop, free, lessons=2)
    body = flows.teach(platform, shop, [busy_here["order_id"], free_here["order_id"]])
    there = {**body, "course_id": elsewhere.course_id, "teacher_id": elsewhere.teacher_id,
             "order_ids": [busy_there["order_id"]]}
    assert platform.post("/v1/lessons", elsewhere.staff, there).status == 201
    recorded = platform.post("/v1/lessons", shop.staff, body)
    assert recorded.status == 201, recorded.body
    assert [c["order_id"] for c in recorded.body["consumptions"]] == [free_here["order_id"]]
    assert recorded.body["refused_orders"] == [
        {"order_id": busy_here["order_id"], "code": "student_lesson_overlap"}]
    platform.check()


@pytest.mark.parametrize("platform", ["dynamodb_local"], indirect=True)
def test_two_overlapping_lessons_racing_for_one_student_consume_one(platform: Platform) -> None:
    fam = flows.family(platform)
    shops = [flows.open_shop(platform) for _ in range(2)]
    orders = [flows.buy_and_pay(platform, shop, fam, lessons=4) for shop in shops]
    started = platform.clock.now()
    platform.advance(hours=2)
    ctx = bootstrap.context()

    def record(n: int, attempt: int) -> lessons.RecordedLesson:
        staff = Caller(sub=f"staff-{n}", role=Role.INSTITUTION,
                       institution_id=shops[n].institution_id)
        return lessons.record(
            ctx, staff, f"les_{attempt:013d}{n:013d}", course_id=shops[n].course_id,
            started_at=started + timedelta(minutes=20 * n), teacher_id=shops[n].teacher_id,
            ended_at=started + timedelta(minutes=60 + 20 * n),
            order_ids=[orders[n]["order_id"]],
        )

    for attempt in range(3):  # each round, fresh lessons race for the same student's time
        outcomes = race(*(refused_or_result(partial(record, n, attempt)) for n in (0, 1)))
        codes = sorted(getattr(o, "code", "recorded") for o in outcomes)
        assert codes == ["recorded", "student_lesson_overlap"], outcomes
        platform.check()
        started += timedelta(hours=2)
        platform.advance(hours=2)
    remaining = [flows.order_of(platform, fam.parent, o["order_id"])["lessons_remaining"]
                 for o in orders]
    assert sum(remaining) == 8 - 3


# the parent's window


def test_the_confirmation_window_counts_from_recording_across_the_national_day_holiday(
    platform: Platform,
) -> None:
    platform.clock.set(at("2026-09-28 08:00"))
    shop = flows.open_shop(platform, starts_on="2026-09-01", ends_on="2026-11-30")
    fam = flows.family(platform)
    order = flows.buy_and_pay(platform, shop, fam, lessons=4)
    platform.clock.set(at("2026-09-30 10:00"))  # recorded on Wednesday, two days late
    recorded = platform.post("/v1/lessons", shop.staff,
                             lesson(shop, [order["order_id"]], at("2026-09-28 18:00")))
    assert recorded.status == 201, recorded.body
    consumption = recorded.body["consumptions"][0]
    # 15 working days after Wed 30 September, not counted: the holiday runs 1-7 October,
    # Saturday 10 October is a working day (调休), so the 15th is Tuesday 27 October.
    # Counted from the lesson's Monday it would have been Friday 23 October.
    assert (consumption["confirm_by"], consumption["confirm_by_estimated"]) == (
        "2026-10-27", False)
    platform.clock.set(at("2026-10-24 00:05"))
    platform.run_schedule("auto_confirm")
    assert consumption_status(platform, fam, consumption["consumption_id"]) == (
        "pending_confirmation")
    platform.clock.set(at("2026-10-28 00:05"))
    platform.run_schedule("auto_confirm")
    platform.settle_everything()
    platform.check()
    assert consumption_status(platform, fam, consumption["consumption_id"]) == "released"


def test_silence_never_confirms_a_lesson_on_the_day_it_is_recorded(
    platform: Platform, shop: flows.Shop, fam: flows.Family
) -> None:
    order = flows.buy_and_pay(platform, shop, fam, lessons=2)
    started = platform.clock.now()
    platform.clock.set(started + timedelta(hours=72))  # recorded as late as the policy allows
    body = lesson(shop, [order["order_id"]], started + timedelta(minutes=10))
    consumption = platform.post("/v1/lessons", shop.staff, body).body["consumptions"][0]
    platform.clock.set(datetime.combine(platform.clock.now().astimezone(SHANGHAI).date(),
                                        datetime.max.time(), SHANGHAI))
    platform.run_schedule("auto_confirm")
    assert consumption_status(platform, fam, consumption["consumption_id"]) == (
        "pending_confirmation")


def consumption_status(p: Platform, fam: flows.Family, consumption_id: str) -> str:
    listed = p.get("/v1/consumptions?limit=100", fam.parent)
    assert listed.status == 200, listed.body
    (found,) = [c for c in listed.body["items"] if c["consumption_id"] == consumption_id]
    return str(found["status"])
