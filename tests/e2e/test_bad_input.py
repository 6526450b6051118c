"""Bad input, over HTTP: every refusal is a 4xx with a stable `code` and changes nothing.

Each refused request goes through `assert_refused`, which checks the status and code and that
both tables, the settlement queue and the sandbox bank are exactly as they were before it.
Where a refusal sits on a boundary, a neighbouring accepted request shows the boundary is
where the test says it is.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from chalicelib.adapters.tokens import mint_hs256
from chalicelib.domain.escrow.bank_signature import sign
from tests.support import flows
from tests.support.harness import AUDIENCE, AUTH_SECRET, BANK_SECRET, ISSUER, Platform, Reply
from tests.support.invariants import scan
from tests.support.snapshot import assert_refused, snapshot

UNKNOWN_COURSE = "crs_" + "0" * 26
UNKNOWN_STUDENT = "stu_" + "0" * 26
UNKNOWN_ORDER = "ord_" + "0" * 26
NOTIFICATIONS = "/v1/bank/notifications"
DELETE = object()  # in a table of changes: remove this field
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def changed(body: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    merged = {**body, **changes}
    return {k: v for k, v in merged.items() if v is not DELETE}


def new_key() -> str:
    return f"key-{uuid.uuid4().hex}"


def fields_of(reply: Reply) -> set[str]:
    return {f["field"] for f in reply.body["error"]["details"]["fields"]}


def order_body(shop: flows.Shop, fam: flows.Family, lessons: int = 2) -> dict[str, Any]:
    return {"course_id": shop.course_id, "student_id": fam.student_id, "lessons": lessons}


def orders_of(p: Platform, fam: flows.Family) -> list[dict[str, Any]]:
    listed = p.get("/v1/orders", fam.parent)
    assert listed.status == 200, listed.body
    return list(listed.body["items"])


def submit_course(p: Platform, shop: flows.Shop, **overrides: Any) -> str:
    submitted = p.post("/v1/courses", shop.staff, flows.course_body(**overrides))
    assert submitted.status == 201, submitted.body
    return str(submitted.body["course_id"])


def approved_course(p: Platform, shop: flows.Shop, **overrides: Any) -> str:
    course_id = submit_course(p, shop, **overrides)
    approved = p.post(f"/v1/regulator/courses/{course_id}/approve", flows.competent(p), {})
    assert approved.status == 200, approved.body
    return course_id


def lesson_body(
    shop: flows.Shop, order_ids: list[str], *, ended: datetime, minutes: int = 60
) -> dict[str, Any]:
    return {
        "course_id": shop.course_id,
        "started_at": (ended - timedelta(minutes=minutes)).isoformat(),
        "ended_at": ended.isoformat(),
        "teacher_id": shop.teacher_id,
        "order_ids": order_ids,
    }


@pytest.fixture
def shop(platform: Platform) -> flows.Shop:
    return flows.open_shop(platform)


@pytest.fixture
def fam(platform: Platform) -> flows.Family:
    return flows.family(platform)


@dataclass
class Paid:
    """An open shop, a family, and a paid order of two lessons."""

    shop: flows.Shop
    fam: flows.Family
    order_id: str

    def lesson(self, p: Platform, order_ids: list[str] | None = None) -> dict[str, Any]:
        """A lesson that began after the payment (the clock moves past its end)."""
        return flows.teach(p, self.shop, order_ids or [self.order_id])


@pytest.fixture
def paid(platform: Platform, shop: flows.Shop, fam: flows.Family) -> Paid:
    order = flows.buy_and_pay(platform, shop, fam, lessons=2)
    return Paid(shop, fam, order["order_id"])


# the snapshot itself


def test_the_snapshot_changes_when_a_request_succeeds_money_arrives_or_work_is_queued(
    platform: Platform, shop: flows.Shop, fam: flows.Family
) -> None:
    before = snapshot(platform)
    order = flows.buy(platform, shop, fam, lessons=1)
    after_order = snapshot(platform)
    assert after_order.platform_items != before.platform_items

    flows.pay(platform, fam, order)
    after_payment = snapshot(platform, fam.payer_account)
    assert after_payment.journal_items != after_order.journal_items
    assert after_payment.balances[shop.supervised_account] == 15_000
    assert after_payment.balances[fam.payer_account] == -15_000

    lesson = flows.record_lesson(platform, shop, [order["order_id"]])
    flows.confirm(platform, fam, lesson["consumptions"][0]["consumption_id"])
    assert snapshot(platform).queue["ApproximateNumberOfMessages"] == 1


# malformed bodies
#
# Tables of cases that share one setup run as subtests of one test: each case is reported on
# its own, and the platform is built once.


NOT_JSON: dict[str, str | bytes] = {
    "a truncated object": '{"course_id": ',
    "a form body": "lessons=3",
    "single quotes": "{'lessons': 3}",
    "bytes that are not utf-8": b"\xff\xfe{}",
}


def test_an_order_whose_body_is_not_json_is_refused_with_invalid_json(
    platform: Platform, fam: flows.Family, subtests: pytest.Subtests
) -> None:
    for case, raw in NOT_JSON.items():
        with subtests.test(case):
            assert_refused(
                platform,
                partial(platform.post, "/v1/orders", fam.parent, raw=raw, key=new_key()),
                400, "invalid_json",
            )


def test_json_nested_too_deep_to_parse_is_refused_with_400_not_500(
    platform: Platform, fam: flows.Family, subtests: pytest.Subtests
) -> None:
    """Python's json parser gives up on deep nesting with RecursionError, not ValueError."""
    deep = {"arrays": "[" * 2000 + "]" * 2000, "objects": '{"a":' * 2000 + "1" + "}" * 2000}
    for case, raw in deep.items():
        with subtests.test(f"a body of {case} nested 2000 deep"):
            assert_refused(
                platform,
                partial(platform.post, "/v1/orders", fam.parent, raw=raw, key=new_key()),
                400, "invalid_json",
            )
    cursor = base64.urlsafe_b64encode(b"[" * 1200).decode().rstrip("=")
    with subtests.test("a cursor of arrays nested 1200 deep"):
        assert_refused(
            platform, lambda: platform.get(f"/v1/orders?cursor={cursor}", fam.parent), 400,
            "invalid_cursor",
        )


