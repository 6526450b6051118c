"""Who sees what: every caller sees and acts on only what is theirs.

Parents see their own children's orders and lessons, institutions their own business,
regulators their jurisdiction (region-code prefix) and department (education sees every
training type; otherwise the competent department: arts -> culture, sports -> sports).
Something the caller may not see answers as if it did not exist (404), so existence is not
leaked. Every refusal also changes nothing (tests/support/snapshot.py), and every refusal
has a control: the owner, or a competent regulator, succeeds at the same request.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from functools import partial
from typing import Any

import pytest

from tests.support import flows
from tests.support.harness import Platform
from tests.support.snapshot import assert_refused

# The shops of flows.open_shop are offline arts schools in 440106 (Tianhe, Guangzhou): their
# competent department is culture.
COMPETENT = {
    "the province's education department": ("440000", "education"),
    "the city's education department": ("440100", "education"),
    "the county's education department": ("440106", "education"),
    "the county's culture department": ("440106", "culture"),
    "the national education department": ("000000", "education"),
}
ACTS = {
    "the county's culture department": ("440106", "culture"),
    "the city's culture department": ("440100", "culture"),
    "the province's culture department": ("440000", "culture"),
    "the national culture department": ("000000", "culture"),
}
"""Who decides about the arts institutions of the flows: their competent department, at
any level of their jurisdiction. Education sees them (COMPETENT) but does not act."""
SEES_ONLY = {case: who for case, who in COMPETENT.items() if who[1] == "education"}
NOT_COMPETENT = {
    "another county's education department": ("440105", "education"),
    "another city's education department": ("440300", "education"),
    "another province's education department": ("450000", "education"),
    "the county's sports department": ("440106", "sports"),
    "the city's sports department": ("440100", "sports"),
}


def regulator(p: Platform, region: str, department: str) -> dict[str, str]:
    return flows.regulator(p, sub=f"reg-{region}-{department}", region=region,
                           department=department)


def ids(reply_body: dict[str, Any], field: str) -> list[str]:
    return [item[field] for item in reply_body["items"]]


def listed(p: Platform, path: str, who: dict[str, str], field: str) -> list[str]:
    reply = p.get(path, who)
    assert reply.status == 200, reply.body
    return ids(reply.body, field)


def pending_institution(p: Platform) -> str:
    """An application that meets the whitelist's criteria (a teacher checked)."""
    applied = p.post("/v1/institutions", p.token(f"applicant-{uuid.uuid4().hex[:8]}",
                                                 "institution"), flows.application())
    assert applied.status == 201, applied.body
    institution_id = str(applied.body["institution_id"])
    staff = p.token(f"staff-of-{institution_id}", "institution", institution_id=institution_id)
    flows.checked_teacher(p, staff, flows.competent(p))
    return institution_id


def pending_course(p: Platform, shop: flows.Shop) -> str:
    submitted = p.post("/v1/courses", shop.staff, flows.course_body())
    assert submitted.status == 201, submitted.body
    return str(submitted.body["course_id"])


@dataclass
class World:
    """Two whitelisted shops, X and Y; parent A has a paid order at X with one lesson
    recorded and waiting for A's confirmation; parent B has a paid order at Y."""

    x: flows.Shop
    y: flows.Shop
    a: flows.Family
    b: flows.Family
    a_order: str
    b_order: str
    a_consumption: str


@pytest.fixture
def world(platform: Platform) -> World:
    x, y = flows.open_shop(platform), flows.open_shop(platform)
    a, b = flows.family(platform, "小明"), flows.family(platform, "小红")
    a_order = flows.buy_and_pay(platform, x, a, lessons=2)["order_id"]
    b_order = flows.buy_and_pay(platform, y, b, lessons=2)["order_id"]
    lesson = flows.record_lesson(platform, x, [a_order])
    return World(x, y, a, b, a_order, b_order, lesson["consumptions"][0]["consumption_id"])


# parents


def test_a_parent_asking_for_another_parents_order_is_told_it_does_not_exist(
    platform: Platform, world: World
) -> None:
    theirs = assert_refused(
        platform, lambda: platform.get(f"/v1/orders/{world.a_order}", world.b.parent), 404,
        "order_not_found",
    )
    missing = platform.get("/v1/orders/ord_" + "0" * 26, world.b.parent)
    assert (missing.status, missing.code) == (theirs.status, theirs.code)
    assert missing.body["error"]["message"] == theirs.body["error"]["message"]
    assert flows.order_of(platform, world.a.parent, world.a_order)["order_id"] == world.a_order


