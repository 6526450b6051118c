"""The data plane defined in infra/template.yaml, created locally through infra/resources.py."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra.resources import (
    DEFAULT_TEMPLATE,
    DataPlane,
    TemplateError,
    create_data_plane,
    load_template,
)

REGION = "cn-north-1"
STAGE = "test"
FUNCTION_TIMEOUT_S = 30
SWEEP_TIMEOUT_S = 60
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Any]]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SECURITY_TOKEN", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield (
            boto3.client("dynamodb", region_name=REGION),
            boto3.client("sqs", region_name=REGION),
        )


def _keys(schema: list[dict[str, str]]) -> list[tuple[str, str]]:
    return [(key["AttributeName"], key["KeyType"]) for key in schema]


def test_create_data_plane_is_idempotent_and_matches_the_spec(aws: tuple[Any, Any]) -> None:
    dynamodb, sqs = aws
    first = create_data_plane(dynamodb, sqs, STAGE)
    second = create_data_plane(dynamodb, sqs, STAGE)
    assert first == second
    assert isinstance(first, DataPlane)
    assert first.platform_table == f"{STAGE}-platform"
    assert first.journal_table == f"{STAGE}-journal"
    assert sorted(dynamodb.list_tables()["TableNames"]) == [f"{STAGE}-journal", f"{STAGE}-platform"]

    platform = dynamodb.describe_table(TableName=first.platform_table)["Table"]
    assert _keys(platform["KeySchema"]) == [("pk", "HASH"), ("sk", "RANGE")]
    assert platform["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    indexes = {index["IndexName"]: index for index in platform["GlobalSecondaryIndexes"]}
    assert set(indexes) == {"gsi1", "gsi2", "gsi3", "due"}
    for name in ("gsi1", "gsi2", "gsi3"):
        assert _keys(indexes[name]["KeySchema"]) == [(f"{name}pk", "HASH"), (f"{name}sk", "RANGE")]
        assert indexes[name]["Projection"]["ProjectionType"] == "ALL"
    assert _keys(indexes["due"]["KeySchema"]) == [("due_pk", "HASH"), ("due_sk", "RANGE")]
    assert indexes["due"]["Projection"]["ProjectionType"] == "KEYS_ONLY"
    ttl = dynamodb.describe_time_to_live(TableName=first.platform_table)["TimeToLiveDescription"]
    assert ttl["TimeToLiveStatus"] == "ENABLED"
    assert ttl["AttributeName"] == "expires_at_epoch"

    journal = dynamodb.describe_table(TableName=first.journal_table)["Table"]
    assert _keys(journal["KeySchema"]) == [("pk", "HASH"), ("sk", "RANGE")]
    assert not journal.get("GlobalSecondaryIndexes")

    assert len(sqs.list_queues()["QueueUrls"]) == 8
    for name, queue_url, dlq_url, timeout in (
        ("settlement", first.settlement_queue_url, first.settlement_dlq_url, FUNCTION_TIMEOUT_S),
        ("sweep", first.sweep_queue_url, first.sweep_dlq_url, SWEEP_TIMEOUT_S),
    ):
        assert queue_url.endswith(f"/{STAGE}-{name}.fifo")
        assert dlq_url.endswith(f"/{STAGE}-{name}-dlq.fifo")
        dlq_attrs = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["All"])[
            "Attributes"]
        assert dlq_attrs["FifoQueue"] == "true"
        assert int(dlq_attrs["MessageRetentionPeriod"]) == 14 * 24 * 3600
        attrs = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])[
            "Attributes"]
        assert attrs["FifoQueue"] == "true"
        assert attrs["ContentBasedDeduplication"] == "false"
        assert int(attrs["VisibilityTimeout"]) >= 6 * timeout
        redrive = json.loads(attrs["RedrivePolicy"])
        assert redrive["deadLetterTargetArn"] == dlq_attrs["QueueArn"]
        assert int(redrive["maxReceiveCount"]) == 5
    for name, queue_url in (("liquidation", first.liquidation_queue_url),
                            ("complaint", first.complaint_queue_url)):
        standard = sqs.get_queue_attributes(QueueUrl=queue_url,
                                            AttributeNames=["All"])["Attributes"]
        assert queue_url.endswith(f"/{STAGE}-{name}")  # a standard queue
        assert "FifoQueue" not in standard
        assert int(standard["VisibilityTimeout"]) >= 6 * FUNCTION_TIMEOUT_S
        redrive = json.loads(standard["RedrivePolicy"])
        assert redrive["deadLetterTargetArn"].endswith(f":{STAGE}-{name}-dlq")


def test_missing_index_is_added_to_an_existing_table(aws: tuple[Any, Any]) -> None:
    dynamodb, sqs = aws
    template = load_template()
    platform = template["Resources"]["PlatformTable"]["Properties"]
    full = list(platform["GlobalSecondaryIndexes"])
    all_attributes = list(platform["AttributeDefinitions"])
    platform["GlobalSecondaryIndexes"] = full[:1]
    platform["AttributeDefinitions"] = [
        attr for attr in all_attributes if attr["AttributeName"] in {"pk", "sk", "gsi1pk", "gsi1sk"}
    ]
    create_data_plane(dynamodb, sqs, STAGE, template=template)
    table = dynamodb.describe_table(TableName=f"{STAGE}-platform")["Table"]
    assert [index["IndexName"] for index in table["GlobalSecondaryIndexes"]] == ["gsi1"]
    platform["GlobalSecondaryIndexes"] = full
    platform["AttributeDefinitions"] = all_attributes
    plane = create_data_plane(dynamodb, sqs, STAGE, template=template)
    table = dynamodb.describe_table(TableName=plane.platform_table)["Table"]
    names = {index["IndexName"] for index in table["GlobalSecondaryIndexes"]}
    assert names == {"gsi1", "gsi2", "gsi3", "due"}


def test_unsupported_constructs_are_rejected(aws: tuple[Any, Any]) -> None:
    dynamodb, sqs = aws
    template = load_template()
    journal = template["Resources"]["JournalTable"]["Properties"]
    journal["TableName"] = {"Fn::Sub": "${AWS::Region}-journal"}
    with pytest.raises(TemplateError, match="AWS::Region"):
        create_data_plane(dynamodb, sqs, STAGE, template=template)

    template = load_template()
    template["Resources"]["Stream"] = {"Type": "AWS::Kinesis::Stream", "Properties": {}}
    with pytest.raises(TemplateError, match="AWS::Kinesis::Stream"):
        create_data_plane(dynamodb, sqs, STAGE, template=template)


def test_template_has_no_partition_literals_and_every_queue_has_a_dlq() -> None:
    # Built from parts so a repository-wide grep for the literal does not match this test.
    commercial_partition_arn = "arn:" + "aws:"
    assert commercial_partition_arn not in DEFAULT_TEMPLATE.read_text(encoding="utf-8")
    resources = load_template()["Resources"]
    queues = {lid: r for lid, r in resources.items() if r["Type"] == "AWS::SQS::Queue"}
    dlq_ids = {
        props["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
        for props in (r.get("Properties", {}) for r in queues.values())
        if "RedrivePolicy" in props
    }
    assert dlq_ids, "no queue redrives to a dead-letter queue"
    assert dlq_ids <= set(queues)
    for logical_id, resource in queues.items():
        if logical_id in dlq_ids:
            continue
        assert "RedrivePolicy" in resource["Properties"], f"{logical_id} has no RedrivePolicy"
        assert resource["Properties"]["RedrivePolicy"]["maxReceiveCount"] == 5


def _cfn_lint_command() -> list[str]:
    if importlib.util.find_spec("cfnlint.__main__") is not None:
        return [sys.executable, "-m", "cfnlint"]
    script = Path(sys.executable).with_name("cfn-lint")
    if not script.exists():
        pytest.skip("cfn-lint is not installed next to the interpreter")
    return [str(script)]


def test_template_is_cfn_lint_clean() -> None:
    result = subprocess.run(
        [
            *_cfn_lint_command(),
            "--regions",
            "cn-north-1",
            "cn-northwest-1",
            "--",
            "infra/template.yaml",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
