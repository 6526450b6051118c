"""Signing and verification of custodian-bank notifications.

The bank signs every call to POST /v1/bank/notifications with HMAC-SHA256 over
``"{timestamp}.{raw body}"`` and sends ``X-Bank-Signature: t=<unix seconds>,v1=<hex>``.
Pure functions: the caller supplies the current time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Literal

Reason = Literal["missing", "malformed", "stale", "mismatch"]

DEFAULT_TOLERANCE_SECONDS = 300
_MAX_HEADER_LENGTH = 1024
_HEX_DIGEST = re.compile(r"[0-9a-f]{64}")
_TIMESTAMP = re.compile(r"[0-9]{1,12}")


class InvalidSignature(Exception):
    """The notification must be rejected; `reason` says why (safe to log, not to echo)."""

    def __init__(self, reason: Reason) -> None:
        super().__init__(reason)
        self.reason: Reason = reason


def _digest(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """Return the full X-Bank-Signature header value for `body` sent at `timestamp`."""
    if not secret:
        raise ValueError("signing secret must not be empty")
    if timestamp < 0:
        raise ValueError("timestamp must not be negative")
    return f"t={timestamp},v1={_digest(secret, timestamp, body)}"


def _parse(header: str) -> tuple[int, list[str]]:
    """Split ``t=..,v1=..[,v1=..]`` into the timestamp and candidate signatures."""
    if len(header) > _MAX_HEADER_LENGTH:
        raise InvalidSignature("malformed")
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            raise InvalidSignature("malformed")
        if key == "t":
            if timestamp is not None or not _TIMESTAMP.fullmatch(value):
                raise InvalidSignature("malformed")
            timestamp = int(value)
        elif key == "v1":
            if not _HEX_DIGEST.fullmatch(value):
                raise InvalidSignature("malformed")
            signatures.append(value)
        # Unknown schemes (v0, v2, ...) are ignored, as with other webhook signers.
    if timestamp is None or not signatures:
        raise InvalidSignature("malformed")
    return timestamp, signatures


def verify(
    secret: str,
    header: str | None,
    body: bytes,
    now: int,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
) -> None:
    """Return if `header` is a valid signature of `body` within `tolerance_seconds` of `now`.

    Raises InvalidSignature with reason "missing" (no header), "malformed" (unparseable),
    "stale" (timestamp more than the tolerance in the past or in the future) or "mismatch".
    Several v1 entries are accepted (secret rotation); any one matching is enough.
    """
    if not secret:
        raise ValueError("verification secret must not be empty")
    if header is None or not header.strip():
        raise InvalidSignature("missing")
    timestamp, signatures = _parse(header)
    if abs(now - timestamp) > tolerance_seconds:
        raise InvalidSignature("stale")
    expected = _digest(secret, timestamp, body)
    matched = False
    for candidate in signatures:
        # Compare every candidate so timing does not reveal which one matched.
        matched |= hmac.compare_digest(expected, candidate)
    if not matched:
        raise InvalidSignature("mismatch")
