"""Prefixed, time-sortable ids (`ord_01J…`): a ULID behind a short type prefix."""

from __future__ import annotations

import hashlib
from datetime import datetime

from ulid import ULID


def new_id(prefix: str, at: datetime | None = None) -> str:
    ulid = ULID.from_datetime(at) if at is not None else ULID()
    return f"{prefix}_{ulid}"


def derived_id(prefix: str, at: datetime, *parts: str) -> str:
    """A deterministic id: the same parts give the same id, still sortable by `at`."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).digest()
    timestamp = ULID.from_datetime(at).bytes[:6]
    return f"{prefix}_{ULID.from_bytes(timestamp + digest[:10])}"
