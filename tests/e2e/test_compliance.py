"""The compliance rules through the API: courses (licence, guided price, caps, timetable),
purchases (on sale, caps with what is held), lessons (schedule rules, the teacher's
certificate), and the policy anyone can read. The boundaries themselves are table-driven in
tests/unit/test_compliance_rules.py; here each rule is seen refused with its code, changing
nothing, and its other side accepted."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from chalicelib import bootstrap
from chalicelib.domain.errors import PlatformError
from chalicelib.service.caller import Caller, Role
from chalicelib.service.escrow import orders
from tests.simulation.faults import AwsFaults, Fault, Kind
from tests.support import flows
from tests.support.concurrency import race, refused_or_result
from tests.support.harness import Platform
from tests.support.snapshot import assert_refused

SHANGHAI = ZoneInfo("Asia/Shanghai")
SHENZHEN = "440305"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def subject_shop(p: Platform, *, certificate: bool = True, **course: Any) -> flows.Shop:
    """A Shenzhen subject institution (education decides) and its approved course: 45-minute
    mathematics lessons for a class of 10, at most 7,700 fen a lesson."""
    applicant = p.token(f"applicant-subject-{id(course)}", "institution")
    body = flows.application(SHENZHEN, training_type="subject", discipline="academic")
    institution_id = p.post("/v1/institutions", applicant, body).body["institution_id"]
    staff = p.token(f"staff-of-{institution_id}", "institution", institution_id=institution_id)
    education = flows.regulator(p)
    teacher = flows.checked_teacher(p, staff, education, certificate=certificate)
    assert p.post(f"/v1/regulator/institutions/{institution_id}/approve", education,
                  {}).status == 200
    submitted = p.post("/v1/courses", staff, subject_course(**course))
    assert submitted.status == 201, submitted.body
    course_id = submitted.body["course_id"]
    assert p.post(f"/v1/regulator/courses/{course_id}/approve", education, {}).status == 200
    custodian = body["custodian"]
    return flows.Shop(institution_id, staff, course_id, custodian["supervised_account"],
                      custodian["general_account"], submitted.body["price_per_lesson_fen"],
                      teacher)


def subject_course(**overrides: Any) -> dict[str, Any]:
    return {**flows.course_body(7_700, lessons_total=40, discipline=None, subject="mathematics",
                                lesson_minutes=45, class_size=10,
                                timetable=[{"weekday": 1, "starts_at": "18:00"},
                                           {"weekday": 3, "starts_at": "18:00"}]),
            **overrides}


def test_a_subject_course_costs_at_most_the_guided_price(platform: Platform) -> None:
    p = platform
    shop = subject_shop(p)
    for overrides, accepted in (({}, True), ({"price_per_lesson_fen": 7_701}, False),
                                ({"lesson_minutes": 40, "price_per_lesson_fen": 6_844}, True),
                                ({"lesson_minutes": 40, "price_per_lesson_fen": 6_845}, False)):
        send = partial(p.post, "/v1/courses", shop.staff, subject_course(**overrides))
        if accepted:
            assert send().status == 201, overrides
        else:
            refused = assert_refused(p, send, 422, "course_price_above_guided")
            assert refused.body["error"]["details"]["base_fen"] == 7_000


COURSE_REFUSALS = {
    "61 lessons": ({"lessons_total": 61, "price_per_lesson_fen": 100}, "charge_cap_exceeded"),
    "500,001 fen": ({"lessons_total": 1, "price_per_lesson_fen": 500_001},
                    "charge_cap_exceeded"),
    "a day past three months": ({"starts_on": "2026-03-01", "ends_on": "2026-06-01"},
                                "charge_cap_exceeded"),
    "online, licensed offline": ({"mode": "online", "lesson_minutes": 30},
                                 "course_mode_not_licensed"),
    "a subject at an arts school": ({"subject": "mathematics", "discipline": None},
                                    "course_type_not_licensed"),
    "sports at an arts school": ({"discipline": "sports"}, "course_discipline_not_licensed"),
    "ends 20:31": ({"timetable": [{"weekday": 6, "starts_at": "19:31"}]},
                   "timetable_ends_too_late"),
    "two slots overlapping": ({"timetable": [{"weekday": 6, "starts_at": "09:00"},
                                             {"weekday": 6, "starts_at": "09:30"}]},
                              "timetable_slots_too_close"),
}


def test_a_course_breaking_a_rule_is_refused_with_what_to_change(
    platform: Platform, subtests: pytest.Subtests,
) -> None:
    p = platform
    shop = flows.open_shop(p)
    for case, (overrides, code) in COURSE_REFUSALS.items():
        with subtests.test(case):
            assert_refused(p, partial(p.post, "/v1/courses", shop.staff,
                                      flows.course_body(**overrides)), 422, code)
    edge = flows.course_body(lessons_total=60, price=100, starts_on="2026-03-01",
                             ends_on="2026-05-31",
                             timetable=[{"weekday": 6, "starts_at": "19:30"}])
    assert p.post("/v1/courses", shop.staff, edge).status == 201  # 60, 3 months, ends 20:30


def test_a_subject_timetable_names_no_weekend(platform: Platform) -> None:
    p = platform
    shop = subject_shop(p)
    saturday = subject_course(timetable=[{"weekday": 6, "starts_at": "10:00"}])
    assert_refused(p, partial(p.post, "/v1/courses", shop.staff, saturday), 422,
                   "timetable_on_rest_day")


@pytest.mark.parametrize("platform", ["moto"], indirect=True)
def test_taking_a_course_off_sale_tries_again_when_its_write_meets_a_conflict(
    platform: Platform,
) -> None:
    """Found on an unseen simulator seed: the engine's transaction conflict answered 409
    `concurrent_update` to an institution that had done nothing wrong."""
    shop = flows.open_shop(platform)
    faults = AwsFaults(platform.dynamodb, platform.sqs)
    with faults.armed((Fault(1, Kind.CONFLICT),)):
        off = platform.post(f"/v1/courses/{shop.course_id}/off-sale", shop.staff)
    assert faults.injected[Kind.CONFLICT] == 1
    assert (off.status, off.body["status"]) == (200, "off_sale"), off.body


def test_a_course_taken_off_sale_sells_nothing_but_its_lessons_are_still_taught(
    platform: Platform,
) -> None:
    p = platform
    shop = flows.open_shop(p)
    fam = flows.family(p)
    order = flows.buy_and_pay(p, shop, fam, lessons=2)["order_id"]
    off = p.post(f"/v1/courses/{shop.course_id}/off-sale", shop.staff)
    assert off.body["status"] == "off_sale", off.body
    buy = {"course_id": shop.course_id, "student_id": fam.student_id, "lessons": 1}
    assert_refused(p, partial(p.post, "/v1/orders", fam.parent, buy), 422, "course_off_sale")
    listed = p.get(f"/v1/institutions/{shop.institution_id}/courses", fam.parent)
    assert listed.body["items"] == []
    flows.record_lesson(p, shop, [order])
    other = flows.open_shop(p)
    assert p.post(f"/v1/courses/{shop.course_id}/on-sale", other.staff).status == 404
    back = p.post(f"/v1/courses/{shop.course_id}/on-sale", shop.staff)
    assert back.body["status"] == "approved", back.body
    assert p.post("/v1/orders", fam.parent, buy).status == 201
    p.check()


def test_no_charge_earlier_than_a_month_before_the_course_starts(platform: Platform) -> None:
    p = platform
    shop = flows.open_shop(p, starts_on="2026-04-03", ends_on="2026-06-30")
    fam = flows.family(p)
    buy = {"course_id": shop.course_id, "student_id": fam.student_id, "lessons": 1}
    refused = assert_refused(p, partial(p.post, "/v1/orders", fam.parent, buy), 422,
                             "charge_too_early")
    assert refused.body["error"]["details"] == {"earliest_on": "2026-03-03"}
    p.advance(days=1)
    assert p.post("/v1/orders", fam.parent, buy).status == 201


def _paid_order(p: Platform, shop: flows.Shop, when: datetime) -> str:
    p.clock.set(when)
    return str(flows.buy_and_pay(p, shop, flows.family(p), lessons=3)["order_id"])


def _lesson(shop: flows.Shop, order: str, started: datetime, minutes: int) -> dict[str, Any]:
    return flows.lesson_body(shop, [order], started, minutes)


def test_an_offline_lesson_ends_by_half_past_eight(platform: Platform) -> None:
    p = platform
    shop = flows.open_shop(p)
    order = _paid_order(p, shop, at("2026-03-02 09:00"))
    p.clock.set(at("2026-03-02 21:00"))
    late = _lesson(shop, order, at("2026-03-02 19:31"), 60)
    refused = assert_refused(p, partial(p.post, "/v1/lessons", shop.staff, late), 422,
                             "lesson_ends_too_late")
    assert refused.body["error"]["details"]["ends_by"] == "20:30"
    assert p.post("/v1/lessons", shop.staff,
                  _lesson(shop, order, at("2026-03-02 19:30"), 60)).status == 201


def test_an_online_lesson_ends_by_nine_and_lasts_at_most_thirty_minutes(
    platform: Platform,
) -> None:
    p = platform
    applicant = p.token("applicant-online", "institution")
    body = flows.application(mode="online")
    institution_id = p.post("/v1/institutions", applicant, body).body["institution_id"]
    staff = p.token(f"staff-of-{institution_id}", "institution", institution_id=institution_id)
    province = flows.regulator(p, department="culture")  # online: the province supervises
    teacher = flows.checked_teacher(p, staff, province)
    assert p.post(f"/v1/regulator/institutions/{institution_id}/approve", province,
                  {}).status == 200
    course = p.post("/v1/courses", staff, flows.course_body(
        3_000, mode="online", lesson_minutes=30,
        timetable=[{"weekday": 1, "starts_at": "20:30"}, {"weekday": 1, "starts_at": "19:50"}]))
    assert course.status == 201, course.body
    course_id = course.body["course_id"]
    assert p.post(f"/v1/regulator/courses/{course_id}/approve", province, {}).status == 200
    custodian = body["custodian"]
    shop = flows.Shop(institution_id, staff, course_id, custodian["supervised_account"],
                      custodian["general_account"], 3_000, teacher)
    order = _paid_order(p, shop, at("2026-03-02 09:00"))
    p.clock.set(at("2026-03-02 21:30"))
    for started, minutes, code in ((at("2026-03-02 20:31"), 30, "lesson_ends_too_late"),
                                   (at("2026-03-02 19:00"), 40, "online_lesson_too_long")):
        assert_refused(p, partial(p.post, "/v1/lessons", staff,
                                  _lesson(shop, order, started, minutes)), 422, code)
    assert p.post("/v1/lessons", staff,
                  _lesson(shop, order, at("2026-03-02 20:30"), 30)).status == 201
    # a student has a 10-minute break after an online lesson before the next one
    assert_refused(p, partial(p.post, "/v1/lessons", staff,
                              _lesson(shop, order, at("2026-03-02 19:51"), 30)), 422,
                   "student_lesson_overlap")  # ends 20:21: 9 minutes before 20:30
    assert p.post("/v1/lessons", staff,
                  _lesson(shop, order, at("2026-03-02 19:50"), 30)).status == 201
    p.check()


def test_a_subject_lesson_follows_the_working_day_calendar(platform: Platform) -> None:
    p = platform
    p.clock.set(at("2026-09-01 09:00"))  # tokens last 90 days: the shop opens in September
    shop = subject_shop(p, starts_on="2026-09-01", ends_on="2026-11-30")
    order = _paid_order(p, shop, at("2026-09-18 09:00"))  # a Friday
    p.clock.set(at("2026-09-20 19:00"))  # Sunday, a working day (调休 for National Day)
    assert p.post("/v1/lessons", shop.staff,
                  _lesson(shop, order, at("2026-09-20 18:00"), 45)).status == 201
    p.clock.set(at("2026-10-01 19:00"))  # National Day
    refused = assert_refused(p, partial(p.post, "/v1/lessons", shop.staff,
                                        _lesson(shop, order, at("2026-10-01 18:00"), 45)),
                             422, "lesson_on_rest_day")
    assert refused.body["error"]["details"] == {"day": "2026-10-01", "calendar_known": True}
    p.clock.set(at("2026-10-10 19:00"))  # a Saturday, and a working day (调休)
    assert p.post("/v1/lessons", shop.staff,
                  _lesson(shop, order, at("2026-10-10 18:00"), 45)).status == 201
    p.clock.set(at("2026-10-11 19:00"))  # an ordinary Sunday
    assert_refused(p, partial(p.post, "/v1/lessons", shop.staff,
                              _lesson(shop, order, at("2026-10-11 18:00"), 45)), 422,
                   "lesson_on_rest_day")
    p.check()


def test_a_subject_lesson_needs_a_teacher_with_a_certificate(platform: Platform) -> None:
    p = platform
    shop = subject_shop(p, certificate=False)
    order = _paid_order(p, shop, at("2026-03-02 09:00"))
    p.clock.set(at("2026-03-02 19:00"))
    assert_refused(p, partial(p.post, "/v1/lessons", shop.staff,
                              _lesson(shop, order, at("2026-03-02 18:00"), 45)), 422,
                   "teacher_certificate_missing")


def test_anyone_can_read_the_policy_in_force_for_a_region(platform: Platform) -> None:
    p = platform
    shenzhen = p.get("/v1/policy?region=440305", {})
    assert shenzhen.status == 200, shenzhen.body
    policy = shenzhen.body["policy"]
    assert policy["max_fen_per_charge"] == 500_000
    assert policy["guided_prices"]["offline"][0] == {"up_to_students": 10, "fen": 7000}
    assert policy["offline_ends_by"] == "20:30"
    assert [(v["region"], v["effective_from"]) for v in shenzhen.body["versions"]] == [
        ("", "2021-07-24"), ("44", "2021-12-01"), ("44", "2025-09-01"), ("4403", "2021-12-01")]
    province = p.get("/v1/policy", {})
    assert province.body["region"] == "44" and province.body["policy"]["guided_prices"] is None
    beijing = p.get("/v1/policy?region=11", {}).body["policy"]["guided_prices"]
    assert beijing["online"] == [{"up_to_students": None, "fen": 2000}]
    assert p.get("/v1/policy?region=4403051", {}).status == 400


# moto applies concurrent transactions without isolation: races only mean something on the
# real engine.
@pytest.mark.parametrize("platform", ["dynamodb_local"], indirect=True)
def test_two_purchases_racing_for_one_child_cannot_both_fit_the_cap(platform: Platform) -> None:
    """Each sees the child holding nothing; the one counted second on the child's place in
    the course reads again, and the cap refuses it."""
    p = platform
    shop = flows.open_shop(p, price=15_000, lessons_total=30)
    fam = flows.family(p)
    ctx = bootstrap.context()
    parent = Caller(sub=fam.payer_account.removeprefix("PAYER-"), role=Role.PARENT)

    def buy(n: int) -> Callable[[], object]:
        return refused_or_result(lambda: orders.create(
            ctx, parent, f"ord_{n:026d}", course_id=shop.course_id,
            student_id=fam.student_id, lessons=20))  # 600,000 fen together

    outcomes = race(buy(1), buy(2))
    made = [o for o in outcomes if not isinstance(o, PlatformError)]
    refused = [o.code for o in outcomes if isinstance(o, PlatformError)]
    assert (len(made), refused) == (1, ["charge_cap_exceeded"]), outcomes
    assert len(p.get("/v1/orders", fam.parent).body["items"]) == 1
    p.check()


def test_a_lesson_teaches_at_most_the_class_the_course_was_priced_for(
    platform: Platform,
) -> None:
    p = platform
    shop = flows.open_shop(p, class_size=1)
    orders_ = [flows.buy_and_pay(p, shop, flows.family(p), lessons=1)["order_id"]
               for _ in range(2)]
    body = flows.teach(p, shop, orders_)
    refused = assert_refused(p, partial(p.post, "/v1/lessons", shop.staff, body), 422,
                             "class_size_exceeded")
    assert refused.body["error"]["details"] == {"class_size": 1}
    assert p.post("/v1/lessons", shop.staff, {**body, "order_ids": orders_[:1]}).status == 201


def test_a_retried_purchase_finds_its_order_even_if_the_course_went_off_sale(
    platform: Platform,
) -> None:
    p = platform
    shop = flows.open_shop(p)
    fam = flows.family(p)
    parent = Caller(sub=fam.payer_account.removeprefix("PAYER-"), role=Role.PARENT)
    ctx = bootstrap.context()
    first, _ = orders.create(ctx, parent, "ord_" + "7" * 26, course_id=shop.course_id,
                             student_id=fam.student_id, lessons=2)
    assert p.post(f"/v1/courses/{shop.course_id}/off-sale", shop.staff).status == 200
    again, _ = orders.create(ctx, parent, "ord_" + "7" * 26, course_id=shop.course_id,
                             student_id=fam.student_id, lessons=2)
    assert again == first