ORDER_SCHEMA_BREAKS: dict[str, tuple[dict[str, Any], str]] = {
    "lessons is missing": ({"lessons": DELETE}, "lessons"),
    "course_id is missing": ({"course_id": DELETE}, "course_id"),
    "student_id is missing": ({"student_id": DELETE}, "student_id"),
    'lessons is the string "3"': ({"lessons": "3"}, "lessons"),
    "lessons is 2.5": ({"lessons": 2.5}, "lessons"),
    "lessons is the float 3.0": ({"lessons": 3.0}, "lessons"),
    "lessons is a boolean": ({"lessons": True}, "lessons"),
    "lessons is null": ({"lessons": None}, "lessons"),
    "lessons is zero": ({"lessons": 0}, "lessons"),
    "lessons is negative": ({"lessons": -1}, "lessons"),
    "lessons is beyond any course": ({"lessons": 1001}, "lessons"),
    "course_id is a number": ({"course_id": 42}, "course_id"),
    "course_id is not an id": ({"course_id": "crs_123"}, "course_id"),
    "course_id names an institution": ({"course_id": "ins_" + "0" * 26}, "course_id"),
    "student_id is a list": ({"student_id": ["stu_x"]}, "student_id"),
    "the client sets its own amount": ({"amount_fen": 1}, "amount_fen"),
    "an unknown field is sent": ({"coupon": "FREE"}, "coupon"),
}


def test_an_order_breaking_the_schema_is_refused_with_validation_error_naming_the_field(
    platform: Platform, shop: flows.Shop, fam: flows.Family, subtests: pytest.Subtests
) -> None:
    for case, (changes, field) in ORDER_SCHEMA_BREAKS.items():
        with subtests.test(case):
            body = changed(order_body(shop, fam), changes)
            refused = assert_refused(
                platform, partial(platform.post, "/v1/orders", fam.parent, body),
                400, "validation_error",
            )
            assert fields_of(refused) == {field}
    assert orders_of(platform, fam) == []


def test_an_order_whose_body_is_not_an_object_is_refused_with_validation_error(
    platform: Platform, fam: flows.Family, subtests: pytest.Subtests
) -> None:
    for raw in ("[]", '"order"', "null", ""):
        with subtests.test(f"the body is {raw!r}"):
            refused = assert_refused(
                platform,
                partial(platform.post, "/v1/orders", fam.parent, raw=raw, key=new_key()),
                400, "validation_error",
            )
            assert fields_of(refused) <= {"body", "course_id", "student_id", "lessons"}


COURSE_SCHEMA_BREAKS: dict[str, tuple[dict[str, Any], str]] = {
    "the price is 150.5": ({"price_per_lesson_fen": 150.5}, "price_per_lesson_fen"),
    "the price is the float 15000.0": ({"price_per_lesson_fen": 15000.0}, "price_per_lesson_fen"),
    "the price is a string": ({"price_per_lesson_fen": "15000"}, "price_per_lesson_fen"),
    "the price is zero": ({"price_per_lesson_fen": 0}, "price_per_lesson_fen"),
    "the price is negative": ({"price_per_lesson_fen": -100}, "price_per_lesson_fen"),
    "the course has no lessons": ({"lessons_total": 0}, "lessons_total"),
    "lesson_minutes is a string": ({"lesson_minutes": "60"}, "lesson_minutes"),
    "starts_on is not a date": ({"starts_on": "next monday"}, "starts_on"),
    "the discipline is unknown": ({"discipline": "cooking"}, "discipline"),
    "the title is missing": ({"title": DELETE}, "title"),
    "the title is blank": ({"title": "   "}, "title"),
    "the institution approves its own course": ({"status": "approved"}, "status"),
}


def test_a_course_submission_breaking_the_schema_is_refused_with_validation_error(
    platform: Platform, shop: flows.Shop, subtests: pytest.Subtests
) -> None:
    for case, (changes, field) in COURSE_SCHEMA_BREAKS.items():
        with subtests.test(case):
            body = changed(flows.course_body(), changes)
            refused = assert_refused(
                platform, partial(platform.post, "/v1/courses", shop.staff, body),
                400, "validation_error",
            )
            assert fields_of(refused) == {field}


COURSE_RULE_BREAKS: dict[str, tuple[dict[str, Any], str]] = {
    "it ends before it starts": ({"ends_on": "2026-02-01"}, "course_dates_invalid"),
    "an offline institution sells it online": ({"mode": "online"}, "course_mode_not_licensed"),
    "a non-subject course names no discipline": (
        {"discipline": DELETE}, "course_discipline_required"),
}


def test_a_course_submission_breaking_a_business_rule_is_refused_with_422(
    platform: Platform, shop: flows.Shop, subtests: pytest.Subtests
) -> None:
    for case, (changes, code) in COURSE_RULE_BREAKS.items():
        with subtests.test(case):
            body = changed(flows.course_body(), changes)
            assert_refused(
                platform, partial(platform.post, "/v1/courses", shop.staff, body),
                422, code,
            )


APPLICATION_BREAKS: dict[str, tuple[dict[str, Any], str]] = {
    "the credit code is malformed": ({"uscc": "123"}, "uscc"),
    "the region code is short": ({"region_code": "4401"}, "region_code"),
    "the region code is in Arabic-Indic digits": ({"region_code": "٤٤٠١٠٦"}, "region_code"),
    "the training type is unknown": ({"training_type": "tutoring"}, "training_type"),
    "the custodian is missing": ({"custodian": DELETE}, "custodian"),
    "the supervised account is malformed": (
        {"custodian": {"bank": "示例银行", "supervised_account": "x",
                       "general_account": "GEN00000001"}},
        "custodian.supervised_account",
    ),
    "the applicant whitelists itself": ({"status": "whitelisted"}, "status"),
    "the general account has a space in it": (
        {"custodian": {"bank": "示例银行", "supervised_account": "SUP00000001",
                       "general_account": "GEN 0000001"}},
        "custodian.general_account",
    ),
    "the general account is written in full-width digits": (
        {"custodian": {"bank": "示例银行", "supervised_account": "SUP00000001",
                       "general_account": "ＧＥＮ００００００１"}},
        "custodian.general_account",
    ),
}


def test_an_application_whose_two_custodian_accounts_are_one_is_refused(
    platform: Platform, subtests: pytest.Subtests
) -> None:
    """Releases move money from the supervised to the general account: were they one
    account, a release would move nothing and the ledger would say it had."""
    applicant = platform.token("applicant-1", "institution")
    for case, general in {"the same number": "SUP-4401060001",
                          "the same number in lower case, without its hyphen":
                          "sup4401060001"}.items():
        with subtests.test(case):
            body = changed(flows.application(), {"custodian": {
                "bank": "示例银行", "supervised_account": "SUP-4401060001",
                "general_account": general}})
            assert_refused(
                platform, partial(platform.post, "/v1/institutions", applicant, body),
                422, "custodian_accounts_identical",
            )


