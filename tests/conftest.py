"""Fixtures shared by every tier.

The `platform` fixture runs each end-to-end test twice: on moto (the fast tier) and on AWS's
DynamoDB Local with SQS from a moto server on loopback (the conformance tier: the real engine
rejects things moto lets through). Nothing talks to the internet.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import boto3
import pytest
from moto.server import ThreadedMotoServer

from chalicelib import bootstrap
from chalicelib.adapters.clock import ManualClock
from infra import dynamodb_local
from infra.resources import DataPlane, create_data_plane
from tests.support import fast_moto
from tests.support.harness import Platform, start

# A Monday inside chinese-calendar's data, away from holidays.
START = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
REGION = fast_moto.REGION

_stages = itertools.count(1)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The simulator's long runs first: under `make test`'s workers (pytest-xdist) they start
    at once, and the other tests share out the rest of the time."""
    items.sort(key=lambda item: not item.nodeid.startswith("tests/simulation/"))


@pytest.fixture(autouse=True)
def _offline_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture(scope="session")
def dynamodb_local_engine() -> Iterator[dynamodb_local.DynamoDBLocal]:
    engine = dynamodb_local.start()
    yield engine
    engine.stop()


@pytest.fixture(scope="session")
def sqs_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(params=["moto", pytest.param("dynamodb_local", marks=pytest.mark.conformance)])
def platform(request: pytest.FixtureRequest) -> Iterator[Platform]:
    if request.param == "moto":
        yield from _on_moto()
    else:
        engine = request.getfixturevalue("dynamodb_local_engine")
        dynamodb = boto3.client("dynamodb", endpoint_url=engine.endpoint_url)
        sqs = boto3.client("sqs", endpoint_url=request.getfixturevalue("sqs_endpoint"))
        plane = create_data_plane(dynamodb, sqs, f"t{next(_stages)}")
        yield start(dynamodb, sqs, plane, ManualClock(START))
        _drop(dynamodb, sqs, plane)
    bootstrap.use(None)


@pytest.fixture
def moto_platform() -> Iterator[Platform]:
    """The fast tier alone, for a module whose rule the engine has no part in (it names
    why where it takes it)."""
    yield from _on_moto()


def _on_moto() -> Iterator[Platform]:
    with fast_moto.mock():
        aws = fast_moto.session()
        dynamodb, sqs = aws.client("dynamodb"), aws.client("sqs")
        plane = create_data_plane(dynamodb, sqs, "test")
        yield start(dynamodb, sqs, plane, ManualClock(START))


def _drop(dynamodb: object, sqs: object, plane: DataPlane) -> None:
    """Keep the shared engines small: each conformance test leaves nothing behind."""
    for table in (plane.platform_table, plane.journal_table):
        dynamodb.delete_table(TableName=table)  # type: ignore[attr-defined]
    for queue_url in (plane.settlement_queue_url, plane.settlement_dlq_url,
                      plane.sweep_queue_url, plane.sweep_dlq_url,
                      plane.liquidation_queue_url, plane.liquidation_dlq_url,
                      plane.complaint_queue_url, plane.complaint_dlq_url):
        sqs.delete_queue(QueueUrl=queue_url)  # type: ignore[attr-defined]
