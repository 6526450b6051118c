"""Answers no view gives, in the error envelope: an unknown route (404 `route_not_found`, which
API Gateway would answer 403), a method the path does not serve (405 `method_not_allowed`, with
`Allow`; OPTIONS and HEAD too, never a 500) and a body not declared JSON (415
`unsupported_media_type`). Each refusal changes nothing (`assert_refused`) and leaves its
Idempotency-Key free: the same key, sent correctly, then succeeds.

The requests go through chalice.test.Client in front of PlatformGateway (tests/support/harness.py):
API Gateway as the province template configures it (infra/local/gateway.py).
"""

from __future__ import annotations

import json
import uuid
from functools import partial
from typing import Any

import pytest

import app as chalice_app
from tests.support import flows
from tests.support.harness import Platform, Reply
from tests.support.snapshot import assert_refused


def send(p: Platform, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> Reply:
    """Exactly these headers: no Content-Type unless given."""
    response = p.client.http.request(method, path, headers=headers, body=body)
    parsed = json.loads(response.body) if response.body else None
    return Reply(response.status_code, parsed, dict(response.headers))


def refused(p: Platform, request: Any, status: int, code: str) -> Reply:
    reply = assert_refused(p, request, status, code)
    assert reply.body["error"]["details"] == {}, reply.body
    assert reply.body["error"]["message"], reply.body
    return reply


def new_key() -> str:
    return f"key-{uuid.uuid4().hex}"


def order_json(shop: flows.Shop, fam: flows.Family) -> bytes:
    return json.dumps({"course_id": shop.course_id, "student_id": fam.student_id,
                       "lessons": 1}).encode()


@pytest.fixture
def shop(platform: Platform) -> flows.Shop:
    return flows.open_shop(platform)


@pytest.fixture
def fam(platform: Platform) -> flows.Family:
    return flows.family(platform)


# 415: the body is not declared JSON


NOT_JSON_TYPES = [
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/octet-stream",
    "application/jsonx",
    "",
]


def test_an_order_whose_content_type_is_not_json_is_415_and_its_key_stays_free(
    platform: Platform, shop: flows.Shop, fam: flows.Family, subtests: pytest.Subtests
) -> None:
    key, body = new_key(), order_json(shop, fam)
    for content_type in NOT_JSON_TYPES:
        with subtests.test(f"Content-Type: {content_type!r}"):
            headers = {**fam.parent, "Idempotency-Key": key, "Content-Type": content_type}
            refused(platform, partial(send, platform, "POST", "/v1/orders", headers, body),
                    415, "unsupported_media_type")
    accepted = send(platform, "POST", "/v1/orders",
                    {**fam.parent, "Idempotency-Key": key, "Content-Type": "application/json"},
                    body)
    assert accepted.status == 201, accepted.body


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", None])
def test_json_with_parameters_or_no_content_type_at_all_is_read_as_json(
    platform: Platform, shop: flows.Shop, fam: flows.Family, content_type: str | None
) -> None:
    headers = {**fam.parent, "Idempotency-Key": new_key()}
    if content_type is not None:
        headers["Content-Type"] = content_type
    created = send(platform, "POST", "/v1/orders", headers, order_json(shop, fam))
    assert created.status == 201, created.body


# 405: a method the path does not serve


UNSERVED = [
    ("DELETE", "/v1/orders"),
    ("PUT", "/v1/orders"),
    ("PATCH", "/v1/students"),
    ("GET", "/v1/lessons"),
    ("POST", "/v1/health"),
    ("DELETE", "/v1/orders/{order_id}"),
    ("OPTIONS", "/v1/orders"),
    ("OPTIONS", "/v1/health"),
    ("HEAD", "/v1/health"),
    ("HEAD", "/v1/institutions"),
]


def test_a_method_the_path_does_not_serve_is_405_with_the_methods_it_does(
    platform: Platform, shop: flows.Shop, fam: flows.Family, subtests: pytest.Subtests
) -> None:
    order = flows.buy(platform, shop, fam, lessons=1)
    for method, route in UNSERVED:
        path = route.format(order_id=order["order_id"])
        with subtests.test(f"{method} {route}"):
            headers = {**fam.parent, "Content-Type": "application/json",
                       "Idempotency-Key": new_key()}
            reply = refused(
                platform, partial(send, platform, method, path, headers, order_json(shop, fam)),
                405, "method_not_allowed")
            served = {m.strip() for m in reply.headers["Allow"].split(",")}
            assert served == set(chalice_app.app.routes[route]), reply.headers


def test_a_key_sent_with_the_wrong_method_is_still_free_for_the_right_one(
    platform: Platform, shop: flows.Shop, fam: flows.Family
) -> None:
    headers = {**fam.parent, "Content-Type": "application/json", "Idempotency-Key": new_key()}
    body = order_json(shop, fam)
    refused(platform, partial(send, platform, "PUT", "/v1/orders", headers, body), 405,
            "method_not_allowed")
    assert send(platform, "POST", "/v1/orders", headers, body).status == 201


# 404: no such route


UNKNOWN = ["/v1/nope", "/", "/v1", "/v2/health", "/v1/orders/ord_x/extra", "/v1/regulator"]


def test_an_unknown_route_is_404_route_not_found_with_or_without_a_token(
    platform: Platform, fam: flows.Family, subtests: pytest.Subtests
) -> None:
    for path in UNKNOWN:
        for method in ("GET", "POST", "DELETE"):
            for who, headers in (("anonymous", {}), ("a parent", fam.parent)):
                with subtests.test(f"{method} {path} as {who}"):
                    refused(platform, partial(send, platform, method, path, headers), 404,
                            "route_not_found")
