"""The engines a simulation runs on: moto in process (the fast tier) or DynamoDB Local with
moto's SQS server (the conformance tier). Each yields the platform's two clients and a reader
of whole tables for the checks (test-only)."""

from __future__ import annotations

import copy
import functools
import itertools
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import moto.dynamodb.models as moto_dynamodb
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.table import Table

from chalicelib.adapters.dynamo.codec import from_attribute_values
from tests.support.invariants import scan

REGION = "cn-north-1"
Reader = Callable[[str], list[dict[str, Any]]]
Engine = Callable[[], Any]


class _EachTableCopiedOnce:
    """moto's transact_write_items backs up a table once per item of the transaction (its
    loop overwrites the same backup, of the same unchanged table): six items, six deep copies
    of the whole table. This stands in for its `copy` module during the call and copies each
    table once, which is what the backup needs; nothing else about moto changes."""

    def __init__(self) -> None:
        self.backups: dict[int, Table] | None = None

    def deepcopy(self, thing: Any, memo: Any = None) -> Any:
        if self.backups is None or not isinstance(thing, Table):
            return copy.deepcopy(thing, memo)
        if id(thing) not in self.backups:
            self.backups[id(thing)] = copy.deepcopy(thing)
        return self.backups[id(thing)]


def _copy_each_table_once() -> None:
    if isinstance(moto_dynamodb.copy, _EachTableCopiedOnce):
        return
    shim = _EachTableCopiedOnce()
    moto_dynamodb.copy = shim  # type: ignore[assignment]
    original = moto_dynamodb.DynamoDBBackend.transact_write_items

    @functools.wraps(original)
    def transact_write_items(self: Any, transact_items: Any) -> None:
        shim.backups = {}
        try:
            return original(self, transact_items)
        finally:
            shim.backups = None

    moto_dynamodb.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore


@contextmanager
def moto_engine() -> Iterator[tuple[Any, Any, Reader]]:
    """moto in process. The checks read its tables from its backend: a Scan through moto
    serialises every item and would cost more than the step it checks."""
    for name, value in {"AWS_ACCESS_KEY_ID": "sim", "AWS_SECRET_ACCESS_KEY": "sim",
                        "AWS_DEFAULT_REGION": REGION}.items():
        os.environ.setdefault(name, value)
    _copy_each_table_once()
    with mock_aws():
        backend = dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION]

        def read(table: str) -> list[dict[str, Any]]:
            return [from_attribute_values(item.to_json()["Attributes"])
                    for item in backend.get_table(table).all_items()]

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
        yield dynamodb, sqs, lambda table: scan(dynamodb, table)

    return engine


def next_stage() -> str:
    return f"sim{next(_stages)}"