def test_a_parent_cannot_confirm_or_dispute_another_parents_lesson(
    platform: Platform, world: World
) -> None:
    path = f"/v1/consumptions/{world.a_consumption}"
    assert_refused(
        platform, lambda: platform.post(f"{path}/confirm", world.b.parent), 404,
        "consumption_not_found",
    )
    assert_refused(
        platform, lambda: platform.post(f"{path}/dispute", world.b.parent, {"reason": "没上课"}),
        404, "consumption_not_found",
    )
    assert flows.confirm(platform, world.a, world.a_consumption)["status"] == "confirmed"


def test_a_parent_cannot_buy_lessons_for_a_child_that_is_not_theirs(
    platform: Platform, world: World
) -> None:
    body = {"course_id": world.x.course_id, "student_id": world.a.student_id, "lessons": 1}
    assert_refused(
        platform, lambda: platform.post("/v1/orders", world.b.parent, body), 404,
        "student_not_found",
    )
    assert platform.post("/v1/orders", world.a.parent, body).status == 201


def test_each_parent_lists_only_their_own_orders_children_and_lessons(
    platform: Platform, world: World
) -> None:
    a, b = world.a.parent, world.b.parent
    assert listed(platform, "/v1/orders", a, "order_id") == [world.a_order]
    assert listed(platform, "/v1/orders", b, "order_id") == [world.b_order]
    assert listed(platform, "/v1/students", a, "student_id") == [world.a.student_id]
    assert listed(platform, "/v1/students", b, "student_id") == [world.b.student_id]
    assert listed(platform, "/v1/consumptions", a, "consumption_id") == [world.a_consumption]
    assert listed(platform, "/v1/consumptions", b, "consumption_id") == []


def test_a_parent_naming_an_institution_still_lists_only_their_own_orders(
    platform: Platform, world: World
) -> None:
    path = f"/v1/orders?institution_id={world.x.institution_id}"
    assert listed(platform, path, world.b.parent, "order_id") == [world.b_order]


def test_a_cursor_from_one_parents_listing_cannot_page_another_parents(
    platform: Platform, world: World
) -> None:
    second = flows.buy(platform, world.x, world.a, lessons=1)["order_id"]
    first_page = platform.get("/v1/orders?limit=1", world.a.parent)
    assert first_page.status == 200 and first_page.body["next_cursor"], first_page.body
    cursor = first_page.body["next_cursor"]
    assert_refused(
        platform, lambda: platform.get(f"/v1/orders?limit=1&cursor={cursor}", world.b.parent),
        400, "invalid_cursor",
    )
    pages = ids(first_page.body, "order_id") + listed(
        platform, f"/v1/orders?limit=1&cursor={cursor}", world.a.parent, "order_id")
    assert sorted(pages) == sorted([world.a_order, second])


def test_an_idempotency_key_belongs_to_its_caller_and_never_replays_to_another(
    platform: Platform, world: World
) -> None:
    key = f"key-{uuid.uuid4().hex}"
    a_body = {"course_id": world.x.course_id, "student_id": world.a.student_id, "lessons": 1}
    created = platform.post("/v1/orders", world.a.parent, a_body, key=key)
    assert created.status == 201, created.body
    assert_refused(
        platform, lambda: platform.post("/v1/orders", world.b.parent, a_body, key=key), 404,
        "student_not_found",
    )
    b_body = {**a_body, "student_id": world.b.student_id}
    own = platform.post("/v1/orders", world.b.parent, b_body, key=key)
    assert own.status == 201 and own.body["order_id"] != created.body["order_id"], own.body


# institutions


def test_an_institution_asking_for_another_institutions_order_is_told_it_does_not_exist(
    platform: Platform, world: World
) -> None:
    assert_refused(
        platform, lambda: platform.get(f"/v1/orders/{world.b_order}", world.x.staff), 404,
        "order_not_found",
    )
    assert flows.order_of(platform, world.x.staff, world.a_order)["order_id"] == world.a_order