def test_an_institution_application_breaking_the_schema_is_refused_with_validation_error(
    platform: Platform, subtests: pytest.Subtests
) -> None:
    applicant = platform.token("applicant-1", "institution")
    for case, (changes, field) in APPLICATION_BREAKS.items():
        with subtests.test(case):
            body = changed(flows.application(), changes)
            refused = assert_refused(
                platform, partial(platform.post, "/v1/institutions", applicant, body),
                400, "validation_error",
            )
            assert fields_of(refused) == {field}


# orders that are well formed but cannot be sold


def test_an_order_for_a_course_that_does_not_exist_is_refused_with_course_not_found(
    platform: Platform, fam: flows.Family
) -> None:
    body = {"course_id": UNKNOWN_COURSE, "student_id": fam.student_id, "lessons": 2}
    assert_refused(
        platform, lambda: platform.post("/v1/orders", fam.parent, body), 404, "course_not_found"
    )


def test_an_order_for_a_student_that_does_not_exist_is_refused_with_student_not_found(
    platform: Platform, shop: flows.Shop, fam: flows.Family
) -> None:
    body = {"course_id": shop.course_id, "student_id": UNKNOWN_STUDENT, "lessons": 2}
    assert_refused(
        platform, lambda: platform.post("/v1/orders", fam.parent, body), 404, "student_not_found"
    )


def test_an_order_for_a_course_pending_review_or_rejected_is_refused_with_course_not_approved(
    platform: Platform, shop: flows.Shop, fam: flows.Family
) -> None:
    pending = submit_course(platform, shop)
    rejected = submit_course(platform, shop)
    decided = platform.post(f"/v1/regulator/courses/{rejected}/reject", flows.competent(platform),
                            {"reason": "师资不符"})
    assert decided.status == 200, decided.body
    for course_id in (pending, rejected):
        body = {"course_id": course_id, "student_id": fam.student_id, "lessons": 2}
        assert_refused(
            platform, partial(platform.post, "/v1/orders", fam.parent, body), 422,
            "course_not_approved",
        )


def test_an_order_for_more_lessons_than_the_course_has_is_refused_with_lessons_exceed_course(
    platform: Platform, shop: flows.Shop, fam: flows.Family
) -> None:
    course_id = approved_course(platform, shop, price=1_000, lessons_total=10)
    body = {"course_id": course_id, "student_id": fam.student_id, "lessons": 11}
    refused = assert_refused(
        platform, lambda: platform.post("/v1/orders", fam.parent, body), 422,
        "lessons_exceed_course",
    )
    assert refused.body["error"]["details"]["lessons_total"] == 10
    accepted = platform.post("/v1/orders", fam.parent, {**body, "lessons": 10})
    assert accepted.status == 201, accepted.body


def _held_then_refused(
    p: Platform, fam: flows.Family, course_id: str, held: int, over: int,
) -> dict[str, Any]:
    """Buy `held` lessons, then `over` more: refused with charge_cap_exceeded (and nothing
    created), while one lesson fewer is accepted."""
    first = p.post("/v1/orders", fam.parent, {"course_id": course_id,
                                              "student_id": fam.student_id, "lessons": held})
    assert first.status == 201, first.body
    body = {"course_id": course_id, "student_id": fam.student_id, "lessons": over}
    refused = assert_refused(p, lambda: p.post("/v1/orders", fam.parent, body), 422,
                             "charge_cap_exceeded")
    assert len(orders_of(p, fam)) == 1
    accepted = p.post("/v1/orders", fam.parent, {**body, "lessons": over - 1})
    assert accepted.status == 201, accepted.body
    return dict(refused.body["error"])


def test_lessons_still_held_count_toward_the_sixty_lesson_cap(
    platform: Platform, shop: flows.Shop, fam: flows.Family
) -> None:
    course_id = approved_course(platform, shop, price=1_000, lessons_total=60)
    error = _held_then_refused(platform, fam, course_id, held=20, over=41)
    assert error["details"] == {"cap": "lessons", "lessons": 61, "max_lessons": 60}


def test_lessons_still_held_count_toward_the_five_thousand_yuan_cap(
    platform: Platform, shop: flows.Shop, fam: flows.Family
) -> None:
    course_id = approved_course(platform, shop, price=10_000, lessons_total=50)
    error = _held_then_refused(platform, fam, course_id, held=20, over=31)
    assert error["details"] == {"cap": "fen", "amount_fen": 510_000, "max_fen": 500_000}
    assert "5100.00" in error["message"]


def test_a_child_holding_more_than_twenty_lessons_cannot_renew_yet(
    platform: Platform, shop: flows.Shop, fam: flows.Family
) -> None:
    course_id = approved_course(platform, shop, price=1_000, lessons_total=40)
    bought = platform.post("/v1/orders", fam.parent, {
        "course_id": course_id, "student_id": fam.student_id, "lessons": 21})
    assert bought.status == 201, bought.body
    body = {"course_id": course_id, "student_id": fam.student_id, "lessons": 1}
    refused = assert_refused(platform, lambda: platform.post("/v1/orders", fam.parent, body),
                             422, "renewal_too_early")
    assert refused.body["error"]["details"] == {"lessons_left": 21, "max_lessons_left": 20}
    platform.advance(minutes=31)  # the unpaid order lapses, but until the expiry run marks it
    assert_refused(platform, lambda: platform.post("/v1/orders", fam.parent, body), 422,
                   "renewal_too_early")  # a payment for it would still be accepted
    platform.run_schedule("expire_orders")
    renewed = platform.post("/v1/orders", fam.parent, body)
    assert renewed.status == 201, renewed.body


def test_another_child_of_the_same_parent_is_not_capped_by_the_first(
    platform: Platform, shop: flows.Shop, fam: flows.Family
) -> None:
    course_id = approved_course(platform, shop, price=10_000, lessons_total=50)
    sibling = platform.post("/v1/students", fam.parent, {"name": "小红", "grade": "一年级"})
    assert sibling.status == 201, sibling.body
    for student_id in (fam.student_id, sibling.body["student_id"]):
        bought = platform.post("/v1/orders", fam.parent, {
            "course_id": course_id, "student_id": student_id, "lessons": 50})
        assert bought.status == 201, bought.body


# Idempotency-Key


