"""The one place where errors become HTTP responses.

Body: {"error": {"code", "message", "details"}}. Bad input is always a 4xx; anything
unexpected is logged with its traceback and answered 500 `internal_error` without details.
"""

from __future__ import annotations

import logging
from typing import Any

from chalice.app import Response
from pydantic import ValidationError

from chalicelib.domain import errors
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
        return error_response(
            400, "validation_error", "请求参数不合法", {"fields": _fields(error)}
        )
    if isinstance(error, InvalidCursor):
        return error_response(400, "invalid_cursor", "分页游标无效")
    log.exception("unhandled error", exc_info=error)
    return error_response(500, "internal_error", "服务暂时不可用，请稍后重试")


def _fields(error: ValidationError) -> list[dict[str, str]]:
    return [
        {"field": ".".join(str(p) for p in item["loc"]) or "body", "problem": item["type"]}
        for item in error.errors(include_url=False, include_input=False)
    ]
