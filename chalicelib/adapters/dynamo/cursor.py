"""Opaque pagination cursors: DynamoDB's LastEvaluatedKey, bound to the partition it came from.

A cursor from one listing cannot be replayed against another partition (say, another
parent's orders): decoding checks it names the partition being queried.
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
    cursor: str | None, partition_attribute: str, partition_value: str
) -> dict[str, Any] | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        last_key = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as error:
        raise InvalidCursor(cursor) from error
    if not isinstance(last_key, dict) or last_key.get(partition_attribute) != {
        "S": partition_value
    }:
        raise InvalidCursor(cursor)
    if not all(isinstance(v, dict) and set(v) == {"S"} for v in last_key.values()):
        raise InvalidCursor(cursor)
    return last_key