CREATING_POSTS: dict[str, Callable[[Platform, Paid], tuple[dict[str, str], str, Any]]] = {
    "an order": lambda p, s: (s.fam.parent, "/v1/orders", order_body(s.shop, s.fam)),
    "a student": lambda p, s: (s.fam.parent, "/v1/students", {"name": "小红", "grade": "一年级"}),
    "a course": lambda p, s: (s.shop.staff, "/v1/courses", flows.course_body()),
    "an institution": lambda p, s: (
        p.token("applicant-2", "institution"), "/v1/institutions", flows.application()),
    "a lesson": lambda p, s: (s.shop.staff, "/v1/lessons", s.lesson(p)),
}


def test_creating_without_an_idempotency_key_is_refused_with_idempotency_key_required(
    platform: Platform, paid: Paid, subtests: pytest.Subtests
) -> None:
    for what, make in CREATING_POSTS.items():
        with subtests.test(f"creating {what}"):
            who, path, body = make(platform, paid)
            assert_refused(
                platform, partial(platform.post, path, who, body, key=None),
                400, "idempotency_key_required",
            )


def test_a_malformed_idempotency_key_is_refused_with_idempotency_key_invalid(
    platform: Platform, shop: flows.Shop, fam: flows.Family, subtests: pytest.Subtests
) -> None:
    for key in ("short", "has spaces in it", "订单-0000000001", "k" * 129):
        with subtests.test(key):
            assert_refused(
                platform, partial(
                    platform.post, "/v1/orders", fam.parent, order_body(shop, fam), key=key),
                400, "idempotency_key_invalid",
            )


def test_reusing_an_idempotency_key_for_a_different_body_is_refused_with_key_reused(
    platform: Platform, shop: flows.Shop, fam: flows.Family
) -> None:
    key = new_key()
    first = platform.post("/v1/orders", fam.parent, order_body(shop, fam, lessons=2), key=key)
    assert first.status == 201, first.body
    assert_refused(
        platform,
        lambda: platform.post("/v1/orders", fam.parent, order_body(shop, fam, lessons=3), key=key),
        422, "idempotency_key_reused",
    )
    assert [o["order_id"] for o in orders_of(platform, fam)] == [first.body["order_id"]]


def test_repeating_a_request_with_its_idempotency_key_replays_the_first_response_only_once(
    platform: Platform, shop: flows.Shop, fam: flows.Family
) -> None:
    key = new_key()
    first = platform.post("/v1/orders", fam.parent, order_body(shop, fam), key=key)
    assert first.status == 201, first.body
    after_first = snapshot(platform)
    platform.advance(minutes=3)
    again = platform.post("/v1/orders", fam.parent, order_body(shop, fam), key=key)
    assert (again.status, again.body) == (first.status, first.body)
    assert snapshot(platform) == after_first
    assert [o["order_id"] for o in orders_of(platform, fam)] == [first.body["order_id"]]


def test_a_refused_request_leaves_its_idempotency_key_free_for_a_corrected_request(
    platform: Platform, shop: flows.Shop, fam: flows.Family
) -> None:
    key = new_key()
    assert_refused(
        platform,
        lambda: platform.post("/v1/orders", fam.parent, order_body(shop, fam, 61), key=key),
        422, "lessons_exceed_course",
    )
    corrected = platform.post("/v1/orders", fam.parent, order_body(shop, fam, 4), key=key)
    assert corrected.status == 201 and corrected.body["lessons"] == 4, corrected.body


# tokens and roles


def _token(p: Platform, **overrides: Any) -> dict[str, str]:
    now = int(p.clock.now().timestamp())
    payload: dict[str, Any] = {"sub": "parent-x", "role": "parent", "iss": ISSUER,
                               "aud": AUDIENCE, "iat": now, "exp": now + 3600}
    secret = overrides.pop("secret", AUTH_SECRET)
    algorithm = overrides.pop("algorithm", "HS256")
    payload = changed(payload, overrides)
    return {"Authorization": f"Bearer {jwt.encode(payload, secret, algorithm=algorithm)}"}


def _now(p: Platform) -> int:
    return int(p.clock.now().timestamp())


def _hmac_under_another_alg(p: Platform, alg: str) -> dict[str, str]:
    """Algorithm confusion: an `alg` the stage does not verify, over an HMAC with its secret."""
    now = _now(p)
    claims = {"sub": "parent-x", "role": "parent", "iss": ISSUER, "aud": AUDIENCE, "exp": now + 60}
    parts = [base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=")
             for part in ({"alg": alg, "typ": "JWT"}, claims)]
    mac = hmac.new(AUTH_SECRET.encode(), b".".join(parts), hashlib.sha256).digest()
    token = b".".join([*parts, base64.urlsafe_b64encode(mac).rstrip(b"=")]).decode()
    return {"Authorization": f"Bearer {token}"}


def _minted(p: Platform, *, age: int, ttl: int) -> dict[str, str]:
    now = int(p.clock.now().timestamp()) - age
    token = mint_hs256(AUTH_SECRET, issuer=ISSUER, audience=AUDIENCE, sub="parent-x",
                       role="parent", now=now, ttl_seconds=ttl)
    return {"Authorization": f"Bearer {token}"}


BAD_CREDENTIALS: dict[str, tuple[Callable[[Platform], dict[str, str]], str]] = {
    "no Authorization header": (lambda p: {}, "missing_token"),
    "a Basic scheme": (lambda p: {"Authorization": "Basic cGFyZW50OnB3"}, "missing_token"),
    "a bare Bearer": (lambda p: {"Authorization": "Bearer "}, "missing_token"),
    "a garbage token": (lambda p: {"Authorization": "Bearer not.a.jwt"}, "invalid_token"),
    "a token expired a second ago": (lambda p: _minted(p, age=3601, ttl=3600), "invalid_token"),
    "a token expiring this second": (lambda p: _minted(p, age=3600, ttl=3600), "invalid_token"),
    "a token for another audience": (lambda p: _token(p, aud="other-app"), "invalid_token"),
    "a token from another issuer": (lambda p: _token(p, iss="evil-idp"), "invalid_token"),
    "a token without exp": (lambda p: _token(p, exp=DELETE), "invalid_token"),
    "a token signed with another secret": (
        lambda p: _token(p, secret="another-secret-0123456789abcdef-0123456789"), "invalid_token"),
    "an unsigned token": (lambda p: _token(p, secret=None, algorithm="none"), "invalid_token"),
    "a token with an unknown role": (lambda p: _token(p, role="admin"), "invalid_token"),
    "a regulator token without region": (
        lambda p: _token(p, role="regulator", department="education"), "invalid_token"),
    "a token not valid for another second (nbf)": (
        lambda p: _token(p, nbf=_now(p) + 1), "invalid_token"),
    "a token whose nbf is not an integer": (
        lambda p: _token(p, nbf=f"{_now(p)}"), "invalid_token"),
    "an RS256 token where the stage verifies HS256": (
        lambda p: _token(p, secret=RSA_KEY, algorithm="RS256"), "invalid_token"),
    "an RS256 header over an HMAC with the stage's secret": (
        lambda p: _hmac_under_another_alg(p, "RS256"), "invalid_token"),
    "an ES256 header over an HMAC with the stage's secret": (
        lambda p: _hmac_under_another_alg(p, "ES256"), "invalid_token"),
    "a validly signed token of 9 KB": (
        lambda p: _token(p, padding="x" * 9000), "invalid_token"),
    "a token with a non-ASCII character": (
        lambda p: {"Authorization": _token(p)["Authorization"] + "\u00e9"}, "invalid_token"),
    "a token with a lone surrogate": (
        lambda p: {"Authorization": _token(p)["Authorization"] + "\ud800"}, "invalid_token"),
}