def test_an_institution_lists_only_its_own_orders_and_lessons(
    platform: Platform, world: World
) -> None:
    assert listed(platform, "/v1/orders", world.x.staff, "order_id") == [world.a_order]
    assert listed(platform, "/v1/orders", world.y.staff, "order_id") == [world.b_order]
    assert listed(platform, "/v1/consumptions", world.x.staff, "consumption_id") == [
        world.a_consumption]
    assert listed(platform, "/v1/consumptions", world.y.staff, "consumption_id") == []
    assert_refused(
        platform,
        lambda: platform.get(f"/v1/orders?institution_id={world.y.institution_id}",
                             world.x.staff),
        403, "not_your_institution",
    )


def lesson_body(p: Platform, shop: flows.Shop, order_ids: list[str]) -> dict[str, Any]:
    ended = p.clock.now() - timedelta(minutes=5)
    return {"course_id": shop.course_id, "started_at": (ended - timedelta(hours=1)).isoformat(),
            "ended_at": ended.isoformat(), "teacher_id": shop.teacher_id, "order_ids": order_ids}


UNKNOWN_ORDER = "ord_" + "0" * 26
UNKNOWN_COURSE = "crs_" + "0" * 26

# Every route an institution's staff use for its business, as (method, path, body). Staff not
# bound to an institution (an applicant's token, with no institution_id) act for none.
STAFF_BUSINESS: dict[str, Callable[[Platform, World], tuple[str, str, Any]]] = {
    "submit a course": lambda p, w: ("POST", "/v1/courses", flows.course_body()),
    "record a lesson": lambda p, w: (
        "POST", "/v1/lessons", lesson_body(p, w.x, [w.a_order])),
    "record a lesson on an unknown course": lambda p, w: (
        "POST", "/v1/lessons",
        lesson_body(p, replace(w.x, course_id=UNKNOWN_COURSE), [UNKNOWN_ORDER])),
    "list orders": lambda p, w: ("GET", "/v1/orders", None),
    "list an institution's orders": lambda p, w: (
        "GET", f"/v1/orders?institution_id={w.x.institution_id}", None),
    "read an order": lambda p, w: ("GET", f"/v1/orders/{w.a_order}", None),
    "read an unknown order": lambda p, w: ("GET", f"/v1/orders/{UNKNOWN_ORDER}", None),
    "list lessons recorded": lambda p, w: ("GET", "/v1/consumptions", None),
    "list lessons awaiting confirmation": lambda p, w: (
        "GET", "/v1/consumptions?status=pending_confirmation", None),
    "list courses under review": lambda p, w: (
        "GET", f"/v1/institutions/{w.x.institution_id}/courses?status=pending_review", None),
    "list courses turned down": lambda p, w: (
        "GET", f"/v1/institutions/{w.x.institution_id}/courses?status=rejected", None),
}


@pytest.mark.parametrize("attempt", STAFF_BUSINESS.values(), ids=STAFF_BUSINESS.keys())
def test_staff_not_bound_to_an_institution_are_refused_on_every_route_about_its_business(
    platform: Platform, world: World, attempt: Callable[[Platform, World], tuple[str, str, Any]]
) -> None:
    unbound = platform.token("applicant-unbound", "institution")
    method, path, body = attempt(platform, world)
    send = partial(platform.post, path, unbound, body) if method == "POST" else partial(
        platform.get, path, unbound)
    assert_refused(platform, send, 403, "not_your_institution")


def test_staff_not_bound_to_an_institution_may_still_browse_the_catalog_and_apply(
    platform: Platform, world: World
) -> None:
    unbound = platform.token("applicant-unbound", "institution")
    shop = world.x.institution_id
    assert world.x.institution_id in listed(platform, "/v1/institutions", unbound,
                                            "institution_id")
    assert platform.get(f"/v1/institutions/{shop}", unbound).status == 200
    assert listed(platform, f"/v1/institutions/{shop}/courses", unbound, "course_id") == [
        world.x.course_id]
    applied = platform.post("/v1/institutions", unbound, flows.application())
    assert applied.status == 201, applied.body


