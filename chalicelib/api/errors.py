"""The one place where errors become HTTP responses.

Body: {"error": {"code", "message", "details"}}. Bad input is always a 4xx; anything
unexpected is logged with its traceback and answered 500 `internal_error` without details.

Two kinds of answer never come from a view, and are put in the same envelope here:

- Chalice's own (405 for a method the path does not serve, 415 for a body that is not
  declared JSON, its 500s): body {"Code", "Message"}. `framework_answers` is Chalice
  middleware (registered in app.py) that rewrites them; it sees every REST response.
- The gateway's (unknown routes, throttling, oversized bodies): they never reach the app.
  The refusals below are what API Gateway answers instead (infra/package/gateway.py)
  and what the local gateways answer (infra/local/gateway.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalice.app import Request, Response
from pydantic import ValidationError

from chalicelib.domain import errors, text
from chalicelib.service.ports import InvalidCursor

log = logging.getLogger(__name__)

STATUS = {
    errors.InvalidRequest: 400,
    errors.Unauthenticated: 401,
    errors.Forbidden: 403,
    errors.NotFound: 404,
    errors.StateConflict: 409,
    errors.ConcurrentUpdate: 409,
    errors.RuleViolation: 422,
}


@dataclass(frozen=True)
class Refusal:
    """An answer no view gives. `status` None: the status of the answer it replaces (the
    gateway's, Chalice's) is kept."""

    status: int | None
    code: str
    message: str

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": {}}}


ROUTE_NOT_FOUND = Refusal(404, "route_not_found", "请求的接口不存在")
METHOD_NOT_ALLOWED = Refusal(405, "method_not_allowed", "该接口不支持此请求方法")
UNSUPPORTED_MEDIA_TYPE = Refusal(
    415, "unsupported_media_type", "请求体必须是 JSON（Content-Type: application/json）"
)
REQUEST_TOO_LARGE = Refusal(413, "request_too_large", "请求体过大")
RATE_LIMITED = Refusal(429, "rate_limited", "请求过于频繁，请稍后重试")
REQUEST_REFUSED = Refusal(None, "request_refused", "请求被拒绝")
INTERNAL_ERROR = Refusal(None, "internal_error", "服务暂时不可用，请稍后重试")
SERVICE_UNAVAILABLE = Refusal(None, "service_unavailable", "服务暂时不可用，请稍后重试")

CHALICE_CODES = {  # chalice's error_response(error_code=...) -> ours
    "MethodNotAllowedError": METHOD_NOT_ALLOWED,
    "UnsupportedMediaType": UNSUPPORTED_MEDIA_TYPE,
    "InternalServerError": INTERNAL_ERROR,
}


def error_response(status: int, code: str, message: str, details: Any = None) -> Response:
    return Response(
        body={"error": {"code": code, "message": message, "details": details or {}}},
        status_code=status,
        headers={"Content-Type": "application/json"},
    )


def from_exception(error: Exception) -> Response:
    if isinstance(error, errors.PlatformError):
        status = next(s for cls, s in STATUS.items() if isinstance(error, cls))
        return error_response(status, error.code, error.message, error.details)
    if isinstance(error, ValidationError):
        fields = _fields(error)
        if {f["problem"] for f in fields} <= TEXT_PROBLEMS:
            return error_response(400, INVALID_TEXT, "文本含有控制、双向或零宽字符，或没有可见内容",
                                  {"fields": fields})
        return error_response(400, "validation_error", "请求参数不合法", {"fields": fields})
    if isinstance(error, InvalidCursor):
        return error_response(400, "invalid_cursor", "分页游标无效")
    log.exception("unhandled error", exc_info=error)
    return _refused(INTERNAL_ERROR, 500)


def framework_answers(
    request: Request | None, get_response: Callable[[Request | None], Response]
) -> Response:
    """Chalice middleware: what Chalice answers by itself, in the platform's envelope."""
    try:
        response = get_response(request)
    except Exception as error:  # noqa: BLE001 - chalice's own dispatch failed, not a view
        return from_exception(error)
    body = response.body
    if not (isinstance(body, dict) and set(body) == {"Code", "Message"}):
        return response
    status = response.status_code
    fallback = REQUEST_REFUSED if status < 500 else INTERNAL_ERROR
    refused = _refused(CHALICE_CODES.get(str(body["Code"]), fallback), status)
    refused.headers = {**response.headers, **refused.headers}  # e.g. a 405's Allow
    return refused


def _refused(refusal: Refusal, status: int) -> Response:
    return Response(
        body=refusal.body(),
        status_code=refusal.status or status,
        headers={"Content-Type": "application/json"},
    )


INVALID_TEXT = "invalid_text"
TEXT_PROBLEMS = frozenset({text.FORBIDDEN, text.BLANK})
"""A request refused only for what its texts hold (chalicelib/domain/text.py) answers
`invalid_text`; each field names its problem."""


def _fields(error: ValidationError) -> list[dict[str, str]]:
    return [
        {"field": ".".join(str(p) for p in item["loc"]) or "body", "problem": item["type"]}
        for item in error.errors(include_url=False, include_input=False)
    ]