def test_an_order_is_refused_with_401_when_the_caller_presents_bad_credentials(
    platform: Platform, shop: flows.Shop, fam: flows.Family, subtests: pytest.Subtests
) -> None:
    body = order_body(shop, fam)
    for credentials, (make, code) in BAD_CREDENTIALS.items():
        with subtests.test(credentials):
            who = make(platform)
            assert_refused(
                platform, partial(platform.post, "/v1/orders", who, body), 401, code
            )


def test_the_bad_credential_helpers_make_working_tokens_when_nothing_is_wrong(
    platform: Platform,
) -> None:
    for who in (_token(platform), _minted(platform, age=3599, ttl=3600),
                _token(platform, nbf=_now(platform)), _token(platform, padding="x" * 5000)):
        listed = platform.get("/v1/orders", who)
        assert listed.status == 200, listed.body


def test_reads_without_a_token_are_refused_with_missing_token(
    platform: Platform, paid: Paid, subtests: pytest.Subtests
) -> None:
    for path in ("/v1/orders", f"/v1/orders/{paid.order_id}", "/v1/institutions",
                 "/v1/consumptions", "/v1/students"):
        with subtests.test(path):
            assert_refused(platform, partial(platform.get, path), 401, "missing_token")


WRONG_ROLES: dict[str, Callable[[Platform, Paid], tuple[dict[str, str], str, Any]]] = {
    "institution staff buy a course": lambda p, s: (
        s.shop.staff, "/v1/orders", order_body(s.shop, s.fam)),
    "a regulator buys a course": lambda p, s: (
        flows.regulator(p), "/v1/orders", order_body(s.shop, s.fam)),
    "a parent records a lesson": lambda p, s: (s.fam.parent, "/v1/lessons", s.lesson(p)),
    "a parent submits a course": lambda p, s: (s.fam.parent, "/v1/courses", flows.course_body()),
    "a parent applies as an institution": lambda p, s: (
        s.fam.parent, "/v1/institutions", flows.application()),
    "a regulator links a student": lambda p, s: (
        flows.regulator(p), "/v1/students", {"name": "小红", "grade": "一年级"}),
    "a parent rejects a course": lambda p, s: (
        s.fam.parent, f"/v1/regulator/courses/{s.shop.course_id}/reject", {}),
    "institution staff reject their own institution": lambda p, s: (
        s.shop.staff, f"/v1/regulator/institutions/{s.shop.institution_id}/reject", {}),
}


def test_a_request_from_the_wrong_role_is_refused_with_role_not_allowed(
    platform: Platform, paid: Paid, subtests: pytest.Subtests
) -> None:
    for attempt, make in WRONG_ROLES.items():
        with subtests.test(attempt):
            who, path, body = make(platform, paid)
            assert_refused(
                platform, partial(platform.post, path, who, body),
                403, "role_not_allowed",
            )


def test_institution_staff_cannot_confirm_a_lesson_for_the_parent(
    platform: Platform, paid: Paid
) -> None:
    lesson = flows.record_lesson(platform, paid.shop, [paid.order_id])
    consumption_id = lesson["consumptions"][0]["consumption_id"]
    assert_refused(
        platform,
        lambda: platform.post(f"/v1/consumptions/{consumption_id}/confirm", paid.shop.staff),
        403, "role_not_allowed",
    )


# recording lessons


def test_a_lesson_for_an_order_of_another_course_is_refused_with_order_not_for_course(
    platform: Platform, paid: Paid
) -> None:
    other_course = approved_course(platform, paid.shop, lessons_total=10)
    other = platform.post("/v1/orders", paid.fam.parent, {
        "course_id": other_course, "student_id": paid.fam.student_id, "lessons": 2})
    assert other.status == 201, other.body
    flows.pay(platform, paid.fam, other.body)
    body = paid.lesson(platform, [other.body["order_id"]])
    assert_refused(
        platform, lambda: platform.post("/v1/lessons", paid.shop.staff, body), 422,
        "order_not_for_course",
    )


def test_a_lesson_for_an_order_of_another_institution_is_refused_with_order_not_found(
    platform: Platform, paid: Paid
) -> None:
    elsewhere = flows.open_shop(platform)
    theirs = flows.buy_and_pay(platform, elsewhere, paid.fam, lessons=2)
    body = paid.lesson(platform, [theirs["order_id"]])
    assert_refused(
        platform, lambda: platform.post("/v1/lessons", paid.shop.staff, body), 404,
        "order_not_found",
    )


def test_a_lesson_naming_one_good_and_one_unknown_order_changes_neither(
    platform: Platform, paid: Paid
) -> None:
    body = paid.lesson(platform, [paid.order_id, UNKNOWN_ORDER])
    assert_refused(
        platform, lambda: platform.post("/v1/lessons", paid.shop.staff, body), 404,
        "order_not_found",
    )
    assert flows.order_of(platform, paid.fam.parent, paid.order_id)["lessons_remaining"] == 2


def test_a_lesson_on_a_course_not_approved_is_refused_with_course_not_approved(
    platform: Platform, paid: Paid
) -> None:
    pending_course = submit_course(platform, paid.shop)
    body = {**paid.lesson(platform), "course_id": pending_course}
    assert_refused(
        platform, lambda: platform.post("/v1/lessons", paid.shop.staff, body), 422,
        "course_not_approved",
    )


