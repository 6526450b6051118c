"""moto, made fast where it is slow and nothing it decides or answers changes: the fast
tier's end-to-end tests and the simulator run on it (tests/conftest.py,
tests/simulation/engines.py); tests/unit/test_fast_moto.py holds each shortcut to what moto
itself does.

- A cancelled transaction rolls back the items it names, not deep copies of whole tables
  (moto copies every table a transaction touches, once per item: 5 ms per transaction on
  empty tables, 220 ms at 5,000 items).
- Queries sort string keys as Python strings (the same order), not through DynamoType.
- SQS reads the clock from time.time(), not through datetime arithmetic.
- A response's attribute values are written as they are when they hold only strings,
  numbers, booleans, nulls, lists and maps: moto 5.2's model-driven serializer tries every
  member of every AttributeValue under several spellings, a quarter of a test's time.
- Clients come from one boto3 session per process: moto drops boto3's default session
  on every start, and a client made in a new session loads the service's model again
  (0.2 s a client, two clients a test).
"""

from __future__ import annotations

import copy
import functools
import time
from typing import Any

import boto3
import moto.dynamodb.models as moto_dynamodb
import moto.sqs.models as moto_sqs
from moto import mock_aws
from moto.core.serialize import BaseJSONSerializer
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table

REGION = "cn-north-1"


def mock() -> mock_aws:
    """moto for one test or run, every shortcut below in place."""
    speed_up()
    return mock_aws()


@functools.cache
def session() -> boto3.session.Session:
    """The session the fast tier's clients come from (made once moto is imported, so its
    clients go to moto while a mock is on)."""
    return boto3.session.Session(region_name=REGION)


def speed_up() -> None:
    """Install every shortcut (once per process)."""
    _roll_back_touched_items_only()
    _sort_items_natively()
    _read_the_sqs_clock_cheaply()
    _write_plain_attribute_values_as_they_are()


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


_SCALARS: dict[str, type] = {"S": str, "N": str, "BOOL": bool, "NULL": bool}
_STRING_SETS = frozenset({"SS", "NS"})


def plain(value: Any) -> bool:
    """An attribute value the serializer would copy unchanged: one type tag, and no binary
    (which it would encode) anywhere inside."""
    if not isinstance(value, dict) or len(value) != 1:
        return False
    ((tag, inner),) = value.items()
    if tag in _SCALARS:
        return isinstance(inner, _SCALARS[tag])
    if tag in _STRING_SETS:
        return isinstance(inner, list) and all(isinstance(v, str) for v in inner)
    if tag == "M":
        return isinstance(inner, dict) and all(
            isinstance(k, str) and plain(v) for k, v in inner.items())
    if tag == "L":
        return isinstance(inner, list) and all(plain(v) for v in inner)
    return False


def _write_plain_attribute_values_as_they_are() -> None:
    original = BaseJSONSerializer._serialize_type_structure
    if getattr(original, "plain_values_as_they_are", False):
        return

    @functools.wraps(original)
    def serialize_structure(self: Any, serialized: Any, value: Any, shape: Any,
                            key: str) -> None:
        if key and shape.name == "AttributeValue" and plain(value):
            self._default_serialize(serialized, value, shape, key)
        else:
            original(self, serialized, value, shape, key)

    serialize_structure.plain_values_as_they_are = True  # type: ignore[attr-defined]
    BaseJSONSerializer._serialize_type_structure = serialize_structure  # type: ignore
