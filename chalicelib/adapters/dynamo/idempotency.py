"""HTTP Idempotency-Key records (a template method in the Powertools shape: the workflow
lives in chalicelib/api/idempotency.py, these hooks touch storage).

The record reserves the id of what the request creates, so a retry after a crash re-runs the
(idempotent) command under the same id and converges. Money never relies on this record: its
idempotency is inside the money transaction.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.adapters.dynamo import keys
from chalicelib.adapters.dynamo.codec import from_attribute_values, to_attribute_values
from chalicelib.adapters.dynamo.tables import Tables

RETENTION = timedelta(hours=48)


@dataclass(frozen=True)
class IdempotencyRecord:
    request_hash: str
    resource_id: str
    response_status: int = 0
    response_body: Any = None

    @property
    def completed(self) -> bool:
        return self.response_status > 0


class DynamoIdempotencyStore:
    def __init__(self, tables: Tables) -> None:
        self.tables = tables

    def begin(
        self, caller_sub: str, key: str, request_hash: str, resource_id: str, now: datetime
    ) -> IdempotencyRecord:
        """Reserve the key, or return the record an earlier request left under it."""
        item = {
            **keys.idempotency_key(caller_sub, key),
            "request_hash": request_hash,
            "resource_id": resource_id,
            "expires_at_epoch": int((now + RETENTION).timestamp()),
        }
        try:
            self.tables.client.put_item(
                TableName=self.tables.platform,
                Item=to_attribute_values(item),
                ConditionExpression="attribute_not_exists(pk) OR expires_at_epoch < :now",
                ExpressionAttributeValues={":now": {"N": str(int(now.timestamp()))}},
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            existing = self._get(caller_sub, key)
            if existing is not None:
                return existing
            return self.begin(caller_sub, key, request_hash, resource_id, now)
        return IdempotencyRecord(request_hash, resource_id)

    def complete(
        self, caller_sub: str, key: str, status: int, body: Any
    ) -> None:
        self.tables.client.update_item(
            TableName=self.tables.platform,
            Key=to_attribute_values(keys.idempotency_key(caller_sub, key)),
            UpdateExpression="SET response_status = :s, response_body = :b",
            ExpressionAttributeValues={
                ":s": {"N": str(status)},
                ":b": {"S": json.dumps(body, ensure_ascii=False)},
            },
        )

    def release(self, caller_sub: str, key: str) -> None:
        """Forget a key whose request was refused, so it changed nothing at all."""
        self.tables.client.delete_item(
            TableName=self.tables.platform,
            Key=to_attribute_values(keys.idempotency_key(caller_sub, key)),
            ConditionExpression="attribute_not_exists(response_status)",
        )

    def _get(self, caller_sub: str, key: str) -> IdempotencyRecord | None:
        response = self.tables.client.get_item(
            TableName=self.tables.platform,
            Key=to_attribute_values(keys.idempotency_key(caller_sub, key)),
            ConsistentRead=True,
        )
        if "Item" not in response:
            return None
        item = from_attribute_values(response["Item"])
        body = item.get("response_body")
        return IdempotencyRecord(
            item["request_hash"],
            item["resource_id"],
            item.get("response_status", 0),
            json.loads(body) if body else None,
        )