def test_a_lesson_for_an_unpaid_order_is_refused_with_order_has_no_lessons(
    platform: Platform, shop: flows.Shop, fam: flows.Family
) -> None:
    unpaid = flows.buy(platform, shop, fam, lessons=2)
    ended = platform.clock.now() - timedelta(minutes=5)
    body = lesson_body(shop, [unpaid["order_id"]], ended=ended)
    assert_refused(
        platform, lambda: platform.post("/v1/lessons", shop.staff, body), 409,
        "order_has_no_lessons",
    )


def test_recording_one_lesson_more_than_was_bought_is_refused_with_order_has_no_lessons(
    platform: Platform, paid: Paid
) -> None:
    for _ in range(2):
        flows.record_lesson(platform, paid.shop, [paid.order_id])
        platform.advance(hours=2)
    body = paid.lesson(platform)
    assert_refused(
        platform, lambda: platform.post("/v1/lessons", paid.shop.staff, body), 409,
        "order_has_no_lessons",
    )
    assert flows.order_of(platform, paid.fam.parent, paid.order_id)["lessons_remaining"] == 0


IMPOSSIBLE_TIMES: dict[str, tuple[int, int, int, str]] = {
    # case: (ends in minutes from now, lasts minutes, status, code)
    "it ends an hour from now": (60, 60, 422, "lesson_not_finished"),
    "it ends six minutes from now": (6, 60, 422, "lesson_not_finished"),
    "it lasts no time at all": (-5, 0, 400, "invalid_lesson_time"),
    "it ends before it starts": (-5, -30, 400, "invalid_lesson_time"),
    "it lasts thirteen hours": (-5, 13 * 60, 400, "invalid_lesson_time"),
}


def test_a_lesson_with_impossible_times_is_refused(
    platform: Platform, paid: Paid, subtests: pytest.Subtests
) -> None:
    for case, (ends_in, lasts, status, code) in IMPOSSIBLE_TIMES.items():
        with subtests.test(case):
            ended = platform.clock.now() + timedelta(minutes=ends_in)
            body = lesson_body(paid.shop, [paid.order_id], ended=ended, minutes=lasts)
            assert_refused(
                platform, partial(platform.post, "/v1/lessons", paid.shop.staff, body),
                status, code,
            )


LESSON_BREAKS: dict[str, tuple[dict[str, Any], int, str]] = {
    "a time carries no offset": (
        {"started_at": "2026-03-02T07:00:00"}, 400, "validation_error"),
    "no order attends": ({"order_ids": []}, 400, "validation_error"),
    "an order id is malformed": ({"order_ids": ["ord_1"]}, 400, "validation_error"),
    "more than a hundred orders attend": (
        {"order_ids": [UNKNOWN_ORDER] * 101}, 400, "validation_error"),
    "no teacher is named": ({"teacher_id": ""}, 400, "validation_error"),
    "the course does not exist": ({"course_id": UNKNOWN_COURSE}, 404, "course_not_found"),
    "the order does not exist": ({"order_ids": [UNKNOWN_ORDER]}, 404, "order_not_found"),
}


def test_a_lesson_record_with_bad_fields_is_refused(
    platform: Platform, paid: Paid, subtests: pytest.Subtests
) -> None:
    for case, (changes, status, code) in LESSON_BREAKS.items():
        with subtests.test(case):
            body = changed(paid.lesson(platform), changes)
            assert_refused(
                platform, partial(platform.post, "/v1/lessons", paid.shop.staff, body),
                status, code,
            )


def test_a_lesson_naming_the_same_order_twice_is_refused_with_invalid_order_ids(
    platform: Platform, paid: Paid
) -> None:
    body = paid.lesson(platform, [paid.order_id, paid.order_id])
    assert_refused(
        platform, lambda: platform.post("/v1/lessons", paid.shop.staff, body), 400,
        "invalid_order_ids",
    )


# confirming and disputing lessons


def test_confirming_a_lesson_that_does_not_exist_is_refused_with_consumption_not_found(
    platform: Platform, fam: flows.Family
) -> None:
    unknown = "con_" + "0" * 26
    assert_refused(
        platform, lambda: platform.post(f"/v1/consumptions/{unknown}/confirm", fam.parent),
        404, "consumption_not_found",
    )


def test_disputing_without_a_reason_or_after_confirming_is_refused(
    platform: Platform, paid: Paid, subtests: pytest.Subtests
) -> None:
    lesson = flows.record_lesson(platform, paid.shop, [paid.order_id])
    path = f"/v1/consumptions/{lesson['consumptions'][0]['consumption_id']}/dispute"
    for body in ({}, {"reason": ""}, {"reason": "   "}, {"reason": "x" * 501}):
        with subtests.test(f"the body is {body!r:.40}"):
            assert_refused(
                platform, partial(platform.post, path, paid.fam.parent, body), 400,
                "validation_error",
            )
    flows.confirm(platform, paid.fam, lesson["consumptions"][0]["consumption_id"])
    assert_refused(
        platform, lambda: platform.post(path, paid.fam.parent, {"reason": "老师没来"}), 409,
        "consumption_not_pending",
    )


# pagination


