"""One atomic DynamoDB write: TransactWriteItems with a label per part.

A failed condition becomes `WriteRejected` naming the labels that failed, so services can
tell "this bank event was already applied" from "the order changed under us".
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from chalicelib.adapters.dynamo.codec import to_attribute_values
from chalicelib.adapters.dynamo.expressions import UpdateExpression
from chalicelib.adapters.dynamo.tables import Tables
from chalicelib.service.ports import WriteRejected

MAX_ITEMS = 100


class Transaction:
    def __init__(self, tables: Tables) -> None:
        self.tables = tables
        self._items: list[dict[str, Any]] = []
        self._labels: list[str] = []

    def put_new(self, table: str, item: dict[str, Any], label: str) -> Transaction:
        """Create an item that must not exist yet (its key is its idempotency)."""
        self._add(
            {
                "Put": {
                    "TableName": table,
                    "Item": to_attribute_values(item),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            label,
        )
        return self

    def put(self, table: str, item: dict[str, Any], label: str) -> Transaction:
        """Create or overwrite an item, unconditionally (a derived, idempotent entry)."""
        self._add({"Put": {"TableName": table, "Item": to_attribute_values(item)}}, label)
        return self

    def delete(self, table: str, key: dict[str, Any], label: str) -> Transaction:
        """Delete an item if it is there (a derived, idempotent entry)."""
        self._add({"Delete": {"TableName": table, "Key": to_attribute_values(key)}}, label)
        return self

    def delete_if(self, table: str, key: dict[str, Any], expression: UpdateExpression,
                  label: str) -> Transaction:
        """Delete an item on `expression`'s conditions."""
        request = expression.as_update(table, key)
        del request["UpdateExpression"]
        self._add({"Delete": request}, label)
        return self

    def update(
        self, table: str, key: dict[str, Any], expression: UpdateExpression, label: str
    ) -> Transaction:
        self._add({"Update": expression.as_update(table, key)}, label)
        return self

    def check_exists(self, table: str, key: dict[str, Any], label: str) -> Transaction:
        """The transaction applies only if this item exists (it is not changed)."""
        self._add(
            {
                "ConditionCheck": {
                    "TableName": table,
                    "Key": to_attribute_values(key),
                    "ConditionExpression": "attribute_exists(pk)",
                }
            },
            label,
        )
        return self

    def check(self, table: str, key: dict[str, Any], expression: UpdateExpression,
              label: str) -> Transaction:
        """The transaction applies only if this item meets `expression`'s conditions (it is
        not changed)."""
        request = expression.as_update(table, key)
        del request["UpdateExpression"]
        self._add({"ConditionCheck": request}, label)
        return self

    def _add(self, operation: dict[str, Any], label: str) -> None:
        if len(self._items) >= MAX_ITEMS:
            raise ValueError("a transaction holds at most 100 items")
        self._items.append(operation)
        self._labels.append(label)

    def commit(self) -> None:
        if not self._items:
            return
        try:
            self.tables.client.transact_write_items(TransactItems=self._items)
        except ClientError as error:
            raise self._rejection(error) from error

    def _rejection(self, error: ClientError) -> Exception:
        if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
            return error
        reasons = error.response.get("CancellationReasons") or []
        failed = frozenset(
            label
            for label, reason in zip(self._labels, reasons, strict=False)
            if reason.get("Code") == "ConditionalCheckFailed"
        )
        contended = any(r.get("Code") == "TransactionConflict" for r in reasons)
        return WriteRejected(failed, contended=contended or not failed)
