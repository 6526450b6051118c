"""The schedule: the sparse, sharded `due` index (docs/data-model.md), read page by page and
moved forward item by item. Nothing here scans."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.adapters.dynamo import keys
from chalicelib.adapters.dynamo.cursor import decode_cursor, encode_cursor
from chalicelib.adapters.dynamo.expressions import UpdateExpression
from chalicelib.adapters.dynamo.tables import Tables
from chalicelib.service.ports import Page

_DUE_KEYS = frozenset({"pk", "sk", "due_pk", "due_sk"})


class DynamoSchedule:
    shards = keys.DUE_SHARDS

    def __init__(self, tables: Tables) -> None:
        self.tables = tables

    def due_page(
        self, job: str, shard: int, until: datetime, limit: int, cursor: str | None
    ) -> Page[str]:
        """Ids of the items of one shard whose `job` is due at or before `until`, oldest
        first."""
        partition = keys.due_partition(job, shard)
        request: dict[str, Any] = {
            "TableName": self.tables.platform,
            "IndexName": "due",
            "KeyConditionExpression": "due_pk = :pk AND due_sk <= :upper",
            "ExpressionAttributeValues": {
                ":pk": {"S": partition}, ":upper": {"S": f"{keys.due_instant(until)}#~"},
            },
            "Limit": limit,
        }
        start = decode_cursor(cursor, _DUE_KEYS, ("due_pk", partition), ("due_sk", ""))
        if start:
            request["ExclusiveStartKey"] = start
        response = self.tables.client.query(**request)
        ids = [item["pk"]["S"] for item in response["Items"]]
        return Page(ids, encode_cursor(response.get("LastEvaluatedKey")))

    def due(self, job: str, now: datetime, limit: int) -> list[str]:
        """Up to `limit` ids per shard of the items whose `job` is due at or before `now`."""
        ids: list[str] = []
        for shard in range(self.shards):
            ids += self.due_page(job, shard, now, limit, None).items
        return ids

    def reschedule(
        self, kind: str, entity_id: str, job: str, at: datetime, *, deferrals: int | None
    ) -> bool:
        """Move an item's `job` to `at`, if it is still scheduled for that job. With
        `deferrals` (the count the caller read), also count one more deferral, on condition
        nobody changed the count meanwhile. False if the condition failed (the item made
        progress, or left the schedule)."""
        expression = UpdateExpression()
        partition = keys.due_partition(job, keys.shard(entity_id))
        expression.require(f"{expression.name('due_pk')} = {expression.value(partition)}")
        for name, value in keys.due_attributes(job, entity_id, at).items():
            expression.set(name, value)
        if deferrals is not None:
            counted = expression.name("deferrals")
            seen = expression.value(deferrals)
            expression.require(
                f"attribute_not_exists({counted}) OR {counted} = {seen}"
                if deferrals == 0 else f"{counted} = {seen}"
            )
            expression.set("deferrals", deferrals + 1)
        return self.tables.update_if(
            expression.as_update(self.tables.platform, keys.key(kind, entity_id)))