def test_an_institution_cannot_record_a_lesson_on_another_institutions_course(
    platform: Platform, world: World
) -> None:
    ended = platform.clock.now() - timedelta(minutes=5)
    body = {"course_id": world.y.course_id, "started_at": (ended - timedelta(hours=1)).isoformat(),
            "ended_at": ended.isoformat(), "teacher_id": world.x.teacher_id,
            "order_ids": [world.b_order]}
    assert_refused(
        platform, lambda: platform.post("/v1/lessons", world.x.staff, body), 404,
        "course_not_found",
    )
    assert flows.order_of(platform, world.b.parent, world.b_order)["lessons_remaining"] == 2
    assert_refused(  # y's own course, taught by x's teacher
        platform, lambda: platform.post("/v1/lessons", world.y.staff, body), 422,
        "teacher_not_of_institution",
    )
    taught_by_own = {**body, "teacher_id": world.y.teacher_id}
    assert platform.post("/v1/lessons", world.y.staff, taught_by_own).status == 201


def test_an_institution_cannot_list_another_institutions_courses_under_review(
    platform: Platform, world: World
) -> None:
    course_id = pending_course(platform, world.y)
    path = f"/v1/institutions/{world.y.institution_id}/courses?status=pending_review"
    assert_refused(platform, lambda: platform.get(path, world.x.staff), 403,
                   "not_your_institution")
    assert listed(platform, path, world.y.staff, "course_id") == [course_id]


# regulators


def refused_to_all(p: Platform, subtests: pytest.Subtests, path: str,
                   regulators: dict[str, tuple[str, str]], status: int, code: str) -> None:
    """POST `path` as each of `regulators` (region, department): each refused alike."""
    for case, (region, department) in regulators.items():
        with subtests.test(case):
            assert_refused(p, partial(p.post, path, regulator(p, region, department), {}),
                           status, code)


def test_only_competent_regulators_can_approve_an_institution(
    platform: Platform, subtests: pytest.Subtests
) -> None:
    institution_id = pending_institution(platform)
    path = f"/v1/regulator/institutions/{institution_id}/approve"
    refused_to_all(platform, subtests, path, NOT_COMPETENT, 404, "institution_not_found")
    refused_to_all(platform, subtests, path, SEES_ONLY, 403, "not_competent_department")
    for case, (region, department) in ACTS.items():
        with subtests.test(case):
            own = pending_institution(platform)
            approved = platform.post(f"/v1/regulator/institutions/{own}/approve",
                                     regulator(platform, region, department), {})
            assert approved.status == 200 and approved.body["status"] == "whitelisted", (
                approved.body)


def test_only_competent_regulators_can_approve_a_course(
    platform: Platform, world: World, subtests: pytest.Subtests
) -> None:
    course_id = pending_course(platform, world.x)
    path = f"/v1/regulator/courses/{course_id}/approve"
    refused_to_all(platform, subtests, path, NOT_COMPETENT, 404, "course_not_found")
    with subtests.test("an unknown course looks the same"):
        unknown = "/v1/regulator/courses/crs_00000000000000000000000000/approve"
        who = regulator(platform, *NOT_COMPETENT[next(iter(NOT_COMPETENT))])
        assert_refused(platform, partial(platform.post, unknown, who, {}), 404,
                       "course_not_found")
    refused_to_all(platform, subtests, path, SEES_ONLY, 403, "not_competent_department")
    for case, (region, department) in ACTS.items():
        with subtests.test(case):
            own = pending_course(platform, world.x)
            approved = platform.post(f"/v1/regulator/courses/{own}/approve",
                                     regulator(platform, region, department), {})
            assert approved.status == 200 and approved.body["status"] == "approved", (
                approved.body)


def test_only_competent_regulators_see_an_institutions_orders(
    platform: Platform, world: World, subtests: pytest.Subtests
) -> None:
    one = f"/v1/orders/{world.a_order}"
    of_x = f"/v1/orders?institution_id={world.x.institution_id}"
    for case, (region, department) in NOT_COMPETENT.items():
        with subtests.test(case):
            who = regulator(platform, region, department)
            assert_refused(platform, partial(platform.get, one, who), 404,
                           "order_not_found")
            assert_refused(platform, partial(platform.get, of_x, who), 404,
                           "institution_not_found")
    for case, (region, department) in COMPETENT.items():
        with subtests.test(case):
            who = regulator(platform, region, department)
            assert flows.order_of(platform, who, world.a_order)["order_id"] == world.a_order
            assert listed(platform, of_x, who, "order_id") == [world.a_order]


def test_a_regulator_listing_orders_must_name_one_institution(
    platform: Platform, world: World
) -> None:
    province = regulator(platform, "440000", "education")
    assert_refused(platform, lambda: platform.get("/v1/orders", province), 422,
                   "institution_id_required")
    of_y = f"/v1/orders?institution_id={world.y.institution_id}"
    assert listed(platform, of_y, province, "order_id") == [world.b_order]


