"""HTTP Idempotency-Key records: the storage hooks of the workflow in
chalicelib/api/idempotency.py (the Powertools shape: the workflow owns the steps; each hook
here is one read or one conditional write, and a failed condition is a named error).

Invariant: a record is changed only by the request holding its `token`. `reserve` and
`take_over` write a fresh token; `complete`, `release` and `abandon` are conditioned on that
token and on the record not being completed. A request whose record was taken over,
released, or expired and reused gets `RecordChanged` and writes nothing, so no interleaving
of twins leaves a record without its request fields.

The record reserves the id of what the request creates, so a retry after a crash re-runs the
(idempotent) command under the same id. Money never relies on this record: its idempotency
is inside the money transaction.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.adapters.dynamo import keys
from chalicelib.adapters.dynamo.codec import from_attribute_values, to_attribute_values
from chalicelib.adapters.dynamo.tables import Tables
from chalicelib.service.request_keys import (
    IdempotencyRecord,
    IdempotencyStoreError,
    KeyAlreadyReserved,
    RecordChanged,
    Reservation,
)

RETENTION = timedelta(hours=48)  # the TTL (`expires_at_epoch`) after a record's last write

# The key is free: no record, an expired one, or one without its request fields (which no
# request can own; only the unconditional writes of earlier versions left such items).
FREE = (
    "attribute_not_exists(pk) OR expires_at_epoch < :now OR attribute_not_exists(request_hash)"
    " OR attribute_not_exists(resource_id) OR attribute_not_exists(expires_at_epoch)"
)
OWNED = "#token = :token AND attribute_not_exists(response_status)"


class DynamoIdempotencyStore:
    def __init__(self, tables: Tables) -> None:
        self.tables = tables

    def reserve(
        self, held: Reservation, request_hash: str, now: datetime, lease_until: datetime
    ) -> None:
        item = {
            **keys.idempotency_key(held.caller_sub, held.key),
            "request_hash": request_hash,
            "resource_id": held.resource_id,
            "token": held.token,
            "in_progress_until_epoch": _epoch(lease_until),
            "expires_at_epoch": _epoch(now + RETENTION),
        }
        self._write(
            "put_item", KeyAlreadyReserved, Item=to_attribute_values(item),
            ConditionExpression=FREE, ExpressionAttributeValues={":now": _n(_epoch(now))},
        )

    def take_over(
        self, found: IdempotencyRecord, held: Reservation, now: datetime, lease_until: datetime
    ) -> None:
        """Hand an abandoned record (its lease over) to `held`, if it is still as found."""
        was_held = "#token = :found" if found.token else "attribute_not_exists(#token)"
        values = {":token": _s(held.token), ":until": _n(_epoch(lease_until)),
                  ":expires": _n(_epoch(now + RETENTION))}
        if found.token:
            values[":found"] = _s(found.token)
        self._update(
            held, "SET #token = :token, in_progress_until_epoch = :until,"
            " expires_at_epoch = :expires",
            f"attribute_exists(pk) AND attribute_not_exists(response_status) AND {was_held}",
            values,
        )

    def complete(self, held: Reservation, status: int, body: Any, now: datetime) -> None:
        self._update(
            held, "SET response_status = :status, response_body = :body,"
            " expires_at_epoch = :expires", OWNED,
            {":token": _s(held.token), ":status": _n(status),
             ":body": _s(json.dumps(body, ensure_ascii=False)),
             ":expires": _n(_epoch(now + RETENTION))},
        )

    def release(self, held: Reservation) -> None:
        """Forget a key whose request was refused, so it changed nothing at all."""
        self._write(
            "delete_item", RecordChanged, Key=self._key(held), ConditionExpression=OWNED,
            ExpressionAttributeNames={"#token": "token"},
            ExpressionAttributeValues={":token": _s(held.token)},
        )

    def abandon(self, held: Reservation, now: datetime) -> None:
        """End the lease of a request that failed unexpectedly: a retry takes over at once."""
        self._update(held, "SET in_progress_until_epoch = :now", OWNED,
                     {":token": _s(held.token), ":now": _n(_epoch(now))})

    def read(self, caller_sub: str, key: str, now: datetime) -> IdempotencyRecord | None:
        """The live record under the key; None when there is none, it has expired, or the
        item is not a whole record (one without its request fields is free to `reserve`)."""
        response = self.tables.client.get_item(
            TableName=self.tables.platform,
            Key=to_attribute_values(keys.idempotency_key(caller_sub, key)),
            ConsistentRead=True,
        )
        item = _whole(response.get("Item", {}))
        if item is None or item["expires_at_epoch"] < _epoch(now):
            return None
        return IdempotencyRecord(
            item["request_hash"], item["resource_id"], item.get("token", ""),
            datetime.fromtimestamp(item.get("in_progress_until_epoch", 0), UTC),
            item.get("response_status", 0), item.get("response_body"),
        )

    def _update(
        self, held: Reservation, expression: str, condition: str, values: dict[str, Any]
    ) -> None:
        self._write(
            "update_item", RecordChanged, Key=self._key(held), UpdateExpression=expression,
            ConditionExpression=condition, ExpressionAttributeNames={"#token": "token"},
            ExpressionAttributeValues=values,
        )

    def _write(self, operation: str, failure: type[IdempotencyStoreError], **request: Any) -> None:
        try:
            getattr(self.tables.client, operation)(TableName=self.tables.platform, **request)
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            raise failure(operation) from error

    def _key(self, held: Reservation) -> dict[str, Any]:
        return to_attribute_values(keys.idempotency_key(held.caller_sub, held.key))


FIELDS = {"request_hash": str, "resource_id": str, "expires_at_epoch": int,  # always there
          "token": str, "in_progress_until_epoch": int, "response_status": int,
          "response_body": str}
REQUIRED = ("request_hash", "resource_id", "expires_at_epoch")


def _whole(raw: dict[str, Any]) -> dict[str, Any] | None:
    """The item's fields with the body decoded, or None unless every required field is there
    and every field has its type."""
    try:
        item = from_attribute_values(raw)
        typed = all(isinstance(item[name], FIELDS[name]) for name in FIELDS if name in item)
        if not typed or any(name not in item for name in REQUIRED):
            return None
        if "response_body" in item:
            item["response_body"] = json.loads(item["response_body"])
    except ValueError:
        return None
    return item


def _epoch(instant: datetime) -> int:
    return int(instant.timestamp())


def _n(number: int) -> dict[str, str]:
    return {"N": str(number)}


def _s(text: str) -> dict[str, str]:
    return {"S": text}
