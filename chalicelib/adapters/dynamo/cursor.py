"""Opaque pagination cursors: DynamoDB's LastEvaluatedKey, bound to the listing it came from.

A cursor from one listing cannot be replayed against another (another parent's orders, or
the same parent's consumptions): decoding checks it has exactly the key attributes of the
index being queried, names the partition being queried, and sorts under the listing's prefix.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from chalicelib.service.ports import InvalidCursor


def encode_cursor(last_key: dict[str, Any] | None) -> str | None:
    if not last_key:
        return None
    raw = json.dumps(last_key, sort_keys=True, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(
    cursor: str | None,
    key_attributes: frozenset[str],
    partition: tuple[str, str],
    sort: tuple[str, str],
) -> dict[str, Any] | None:
    """The ExclusiveStartKey a cursor stands for. `partition` and `sort` are (attribute,
    value or prefix) of the listing's key condition."""
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        last_key = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError) as error:
        raise InvalidCursor(cursor) from error
    if not isinstance(last_key, dict) or set(last_key) != key_attributes:
        raise InvalidCursor(cursor)
    values = {name: value.get("S") if isinstance(value, dict) else None
              for name, value in last_key.items()}
    if not all(isinstance(v, str) and len(last_key[k]) == 1 for k, v in values.items()):
        raise InvalidCursor(cursor)
    if values[partition[0]] != partition[1] or not str(values[sort[0]]).startswith(sort[1]):
        raise InvalidCursor(cursor)
    return last_key