def test_regulators_review_queues_hold_only_what_they_decide(
    platform: Platform, world: World, subtests: pytest.Subtests
) -> None:
    """A queue is a department's, by jurisdiction: education sees arts institutions, but
    their applications and courses wait in culture's queue."""
    institution_id = pending_institution(platform)
    course_id = pending_course(platform, world.x)
    for case, (region, department) in {**NOT_COMPETENT, **SEES_ONLY}.items():
        with subtests.test(case):
            who = regulator(platform, region, department)
            queued = listed(platform, "/v1/institutions?status=pending_review", who,
                            "institution_id")
            assert institution_id not in queued
            assert course_id not in listed(platform, "/v1/regulator/courses", who, "course_id")
    for case, (region, department) in ACTS.items():
        with subtests.test(case):
            who = regulator(platform, region, department)
            queued = listed(platform, "/v1/institutions?status=pending_review", who,
                            "institution_id")
            assert queued == [institution_id]
            assert listed(platform, "/v1/regulator/courses", who, "course_id") == [course_id]


# what parents browse


@pytest.fixture
def not_whitelisted(platform: Platform) -> tuple[str, str]:
    """An institution still under review and one that was turned down."""
    pending, rejected = pending_institution(platform), pending_institution(platform)
    decided = platform.post(f"/v1/regulator/institutions/{rejected}/reject",
                            flows.competent(platform), {"reason": "材料不全"})
    assert decided.status == 200, decided.body
    return pending, rejected


def test_the_whitelist_of_a_region_shows_whitelisted_institutions_only(
    platform: Platform, world: World, not_whitelisted: tuple[str, str]
) -> None:
    shown = listed(platform, "/v1/institutions?region=440106", world.a.parent, "institution_id")
    assert sorted(shown) == sorted([world.x.institution_id, world.y.institution_id])


def test_a_parent_can_browse_the_whole_whitelist_without_naming_a_region(
    platform: Platform, world: World, not_whitelisted: tuple[str, str]
) -> None:
    shown = listed(platform, "/v1/institutions", world.a.parent, "institution_id")
    assert sorted(shown) == sorted([world.x.institution_id, world.y.institution_id])


def test_looking_up_an_institution_not_whitelisted_answers_that_it_does_not_exist(
    platform: Platform, world: World, not_whitelisted: tuple[str, str]
) -> None:
    for who in (world.a.parent, world.x.staff):
        for hidden in not_whitelisted:
            for path in (f"/v1/institutions/{hidden}", f"/v1/institutions/{hidden}/courses"):
                assert_refused(platform, partial(platform.get, path, who), 404,
                               "institution_not_found")
    shop = platform.get(f"/v1/institutions/{world.x.institution_id}", world.a.parent)
    assert shop.status == 200 and shop.body["status"] == "whitelisted", shop.body


def test_an_institutions_public_course_list_shows_approved_courses_only(
    platform: Platform, world: World
) -> None:
    under_review = pending_course(platform, world.x)
    turned_down = pending_course(platform, world.x)
    decided = platform.post(f"/v1/regulator/courses/{turned_down}/reject",
                            flows.competent(platform), {"reason": "收费不合规"})
    assert decided.status == 200, decided.body
    approved = pending_course(platform, world.x)
    decided = platform.post(f"/v1/regulator/courses/{approved}/approve",
                            flows.competent(platform), {})
    assert decided.status == 200, decided.body

    courses = listed(platform, f"/v1/institutions/{world.x.institution_id}/courses",
                     world.a.parent, "course_id")
    assert sorted(courses) == sorted([world.x.course_id, approved])
    assert under_review not in courses and turned_down not in courses


def test_parents_cannot_ask_for_institutions_or_courses_under_review(
    platform: Platform, world: World
) -> None:
    pending_institution(platform)
    pending_course(platform, world.x)
    parent = world.a.parent
    assert_refused(platform, lambda: platform.get(
        "/v1/institutions?status=pending_review", parent), 403, "role_not_allowed")
    assert_refused(platform, lambda: platform.get(
        f"/v1/institutions/{world.x.institution_id}/courses?status=pending_review", parent),
        403, "role_not_allowed")
