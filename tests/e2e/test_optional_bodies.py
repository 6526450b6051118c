"""A body the served OpenAPI document calls optional may be omitted, and one it calls required
may not: the router reads an omitted body as {} (a regulator's decision has only defaults; a
dispute needs its reason)."""

from __future__ import annotations

from typing import Any

from tests.support import flows
from tests.support.harness import Platform, Reply
from tests.support.snapshot import assert_refused


def body_is_required(p: Platform, path: str) -> bool:
    served = p.get("/v1/openapi.json")
    assert served.status == 200, served.body
    required: bool = served.body["paths"][path]["post"]["requestBody"]["required"]
    return required


def post_without_body(p: Platform, path: str, who: dict[str, str]) -> Reply:
    """No body, no Content-Type, no Idempotency-Key."""
    response = p.client.http.request("POST", path, headers=who, body=b"")
    return Reply(response.status_code, response.json_body, dict(response.headers))


def pending_institution(p: Platform) -> str:
    applied = p.post("/v1/institutions", p.token("staff-applicant", "institution"),
                     flows.application())
    assert applied.status == 201, applied.body
    institution_id = str(applied.body["institution_id"])
    staff = p.token(f"staff-of-{institution_id}", "institution", institution_id=institution_id)
    flows.checked_teacher(p, staff, flows.competent(p))
    return institution_id


def pending_course(p: Platform, shop: flows.Shop) -> str:
    submitted = p.post("/v1/courses", shop.staff, flows.course_body())
    assert submitted.status == 201, submitted.body
    return str(submitted.body["course_id"])


def test_a_regulator_approves_an_institution_without_a_body(platform: Platform) -> None:
    institution_id = pending_institution(platform)
    path = f"/v1/regulator/institutions/{institution_id}/approve"
    assert body_is_required(platform, "/v1/regulator/institutions/{institution_id}/approve") \
        is False
    approved = post_without_body(platform, path, flows.competent(platform))
    assert (approved.status, approved.body["status"]) == (200, "whitelisted"), approved.body


def test_a_regulator_rejects_a_course_without_a_body(platform: Platform) -> None:
    course_id = pending_course(platform, flows.open_shop(platform))
    assert body_is_required(platform, "/v1/regulator/courses/{course_id}/reject") is False
    rejected = post_without_body(platform, f"/v1/regulator/courses/{course_id}/reject",
                                 flows.competent(platform))
    assert (rejected.status, rejected.body["status"]) == (200, "rejected"), rejected.body


def test_a_dispute_without_its_body_is_refused_and_changes_nothing(platform: Platform) -> None:
    shop, fam = flows.open_shop(platform), flows.family(platform)
    order: dict[str, Any] = flows.buy_and_pay(platform, shop, fam, lessons=1)
    lesson = flows.record_lesson(platform, shop, [order["order_id"]])
    consumption_id = lesson["consumptions"][0]["consumption_id"]
    assert body_is_required(platform, "/v1/consumptions/{consumption_id}/dispute") is True
    refused = assert_refused(
        platform,
        lambda: post_without_body(platform, f"/v1/consumptions/{consumption_id}/dispute",
                                  fam.parent),
        400, "validation_error",
    )
    assert {f["field"] for f in refused.body["error"]["details"]["fields"]} == {"reason"}
