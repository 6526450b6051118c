"""How the store reads: one item, a page of one partition (of the table or an index), and
many items by key. Every listing is a Query on a key or index; nothing here scans."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from chalicelib.adapters.dynamo.codec import decode, from_attribute_values, to_attribute_values
from chalicelib.adapters.dynamo.cursor import decode_cursor, encode_cursor
from chalicelib.adapters.dynamo.tables import Tables
from chalicelib.domain.errors import ConcurrentUpdate
from chalicelib.service.ports import Page

T = TypeVar("T")

INDEX_KEYS = {"gsi1": "gsi1pk", "gsi2": "gsi2pk", "gsi3": "gsi3pk", "due": "due_pk"}
BATCH_GET = 100
"""The most keys one BatchGetItem takes."""
BATCH_ATTEMPTS = 4
BATCH_BACKOFF_SECONDS = 0.05
"""What DynamoDB leaves unprocessed (throttled) is asked for again after 0.1, 0.2, 0.4 s;
still unprocessed, the request is answered 409 `concurrent_update` (try again later)."""


class ItemReads:
    def __init__(self, tables: Tables) -> None:
        self.tables = tables

    def _get(self, cls: Callable[..., T], key: dict[str, str]) -> T | None:
        item = self._raw(self.tables.platform, key)
        return None if item is None else decode(cls, item)  # type: ignore[arg-type]

    def _raw(self, table: str, key: dict[str, str]) -> dict[str, Any] | None:
        response = self.tables.client.get_item(
            TableName=table, Key=to_attribute_values(key), ConsistentRead=True
        )
        item = response.get("Item")
        return None if item is None else from_attribute_values(item)

    def _owned(
        self, cls: Callable[..., T], index: str, partition: str, kind: str, status: str,
        limit: int, cursor: str | None,
    ) -> Page[T]:
        """A parent's or an institution's items of one kind (`<kind>#<status>#<id>` sort
        keys), all or of one status."""
        prefix = f"{kind}#{status}#" if status else f"{kind}#"
        return self._page(cls, index, partition, prefix, limit, cursor)

    def _page(
        self,
        cls: Callable[..., T],
        index: str | None,
        partition: str,
        prefix: str,
        limit: int,
        cursor: str | None,
        *,
        newest_first: bool = False,
        where: dict[str, Any] | None = None,
    ) -> Page[T]:
        pk_name = INDEX_KEYS[index] if index else "pk"
        sk_name = pk_name[:-2] + "sk" if index and index != "due" else "sk"
        request: dict[str, Any] = {
            "TableName": self.tables.platform,
            "KeyConditionExpression": "#pk = :pk",
            "ExpressionAttributeNames": {"#pk": pk_name},
            "ExpressionAttributeValues": {":pk": {"S": partition}},
            "Limit": limit,
            "ScanIndexForward": not newest_first,
        }
        if prefix:  # DynamoDB refuses an empty key value, even as a prefix
            request["KeyConditionExpression"] += " AND begins_with(#sk, :prefix)"
            request["ExpressionAttributeNames"]["#sk"] = sk_name
            request["ExpressionAttributeValues"][":prefix"] = {"S": prefix}
        if index:
            request["IndexName"] = index
        if where:
            request["FilterExpression"] = where["expression"]
            request["ExpressionAttributeNames"].update(where["names"])
            request["ExpressionAttributeValues"].update(to_attribute_values(where["values"]))
        key_attributes = frozenset({"pk", "sk", pk_name, sk_name})
        start = decode_cursor(cursor, key_attributes, (pk_name, partition), (sk_name, prefix))
        if start:
            request["ExclusiveStartKey"] = start
        response = self.tables.client.query(**request)
        items = [decode(cls, from_attribute_values(i)) for i in response["Items"]]  # type: ignore[arg-type]
        return Page(items, encode_cursor(response.get("LastEvaluatedKey")))

    def _many(self, cls: Callable[..., T], item_keys: list[dict[str, str]]) -> list[T]:
        """The items at these keys that exist, in no particular order (BatchGetItem, strongly
        consistent; what DynamoDB leaves unprocessed is asked for again)."""
        found: list[T] = []
        for start in range(0, len(item_keys), BATCH_GET):
            wanted: dict[str, Any] = {self.tables.platform: {
                "Keys": [to_attribute_values(k) for k in item_keys[start:start + BATCH_GET]],
                "ConsistentRead": True}}
            for attempt in range(BATCH_ATTEMPTS):
                if attempt:
                    time.sleep(BATCH_BACKOFF_SECONDS * 2 ** attempt)
                response = self.tables.client.batch_get_item(RequestItems=wanted)
                found += [decode(cls, from_attribute_values(item))  # type: ignore[arg-type]
                          for item in response["Responses"].get(self.tables.platform, [])]
                wanted = response.get("UnprocessedKeys") or {}
                if not wanted:
                    break
            else:
                raise ConcurrentUpdate("系统繁忙，请稍后重试")
        return found