def _cursor(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


BAD_PAGES: dict[str, tuple[str, str]] = {
    "limit is zero": ("/v1/orders?limit=0", "validation_error"),
    "limit is over a hundred": ("/v1/orders?limit=101", "validation_error"),
    "limit is negative": ("/v1/orders?limit=-1", "validation_error"),
    "limit is a word": ("/v1/orders?limit=ten", "validation_error"),
    "an unknown parameter is sent": ("/v1/orders?page=2", "validation_error"),
    "the cursor is garbage": ("/v1/orders?cursor=not-a-cursor", "invalid_cursor"),
    "the cursor is a list": (f"/v1/orders?cursor={_cursor([1, 2])}", "invalid_cursor"),
    "the cursor names another partition": (
        f"/v1/orders?cursor={_cursor({'gsi1pk': {'S': 'par#someone-else'}})}", "invalid_cursor"),
    "students: limit is over a hundred": ("/v1/students?limit=101", "validation_error"),
    "students: the cursor is garbage": ("/v1/students?cursor=bm90IGpzb24", "invalid_cursor"),
    "consumptions: limit is zero": ("/v1/consumptions?limit=0", "validation_error"),
    "consumptions: the status is unknown": ("/v1/consumptions?status=paid", "validation_error"),
    "consumptions: the cursor is garbage": (
        "/v1/consumptions?cursor=bm90IGpzb24", "invalid_cursor"),
    "institutions: limit is over a hundred": ("/v1/institutions?limit=101", "validation_error"),
    "institutions: the status is unknown": (
        "/v1/institutions?status=everything", "validation_error"),
    "institutions: the cursor is garbage": (
        "/v1/institutions?cursor=bm90IGpzb24", "invalid_cursor"),
}


def test_a_listing_with_a_bad_limit_cursor_or_parameter_is_refused_with_400(
    platform: Platform, fam: flows.Family, subtests: pytest.Subtests
) -> None:
    for case, (path, code) in BAD_PAGES.items():
        with subtests.test(case):
            assert_refused(platform, partial(platform.get, path, fam.parent), 400, code)


def test_the_limits_next_to_the_refused_ones_are_accepted(
    platform: Platform, fam: flows.Family
) -> None:
    for limit in (1, 100):
        listed = platform.get(f"/v1/orders?limit={limit}", fam.parent)
        assert listed.status == 200, listed.body


def _sub_of(fam: flows.Family) -> str:
    return fam.payer_account.removeprefix("PAYER-")


def test_a_forged_cursor_naming_only_the_callers_own_partition_is_refused_with_invalid_cursor(
    platform: Platform, shop: flows.Shop, fam: flows.Family, subtests: pytest.Subtests
) -> None:
    flows.buy(platform, shop, fam, lessons=1)
    forged = {
        "orders": f"/v1/orders?cursor={_cursor({'gsi1pk': {'S': f'par#{_sub_of(fam)}'}})}",
        "students": f"/v1/students?cursor={_cursor({'pk': {'S': f'par#{_sub_of(fam)}'}})}",
    }
    for listing, path in forged.items():
        with subtests.test(listing):
            assert_refused(
                platform, partial(platform.get, path, fam.parent), 400, "invalid_cursor"
            )


def test_a_cursor_from_the_orders_listing_does_not_page_the_consumptions_listing(
    platform: Platform, shop: flows.Shop, fam: flows.Family
) -> None:
    flows.buy(platform, shop, fam, lessons=1)
    flows.buy(platform, shop, fam, lessons=2)
    first = platform.get("/v1/orders?limit=1", fam.parent)
    assert first.status == 200 and first.body["next_cursor"], first.body
    cursor = first.body["next_cursor"]
    assert_refused(
        platform, lambda: platform.get(f"/v1/consumptions?cursor={cursor}", fam.parent), 400,
        "invalid_cursor",
    )


# the custodian bank's notifications


def _payment_for(order: dict[str, Any], **overrides: Any) -> bytes:
    event = {
        "event_id": f"evt_{uuid.uuid4().hex}",
        "type": "payment_received",
        "payment_reference": order["payment"]["reference"],
        "amount_fen": order["amount_fen"],
        "bank_txn_id": f"btx_{uuid.uuid4().hex}",
        "occurred_at": "2026-03-02T09:00:00+08:00",
        "payer_account": "PAYER-outside-1",
        "payee_account": order["payment"]["account"],
    }
    return json.dumps(changed(event, overrides)).encode()


def _notify(p: Platform, body: bytes, signature: str | None) -> Reply:
    headers = {} if signature is None else {"X-Bank-Signature": signature}
    return p.request("POST", NOTIFICATIONS, raw=body, headers=headers)


def _now(p: Platform) -> int:
    return int(p.clock.now().timestamp())


def _status_of(p: Platform, fam: flows.Family, order: dict[str, Any]) -> str:
    return str(flows.order_of(p, fam.parent, order["order_id"])["status"])


@pytest.fixture
def unpaid(platform: Platform, shop: flows.Shop, fam: flows.Family) -> dict[str, Any]:
    return flows.buy(platform, shop, fam, lessons=2)


SIGNATURES: dict[str, tuple[Callable[[Platform, bytes], str | None], str]] = {
    # case: (the X-Bank-Signature header for a body, the reason given in details)
    "unsigned": (lambda p, body: None, "missing"),
    "signed with an empty header": (lambda p, body: "", "missing"),
    "signed with a garbage header": (lambda p, body: "sha256=deadbeef", "malformed"),
    "signed with the wrong digest": (lambda p, body: f"t={_now(p)},v1={'0' * 64}", "mismatch"),
    "signed with another secret": (
        lambda p, body: sign("not-the-bank-secret-0123456789", _now(p), body), "mismatch"),
    "signed 301 seconds ago": (lambda p, body: sign(BANK_SECRET, _now(p) - 301, body), "stale"),
    "signed 301 seconds in the future": (
        lambda p, body: sign(BANK_SECRET, _now(p) + 301, body), "stale"),
    "signed over another body": (
        lambda p, body: sign(BANK_SECRET, _now(p), body.replace(b'"amount_fen": ', b'"x": ')),
        "mismatch"),
}


def test_a_bank_notification_without_a_good_fresh_signature_is_refused_with_invalid_signature(
    platform: Platform, fam: flows.Family, unpaid: dict[str, Any], subtests: pytest.Subtests
) -> None:
    for case, (make, reason) in SIGNATURES.items():
        with subtests.test(case):
            body = _payment_for(unpaid)
            signature = make(platform, body)
            refused = assert_refused(
                platform, partial(_notify, platform, body, signature),
                401, "invalid_signature",
            )
            assert refused.body["error"]["details"] == {"reason": reason}
    assert _status_of(platform, fam, unpaid) == "pending_payment"


def test_a_bank_notification_whose_body_was_tampered_with_after_signing_is_refused(
    platform: Platform, fam: flows.Family, unpaid: dict[str, Any]
) -> None:
    signed_body = _payment_for(unpaid, amount_fen=1)
    signature = sign(BANK_SECRET, _now(platform), signed_body)
    full_amount = f'"amount_fen": {unpaid["amount_fen"]},'.encode()
    tampered = signed_body.replace(b'"amount_fen": 1,', full_amount)
    assert tampered != signed_body
    refused = assert_refused(
        platform, lambda: _notify(platform, tampered, signature), 401, "invalid_signature"
    )
    assert refused.body["error"]["details"] == {"reason": "mismatch"}
    assert _status_of(platform, fam, unpaid) == "pending_payment"


def test_a_bank_notification_signed_300_seconds_ago_is_still_applied(
    platform: Platform, fam: flows.Family, unpaid: dict[str, Any]
) -> None:
    """The control for the refusals above: the same body, properly signed, pays the order."""
    body = _payment_for(unpaid)
    reply = _notify(platform, body, sign(BANK_SECRET, _now(platform) - 300, body))
    assert reply.status == 200 and reply.body["result"] == "applied", reply.body
    assert _status_of(platform, fam, unpaid) == "paid"


PAYMENT_BREAKS: dict[str, tuple[dict[str, Any] | bytes, str]] = {
    # case: (changes to a good payment notification, or a whole raw body; the code)
    "the body is not json": (b'{"event_id": ', "invalid_json"),
    "the body is a list": (b"[]", "validation_error"),
    "the amount is zero": ({"amount_fen": 0}, "validation_error"),
    "the amount is a string": ({"amount_fen": "30000"}, "validation_error"),
    "the amount is a float": ({"amount_fen": 300.5}, "validation_error"),
    "the type is unknown": ({"type": "refund_received"}, "validation_error"),
    "a payment names no reference": ({"payment_reference": DELETE}, "validation_error"),
    "the time has no offset": ({"occurred_at": "2026-03-02T09:00:00"}, "validation_error"),
    "an unknown field is sent": ({"signed_by": "bank"}, "validation_error"),
}


def test_a_signed_payment_notification_with_a_bad_body_is_refused_with_400(
    platform: Platform, fam: flows.Family, unpaid: dict[str, Any], subtests: pytest.Subtests
) -> None:
    for case, (changes, code) in PAYMENT_BREAKS.items():
        with subtests.test(case):
            body = changes if isinstance(changes, bytes) else _payment_for(unpaid, **changes)
            signature = sign(BANK_SECRET, _now(platform), body)
            assert_refused(
                platform, partial(_notify, platform, body, signature),
                400, code,
            )
    assert _status_of(platform, fam, unpaid) == "pending_payment"


def _transfer(instruction_id: str, amount_fen: int, kind: str = "transfer_succeeded") -> bytes:
    return json.dumps({
        "event_id": f"evt_{uuid.uuid4().hex}", "type": kind, "instruction_id": instruction_id,
        "amount_fen": amount_fen, "occurred_at": "2026-03-02T09:00:00+08:00",
    }).encode()


def test_a_transfer_notification_for_an_unknown_instruction_is_refused_with_not_found(
    platform: Platform, unpaid: dict[str, Any]
) -> None:
    body = _transfer("bki_unknown_1", 15_000)
    signature = sign(BANK_SECRET, _now(platform), body)
    assert_refused(
        platform, lambda: _notify(platform, body, signature), 404, "instruction_not_found"
    )


def _sent_instruction(p: Platform, paid: Paid) -> dict[str, Any]:
    """Drive one lesson's money to the bank, hold the bank's answer, and return the
    instruction the platform recorded."""
    lesson = flows.record_lesson(p, paid.shop, [paid.order_id])
    flows.confirm(p, paid.fam, lesson["consumptions"][0]["consumption_id"])
    p.bank.hold_callbacks()
    p.drain_settlement()
    (instruction,) = [
        i for i in scan(p.dynamodb, p.plane.platform_table)
        if "instruction_id" in i and "from_account" in i
    ]
    return instruction


def test_a_transfer_notification_with_the_wrong_amount_is_refused_with_amount_mismatch(
    platform: Platform, paid: Paid
) -> None:
    instruction = _sent_instruction(platform, paid)
    body = _transfer(instruction["instruction_id"], instruction["amount_fen"] + 1)
    signature = sign(BANK_SECRET, _now(platform), body)
    assert_refused(platform, lambda: _notify(platform, body, signature), 422, "amount_mismatch")
    releasing = flows.order_of(platform, paid.fam.parent, paid.order_id)
    assert releasing["releasing_fen"] == instruction["amount_fen"]
    assert releasing["released_fen"] == 0


def test_a_failure_notice_for_a_transfer_already_succeeded_is_refused_as_already_resolved(
    platform: Platform, paid: Paid
) -> None:
    instruction = _sent_instruction(platform, paid)
    platform.bank.release_callbacks()
    platform.bank.deliver_pending()
    body = _transfer(instruction["instruction_id"], instruction["amount_fen"], "transfer_failed")
    signature = sign(BANK_SECRET, _now(platform), body)
    assert_refused(
        platform, lambda: _notify(platform, body, signature), 409,
        "instruction_already_resolved",
    )
    released = flows.order_of(platform, paid.fam.parent, paid.order_id)
    assert released["released_fen"] == instruction["amount_fen"]
    platform.check()


@pytest.mark.parametrize(
    ("method", "path", "code"),
    [
        ("POST", "/v1/consumptions//confirm", "consumption_not_found"),
        ("POST", "/v1/consumptions/con_lower0000000000000000000/confirm", "consumption_not_found"),
        ("GET", "/v1/orders/" + "ord_" + "A" * 3000, "order_not_found"),
        ("GET", "/v1/orders/crs_01JNZ0000000000000000000AA", "order_not_found"),
        ("GET", "/v1/institutions/ins_%00", "institution_not_found"),
    ],
)
def test_a_malformed_id_in_the_path_is_not_found_before_it_reaches_the_database(
    platform: Platform, fam: flows.Family, method: str, path: str, code: str
) -> None:
    assert_refused(platform, lambda: platform.request(method, path, fam.parent), 404, code)


def test_an_empty_idempotency_key_is_malformed_on_every_post_not_an_absent_one(
    platform: Platform, shop: flows.Shop, fam: flows.Family, subtests: pytest.Subtests
) -> None:
    order = flows.buy_and_pay(platform, shop, fam, lessons=2)
    consumption = flows.record_lesson(platform, shop, [order["order_id"]])["consumptions"][0]
    applied = platform.post("/v1/institutions", platform.token("applicant-x", "institution"),
                            flows.application())
    course = platform.post("/v1/courses", shop.staff, flows.course_body())
    assert applied.status == course.status == 201, (applied.body, course.body)
    regulator = flows.competent(platform)
    posts = {
        "confirm": (fam.parent, f"/v1/consumptions/{consumption['consumption_id']}/confirm",
                    None),
        "dispute": (fam.parent, f"/v1/consumptions/{consumption['consumption_id']}/dispute",
                    {"reason": "没上课"}),
        "approve an institution": (
            regulator, f"/v1/regulator/institutions/{applied.body['institution_id']}/approve", {}),
        "reject an institution": (
            regulator, f"/v1/regulator/institutions/{applied.body['institution_id']}/reject", {}),
        "approve a course": (
            regulator, f"/v1/regulator/courses/{course.body['course_id']}/approve", {}),
        "reject a course": (
            regulator, f"/v1/regulator/courses/{course.body['course_id']}/reject", {}),
        "create an order": (fam.parent, "/v1/orders", order_body(shop, fam)),
    }
    for what, (who, path, body) in posts.items():
        with subtests.test(what):
            assert_refused(
                platform, partial(platform.request, "POST", path, who, body, key=""),
                400, "idempotency_key_invalid",
            )
