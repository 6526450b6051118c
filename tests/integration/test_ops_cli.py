"""The ops CLI against moto: `replay-dlq` moves dead letters back without losing or doubling
any, `status` shows queue depths, dead letters and stragglers on the due index."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from typer.testing import CliRunner

from chalicelib.adapters.dynamo import keys
from infra.cli import cli
from infra.cli import options as options_module
from infra.cli.targets import Queue, Target, connect
from infra.local import runfile
from infra.local.clock import LocalClock
from infra.local.config import AWS_REGION, FAKE_CREDENTIAL
from infra.resources import DataPlane, create_data_plane

STAGE = "ops"
runner = CliRunner()


@pytest.fixture
def plane() -> Iterator[DataPlane]:
    with mock_aws():
        yield create_data_plane(boto3.client("dynamodb"), boto3.client("sqs"), STAGE)


def invoke(*args: str) -> Any:
    return runner.invoke(cli, list(args), catch_exceptions=False)


def dead_letter(plane: DataPlane, n: int, group: str) -> None:
    boto3.client("sqs").send_message(
        QueueUrl=plane.settlement_dlq_url, MessageBody=json.dumps({"n": n}),
        MessageGroupId=group, MessageDeduplicationId=f"dead-{n}",
        MessageAttributes={"origin": {"DataType": "String", "StringValue": f"test-{n}"}},
    )


def drain(queue_url: str) -> list[dict[str, Any]]:
    sqs, received = boto3.client("sqs"), []
    while batch := sqs.receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"],
        MessageAttributeNames=["All"],
    ).get("Messages", []):
        for message in batch:
            received.append(message)
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return received


def depth(queue_url: str) -> int:
    attributes = boto3.client("sqs").get_queue_attributes(QueueUrl=queue_url, AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return sum(int(value) for value in attributes.values())


class FlakySqs:
    """The real (moto) client, with one operation failing from its `fail_from`-th call on."""

    def __init__(self, sqs: Any, operation: str, fail_from: int) -> None:
        self._sqs, self._operation, self._fail_from, self.calls = sqs, operation, fail_from, 0
        self.failed: list[dict[str, Any]] = []

    def __getattr__(self, name: str) -> Any:
        real = getattr(self._sqs, name)
        if name != self._operation:
            return real

        def flaky(**kwargs: Any) -> Any:
            self.calls += 1
            if self.calls >= self._fail_from:
                self.failed.append(kwargs)
                raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "down"}},
                                  name)
            return real(**kwargs)

        return flaky


def with_flaky_sqs(monkeypatch: pytest.MonkeyPatch, operation: str, fail_from: int) -> FlakySqs:
    flaky: list[FlakySqs] = []

    def flaky_connect(stage: str, **kwargs: Any) -> Target:
        target = connect(stage, **kwargs)
        flaky.append(FlakySqs(target.sqs, operation, fail_from))
        return Target(target.stage, target.description, target.dynamodb,
                      flaky[-1])  # type: ignore[arg-type]

    monkeypatch.setattr(options_module, "connect", flaky_connect)

    class Last:
        def __getattr__(self, name: str) -> Any:
            return getattr(flaky[-1], name)

    return Last()  # type: ignore[return-value]


# ---------------------------------------------------------------- replay-dlq


def test_replay_moves_every_dead_letter_back_with_its_group_order_and_attributes(
    plane: DataPlane,
) -> None:
    for n in range(12):
        dead_letter(plane, n, group=f"ord-{n % 2}")

    result = invoke("replay-dlq", "--queue", "settlement", "--stage", STAGE)

    assert result.exit_code == 0, result.output
    assert "moved 12 message(s) from ops-settlement-dlq.fifo to ops-settlement.fifo" in (
        result.stdout)
    assert depth(plane.settlement_dlq_url) == 0
    replayed = drain(plane.settlement_queue_url)
    by_group: dict[str, list[int]] = {}
    for message in replayed:
        by_group.setdefault(message["Attributes"]["MessageGroupId"], []).append(
            json.loads(message["Body"])["n"])
        n = json.loads(message["Body"])["n"]
        assert message["MessageAttributes"]["origin"]["StringValue"] == f"test-{n}"
        assert message["Attributes"]["MessageDeduplicationId"].startswith("replay-")
    assert by_group == {"ord-0": [0, 2, 4, 6, 8, 10], "ord-1": [1, 3, 5, 7, 9, 11]}


def test_replay_moves_the_liquidation_queues_dead_letters_back_without_a_group(
    plane: DataPlane,
) -> None:
    sqs = boto3.client("sqs")
    for n in range(3):  # a standard queue: no group, no deduplication id
        sqs.send_message(QueueUrl=plane.liquidation_dlq_url, MessageBody=json.dumps({"n": n}))

    result = invoke("replay-dlq", "--queue", "liquidation", "--stage", STAGE)

    assert result.exit_code == 0, result.output
    assert "moved 3 message(s) from ops-liquidation-dlq to ops-liquidation" in result.stdout
    assert depth(plane.liquidation_dlq_url) == 0
    assert sorted(json.loads(m["Body"])["n"] for m in drain(plane.liquidation_queue_url)) == [
        0, 1, 2]


def test_replay_with_a_limit_moves_only_that_many(plane: DataPlane) -> None:
    for n in range(5):
        dead_letter(plane, n, group="ord-1")

    result = invoke("replay-dlq", "--queue", "settlement", "--stage", STAGE, "--limit", "2")

    assert result.exit_code == 0, result.output
    assert [json.loads(m["Body"])["n"] for m in drain(plane.settlement_queue_url)] == [0, 1]


def test_a_letter_whose_send_failed_stays_in_the_dead_letter_queue(
    plane: DataPlane, monkeypatch: pytest.MonkeyPatch,
) -> None:
    for n in range(5):
        dead_letter(plane, n, group=f"ord-{n}")
    with_flaky_sqs(monkeypatch, "send_message", fail_from=3)

    result = invoke("replay-dlq", "--queue", "settlement", "--stage", STAGE)

    assert result.exit_code == 1
    assert "error after 2 message(s)" in result.output
    assert len(drain(plane.settlement_queue_url)) == 2
    assert depth(plane.settlement_dlq_url) == 3


def test_replaying_again_after_a_failed_delete_does_not_send_a_letter_twice(
    plane: DataPlane, monkeypatch: pytest.MonkeyPatch,
) -> None:
    dead_letter(plane, 1, group="ord-1")
    flaky = with_flaky_sqs(monkeypatch, "delete_message", fail_from=1)
    assert invoke("replay-dlq", "--queue", "settlement", "--stage", STAGE).exit_code == 1
    monkeypatch.setattr(options_module, "connect", connect)
    [failed_delete] = flaky.failed
    boto3.client("sqs").change_message_visibility(  # as if its visibility timeout had passed
        QueueUrl=plane.settlement_dlq_url, ReceiptHandle=failed_delete["ReceiptHandle"],
        VisibilityTimeout=0)

    result = invoke("replay-dlq", "--queue", "settlement", "--stage", STAGE)

    assert result.exit_code == 0, result.output
    assert "moved 1 message(s)" in result.stdout
    assert depth(plane.settlement_dlq_url) == 0
    assert [json.loads(m["Body"])["n"] for m in drain(plane.settlement_queue_url)] == [1]


def test_replay_of_an_empty_dead_letter_queue_says_so(plane: DataPlane) -> None:
    result = invoke("replay-dlq", "--queue", "settlement", "--stage", STAGE)
    assert result.exit_code == 0, result.output
    assert "moved 0 message(s)" in result.stdout


# ---------------------------------------------------------------- status


def put_due(job: str, entity_id: str, due_at: datetime) -> None:
    boto3.client("dynamodb").put_item(TableName=f"{STAGE}-platform", Item={
        "pk": {"S": entity_id}, "sk": {"S": "test"},
        **{name: {"S": value} for name, value in keys.due_attributes(
            job, entity_id, due_at).items()},
    })


def test_status_shows_depths_dead_letters_and_overdue_items_per_job(plane: DataPlane) -> None:
    sqs = boto3.client("sqs")
    for n in range(3):
        sqs.send_message(QueueUrl=plane.settlement_queue_url, MessageBody=str(n),
                         MessageGroupId=f"g{n}", MessageDeduplicationId=f"d{n}")
    sqs.receive_message(QueueUrl=plane.settlement_queue_url, MaxNumberOfMessages=1)
    dead_letter(plane, 1, group="ord-1")
    now = datetime.now(UTC)
    put_due("settle", "con_LATE", now - timedelta(hours=1))
    put_due("settle", "con_NOT_YET", now + timedelta(hours=1))
    put_due("autoconfirm", "con_SILENT", now - timedelta(days=1))

    result = invoke("status", "--stage", STAGE)

    assert result.exit_code == 0, result.output
    rows = {line.split()[0]: line.split()[1:] for line in result.stdout.splitlines()
            if line.strip()}
    assert rows["ops-settlement.fifo"] == ["2", "1"]
    assert rows["ops-settlement-dlq.fifo"] == ["1", "0"]
    assert rows["settle"][0] == "1" and rows["autoconfirm"][0] == "1"
    assert rows["expire"][0] == "0"
    assert "con_LATE" in result.stdout and "con_NOT_YET" not in result.stdout
    assert invoke("status", "--stage", STAGE, "--check").exit_code == 1


def test_status_check_passes_on_a_quiet_stage(plane: DataPlane) -> None:
    result = invoke("status", "--stage", STAGE, "--check")
    assert result.exit_code == 0, result.output


def test_resource_names_are_the_templates(plane: DataPlane) -> None:
    target = connect(STAGE)
    assert target.queue_url(Queue.settlement) == plane.settlement_queue_url
    assert target.queue_url(Queue.settlement, dead_letter=True) == plane.settlement_dlq_url
    tables = target.store().tables
    assert (tables.platform, tables.journal) == (plane.platform_table, plane.journal_table)


# ---------------------------------------------------------------- the local stage


def test_the_local_stage_without_a_running_stack_says_how_to_start_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LOCAL_DATA_DIR", str(tmp_path))
    for command in (["status"], ["replay-dlq", "--queue", "settlement"], ["seed"]):
        result = invoke(*command)
        assert result.exit_code == 1
        assert "make run" in result.output


def test_the_local_stage_finds_the_running_stack_through_its_run_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sqs_endpoint: str,
) -> None:
    """A moto server stands in for both local engines; the CLI uses the stack's credentials."""
    session = boto3.session.Session(aws_access_key_id=FAKE_CREDENTIAL,
                                    aws_secret_access_key=FAKE_CREDENTIAL,
                                    region_name=AWS_REGION)
    dynamodb = session.client("dynamodb", endpoint_url=sqs_endpoint)
    sqs = session.client("sqs", endpoint_url=sqs_endpoint)
    plane = create_data_plane(dynamodb, sqs, "local")
    monkeypatch.setenv("LOCAL_DATA_DIR", str(tmp_path))
    runfile.write(tmp_path, runfile.RunRecord(stack_pid=1, engine="moto", sqs_url=sqs_endpoint,
                                              dynamodb_url=sqs_endpoint))
    LocalClock(tmp_path, start=datetime(2026, 11, 2, 1, tzinfo=UTC)).advance(timedelta(days=16))
    try:
        result = invoke("status")
        assert result.exit_code == 0, result.output
        assert f"the local stack (moto: tables {sqs_endpoint}" in result.stdout
        assert "local-settlement-dlq.fifo" in result.stdout
        assert "platform clock 2026-11-18T" in result.stdout
    finally:
        for table in (plane.platform_table, plane.journal_table):
            dynamodb.delete_table(TableName=table)
        for queue_url in (plane.settlement_queue_url, plane.settlement_dlq_url,
                          plane.sweep_queue_url, plane.sweep_dlq_url):
            sqs.delete_queue(QueueUrl=queue_url)
