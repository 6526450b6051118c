"""The middleware that puts Chalice's own answers in the error envelope (chalicelib/api/errors.py),
called as Chalice calls it: with the request and the rest of the chain."""

from __future__ import annotations

from typing import Any

import pytest
from chalice.app import Response

from chalicelib.api.errors import framework_answers


def answer(response: Response | Exception) -> Response:
    def get_response(request: Any) -> Response:
        if isinstance(response, Exception):
            raise response
        return response

    return framework_answers(None, get_response)


def error_of(response: Response) -> dict[str, Any]:
    assert isinstance(response.body, dict)
    assert set(response.body) == {"error"}
    error: dict[str, Any] = response.body["error"]
    assert set(error) == {"code", "message", "details"} and error["details"] == {}
    return error


def test_chalice_s_405_becomes_method_not_allowed_and_keeps_its_allow_header() -> None:
    chalice_405 = Response({"Code": "MethodNotAllowedError", "Message": "Unsupported method: X"},
                           status_code=405, headers={"Allow": "GET, POST"})
    rewritten = answer(chalice_405)
    assert error_of(rewritten)["code"] == "method_not_allowed"
    assert (rewritten.status_code, rewritten.headers["Allow"]) == (405, "GET, POST")
    assert rewritten.headers["Content-Type"] == "application/json"


@pytest.mark.parametrize(("code", "status", "expected"), [
    ("UnsupportedMediaType", 415, "unsupported_media_type"),
    ("InternalServerError", 500, "internal_error"),
    ("BadRequest", 400, "request_refused"),  # any other chalice refusal keeps its status
    ("SomethingNew", 502, "internal_error"),
])
def test_every_chalice_error_body_is_rewritten_with_a_stable_code(
    code: str, status: int, expected: str
) -> None:
    rewritten = answer(Response({"Code": code, "Message": "..."}, status_code=status))
    assert (rewritten.status_code, error_of(rewritten)["code"]) == (status, expected)


def test_a_failure_of_chalice_s_own_dispatch_is_a_500_internal_error() -> None:
    rewritten = answer(KeyError("/v1/unknown-resource"))
    assert (rewritten.status_code, error_of(rewritten)["code"]) == (500, "internal_error")


@pytest.mark.parametrize("body", [
    '{"status": "ok"}',
    {"error": {"code": "order_not_found", "message": "订单不存在", "details": {}}},
    {"Code": "x", "Message": "y", "extra": 1},  # not chalice's shape: a view's own
])
def test_a_view_s_answer_passes_unchanged(body: Any) -> None:
    view_answer = Response(body, status_code=404)
    assert answer(view_answer) is view_answer
