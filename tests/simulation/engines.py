"""The engines a simulation runs on: moto in process (the fast tier) or DynamoDB Local with
moto's SQS server (the conformance tier). Each yields the platform's two clients and a reader
of whole tables for the checks (test-only)."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar, cast

import boto3
from moto.core import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends

from chalicelib.adapters.dynamo.codec import decode, from_attribute_values
from tests.support import fast_moto

REGION = fast_moto.REGION
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


@contextmanager
def moto_engine() -> Iterator[tuple[Any, Any, Reader]]:
    """moto in process. The checks read its tables from its backend: a Scan through moto
    serialises every item and would cost more than the step it checks."""
    for name, value in {"AWS_ACCESS_KEY_ID": "sim", "AWS_SECRET_ACCESS_KEY": "sim",
                        "AWS_DEFAULT_REGION": REGION}.items():
        os.environ.setdefault(name, value)
    with fast_moto.mock():
        backend = dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION]

        def read(table: str, sort_keys: frozenset[str] | None = None) -> list[Wire]:
            stored = backend.get_table(table)
            return [item.to_json()["Attributes"]
                    for by_range in stored.items.values() for item in by_range.values()
                    if sort_keys is None or item.range_key.value in sort_keys]

        aws = fast_moto.session()
        yield aws.client("dynamodb"), aws.client("sqs"), read


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
