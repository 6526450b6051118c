"""The one error tree. Each class is one kind of failure; the API maps classes to HTTP statuses
in one place (chalicelib/api/errors.py). Clients switch on `code`, never on the message."""

from __future__ import annotations

from typing import Any


class PlatformError(Exception):
    """Base class: a stable snake_case `code`, a zh-CN `message` for people, and `details`."""

    default_code = "error"

    def __init__(self, message: str, *, code: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.code = code or self.default_code
        self.message = message
        self.details = details


class InvalidRequest(PlatformError):
    """The request itself is malformed (400)."""

    default_code = "validation_error"


class Unauthenticated(PlatformError):
    """No valid credentials (401)."""

    default_code = "unauthenticated"


class Forbidden(PlatformError):
    """Valid credentials, but not allowed to do this (403)."""

    default_code = "forbidden"


class NotFound(PlatformError):
    """The thing does not exist, or is not visible to the caller (404)."""

    default_code = "not_found"


class StateConflict(PlatformError):
    """The thing exists but its state does not allow this now (409)."""

    default_code = "state_conflict"


class RuleViolation(PlatformError):
    """A business rule forbids this request (422)."""

    default_code = "rule_violation"


class ConcurrentUpdate(PlatformError):
    """Another writer changed the same item first; safe to retry (409 once retries run out)."""

    default_code = "concurrent_update"
