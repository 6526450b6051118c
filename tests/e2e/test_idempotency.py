"""Idempotency-Key: what a repeated or reused key does."""

from __future__ import annotations

import uuid

from tests.support import flows
from tests.support.harness import Platform
from tests.support.snapshot import assert_refused


def new_key() -> str:
    return f"key-{uuid.uuid4().hex}"


# the fingerprint: method, concrete path, the whole caller, body


def test_one_key_on_the_confirm_of_two_consumptions_is_refused_for_the_second_as_reused(
    platform: Platform,
) -> None:
    shop, fam = flows.open_shop(platform), flows.family(platform)
    order = flows.buy_and_pay(platform, shop, fam, lessons=3)
    first = flows.record_lesson(platform, shop, [order["order_id"]])["consumptions"][0]
    platform.advance(hours=2)
    second = flows.record_lesson(platform, shop, [order["order_id"]])["consumptions"][0]
    key = new_key()
    confirmed = platform.post(
        f"/v1/consumptions/{first['consumption_id']}/confirm", fam.parent, key=key)
    assert confirmed.status == 200, confirmed.body
    assert confirmed.body["consumption_id"] == first["consumption_id"]
    assert_refused(
        platform, lambda: platform.post(
            f"/v1/consumptions/{second['consumption_id']}/confirm", fam.parent, key=key),
        422, "idempotency_key_reused",
    )
    assert flows.confirm(platform, fam, second["consumption_id"])["status"] == "confirmed"


def test_one_key_from_one_sub_under_another_verified_identity_is_refused_as_reused(
    platform: Platform,
) -> None:
    a, b = flows.open_shop(platform), flows.open_shop(platform)
    staff_of_a = platform.token("staff-moved", "institution", institution_id=a.institution_id)
    staff_of_b = platform.token("staff-moved", "institution", institution_id=b.institution_id)
    key, body = new_key(), flows.course_body()
    created = platform.post("/v1/courses", staff_of_a, body, key=key)
    assert created.status == 201, created.body
    assert_refused(
        platform, lambda: platform.post("/v1/courses", staff_of_b, body, key=key),
        422, "idempotency_key_reused",
    )
