"""The engines a simulation runs on: moto in process (the fast tier) or DynamoDB Local with
moto's SQS server (the conformance tier). Each yields the platform's two clients and a reader
of whole tables for the checks (test-only)."""

from __future__ import annotations

import copy
import functools
import itertools
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar, cast

import boto3
import moto.dynamodb.models as moto_dynamodb
import moto.sqs.models as moto_sqs
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table

from chalicelib.adapters.dynamo.codec import decode, from_attribute_values

REGION = "cn-north-1"
Wire = dict[str, Any]
"""An item as DynamoDB sends it ({"pk": {"S": ...}, ...})."""
Reader = Callable[[str, frozenset[str] | None], list[Wire]]
"""A whole table's items, or those whose sort key is one of the given (test-only)."""
T = TypeVar("T")


class Decoded:
    """The items of the tables as domain objects, decoded once per version of an item: a
    step changes a few items, and decoding every item after every step would cost more
    than the step it checks."""

    def __init__(self) -> None:
        self._known: dict[tuple[str, str, str], tuple[Wire, Any]] = {}

    def __call__(self, kind: type[T], table: str, wire: Wire) -> T:
        key = (table, wire["pk"]["S"], wire["sk"]["S"])
        known = self._known.get(key)
        if known is None or known[0] != wire:
            known = self._known[key] = (wire, decode(kind, from_attribute_values(wire)))
        return cast(T, known[1])


Engine = Callable[[], Any]


class _TouchedItemsRolledBack:
    """moto's transact_write_items backs up every table it touches with a deep copy of the
    whole table, once per item of the transaction, to restore if the transaction is
    cancelled: the cost of a transaction grows with the table. A cancelled transaction only
    has to leave the items it names as they were, so during the call this saves those items
    and puts them back if it raises, and moto's whole-table copies become the table itself
    (its restore then a no-op). What moto decides and answers is unchanged."""

    def __init__(self) -> None:
        self.active = False

    def deepcopy(self, thing: Any, memo: Any = None) -> Any:
        if self.active and isinstance(thing, Table):
            return thing
        return copy.deepcopy(thing, memo)


Saved = list[tuple[Table, Any, Any, Item | None]]


def _touched(backend: Any, transact_items: list[dict[str, Any]]) -> Saved:
    saved: Saved = []
    for entry in transact_items:
        _, op = next(iter(entry.items()))
        table = backend.tables.get(op.get("TableName"))
        if table is None:
            continue
        key = op["Item"] if "Item" in op else op["Key"]
        hash_key = DynamoType(key[table.hash_key_attr])
        range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
        current = table.get_item(hash_key, range_key)
        saved.append((table, hash_key, range_key, copy.deepcopy(current)))
    return saved


def _put_back(saved: Saved) -> None:
    for table, hash_key, range_key, item in reversed(saved):
        if range_key is None:
            if item is None:
                table.items.pop(hash_key, None)
            else:
                table.items[hash_key] = item
        elif item is None:
            table.items[hash_key].pop(range_key, None)
        else:
            table.items[hash_key][range_key] = item


def _roll_back_touched_items_only() -> None:
    if isinstance(moto_dynamodb.copy, _TouchedItemsRolledBack):
        return
    shim = _TouchedItemsRolledBack()
    moto_dynamodb.copy = shim  # type: ignore[assignment]
    original = moto_dynamodb.DynamoDBBackend.transact_write_items

    @functools.wraps(original)
    def transact_write_items(self: Any, transact_items: Any) -> None:
        try:
            saved = _touched(self, transact_items)
        except Exception:  # noqa: BLE001 - malformed: moto answers it, from whole copies
            return original(self, transact_items)
        shim.active = True
        try:
            return original(self, transact_items)
        except BaseException:
            _put_back(saved)
            raise
        finally:
            shim.active = False

    moto_dynamodb.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore


def _native_sort_keys(table: Table) -> Any:
    """What moto sorts a table's items by for every query (DynamoType comparisons, a third
    of a query's cost), as Python values: for string keys the order is the same."""

    def key(item: Item) -> Any:
        if item.hash_key.type != "S" or (item.range_key is not None
                                         and item.range_key.type != "S"):
            raise _NotStrings
        return (item.hash_key.value, item.range_key.value if item.range_key else "")

    return key


class _NotStrings(Exception):
    pass


def _sort_items_natively() -> None:
    """moto's Table.all_items, sorting string keys as strings (the same order)."""
    original = Table.all_items
    if getattr(original, "natively_sorted", False):
        return

    @functools.wraps(original)
    def all_items(self: Table) -> list[Item]:
        items = [item for by_range in self.items.values()
                 for item in (by_range.values() if self.range_key_attr else [by_range])]
        try:
            return sorted(items, key=_native_sort_keys(self))
        except _NotStrings:
            return original(self)

    all_items.natively_sorted = True  # type: ignore[attr-defined]
    Table.all_items = all_items  # type: ignore[method-assign]


def _read_the_sqs_clock_cheaply() -> None:
    """moto's SQS asks the time twice per queued message on every receive and attribute
    read, each through datetime arithmetic (a fifth of a run): the same Unix milliseconds,
    from time.time()."""
    original = moto_sqs.unix_time_millis
    if getattr(original, "cheap", False):
        return

    def unix_time_millis(dt: Any = None) -> float:
        return time.time() * 1000.0 if dt is None else float(original(dt))

    unix_time_millis.cheap = True  # type: ignore[attr-defined]
    moto_sqs.unix_time_millis = unix_time_millis  # type: ignore[assignment]


@contextmanager
def moto_engine() -> Iterator[tuple[Any, Any, Reader]]:
    """moto in process. The checks read its tables from its backend: a Scan through moto
    serialises every item and would cost more than the step it checks."""
    for name, value in {"AWS_ACCESS_KEY_ID": "sim", "AWS_SECRET_ACCESS_KEY": "sim",
                        "AWS_DEFAULT_REGION": REGION}.items():
        os.environ.setdefault(name, value)
    _roll_back_touched_items_only()
    _sort_items_natively()
    _read_the_sqs_clock_cheaply()
    with mock_aws():
        backend = dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION]

        def read(table: str, sort_keys: frozenset[str] | None = None) -> list[Wire]:
            stored = backend.get_table(table)
            return [item.to_json()["Attributes"]
                    for by_range in stored.items.values() for item in by_range.values()
                    if sort_keys is None or item.range_key.value in sort_keys]

        yield (boto3.client("dynamodb", region_name=REGION),
               boto3.client("sqs", region_name=REGION), read)


_stages = itertools.count(1)


def real_engine(dynamodb_url: str, sqs_url: str) -> Engine:
    """DynamoDB Local (and moto's SQS server) already running: each run gets its own tables
    and queues (the stage names them) and reads them with real Scans."""

    @contextmanager
    def engine() -> Iterator[tuple[Any, Any, Reader]]:
        dynamodb = boto3.client("dynamodb", endpoint_url=dynamodb_url, region_name=REGION)
        sqs = boto3.client("sqs", endpoint_url=sqs_url, region_name=REGION)

        def read(table: str, sort_keys: frozenset[str] | None = None) -> list[Wire]:
            items: list[Wire] = []
            request: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
            while True:
                response = dynamodb.scan(**request)
                items += [i for i in response["Items"]
                          if sort_keys is None or i["sk"]["S"] in sort_keys]
                if "LastEvaluatedKey" not in response:
                    return items
                request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

        yield dynamodb, sqs, read

    return engine


def next_stage() -> str:
    return f"sim{next(_stages)}"
