"""Create the data plane described by ``infra/template.yaml`` through boto3 clients.

The CloudFormation template is the single definition of the tables and queues. Tests and the
local stack (moto, DynamoDB Local, ElasticMQ, ...) call :func:`create_data_plane`, which reads
the template and issues the equivalent DynamoDB and SQS API calls. Only the template constructs
actually used are understood (``Fn::Sub`` of parameters, ``Ref`` of parameters and
``Fn::GetAtt [<queue>, Arn]``); anything else raises :class:`TemplateError` so that a change to
the template cannot silently diverge from what tests run against.

Settings that local engines do not support or that only matter in a real account (deletion
protection, point-in-time recovery, server-side encryption, tags) are not applied here, and
neither are the resource types that only exist in a real account (alarms, IAM).
"""

from __future__ import annotations

import copy
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.literals import QueueAttributeNameType

__all__ = [
    "DEFAULT_TEMPLATE",
    "DataPlane",
    "TemplateError",
    "create_data_plane",
    "load_template",
]

log = logging.getLogger(__name__)

DEFAULT_TEMPLATE = Path(__file__).resolve().with_name("template.yaml")

TABLE_TYPE = "AWS::DynamoDB::Table"
QUEUE_TYPE = "AWS::SQS::Queue"

# CloudFormation table properties passed to CreateTable under the same name.
_TABLE_API_PROPERTIES = (
    "AttributeDefinitions",
    "KeySchema",
    "BillingMode",
    "ProvisionedThroughput",
    "GlobalSecondaryIndexes",
)
_TABLE_USED = ("TableName", "TimeToLiveSpecification", *_TABLE_API_PROPERTIES)
# Table properties deliberately not applied to local engines (not resolved either).
_TABLE_LOCAL_SKIPPED = frozenset(
    {"PointInTimeRecoverySpecification", "DeletionProtectionEnabled", "SSESpecification", "Tags"}
)
# CloudFormation queue properties that map 1:1 onto SQS queue attributes.
_QUEUE_ATTRIBUTES: tuple[QueueAttributeNameType, ...] = (
    "FifoQueue",
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "FifoThroughputLimit",
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
)
_QUEUE_USED = ("QueueName", "RedrivePolicy", *_QUEUE_ATTRIBUTES)
# Queue properties deliberately not applied to local engines (not resolved either).
_QUEUE_LOCAL_SKIPPED = frozenset({"SqsManagedSseEnabled", "Tags"})
_RESOURCE_KEYS = frozenset({"Type", "Properties", "DeletionPolicy", "UpdateReplacePolicy"})
# Resource types deliberately not created locally (not resolved either).
_LOCAL_SKIPPED_TYPES = ("AWS::CloudWatch::Alarm", "AWS::IAM::", "AWS::SNS::")
"""Only in a real account: alarms, roles, and the notification topic (locally, notices are
logged: chalicelib/adapters/push.py)."""

_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


class TemplateError(ValueError):
    """The template uses a construct this module does not understand."""


@dataclass(frozen=True)
class DataPlane:
    platform_table: str
    journal_table: str
    settlement_queue_url: str
    settlement_dlq_url: str
    sweep_queue_url: str
    sweep_dlq_url: str
    liquidation_queue_url: str
    liquidation_dlq_url: str
    complaint_queue_url: str
    complaint_dlq_url: str


def load_template(path: Path = DEFAULT_TEMPLATE) -> dict[str, Any]:
    """Read the CloudFormation template (long-form intrinsics only, so a safe loader works):
    a copy of its parse, kept while the file is unchanged (every test's province reads it)."""
    stamp = path.stat().st_mtime_ns
    parsed = _parsed.get(path)
    if parsed is None or parsed[0] != stamp:
        with path.open(encoding="utf-8") as handle:
            document = yaml.load(handle, Loader=SAFE_LOADER)
        if not isinstance(document, dict) or not isinstance(document.get("Resources"), dict):
            raise TemplateError(f"{path}: not a CloudFormation template with Resources")
        parsed = _parsed[path] = (stamp, document)
    return copy.deepcopy(parsed[1])


SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader where PyYAML was built with it (its wheels are), else Python's."""
_parsed: dict[Path, tuple[int, dict[str, Any]]] = {}


def create_data_plane(
    dynamodb_client: DynamoDBClient,
    sqs_client: SQSClient,
    stage: str,
    *,
    template: dict[str, Any] | None = None,
) -> DataPlane:
    """Create (or complete) every table and queue of the template for ``stage``. Idempotent."""
    doc = load_template() if template is None else template
    resources: dict[str, Any] = doc["Resources"]
    for logical_id, resource in resources.items():
        _check_resource(logical_id, resource)
    params = {"Stage": stage}

    tables: dict[str, str] = {}
    for logical_id, resource in resources.items():
        if resource["Type"] == TABLE_TYPE:
            tables[logical_id] = _ensure_table(
                dynamodb_client, logical_id, resource.get("Properties", {}), params
            )

    queues = _QueueBuilder(sqs_client, resources, params)
    for logical_id, resource in resources.items():
        if resource["Type"] == QUEUE_TYPE:
            queues.ensure(logical_id)

    return DataPlane(
        platform_table=_lookup(tables, "PlatformTable"),
        journal_table=_lookup(tables, "JournalTable"),
        settlement_queue_url=_lookup(queues.urls, "SettlementQueue"),
        settlement_dlq_url=_lookup(queues.urls, "SettlementDeadLetterQueue"),
        sweep_queue_url=_lookup(queues.urls, "SweepQueue"),
        sweep_dlq_url=_lookup(queues.urls, "SweepDeadLetterQueue"),
        liquidation_queue_url=_lookup(queues.urls, "LiquidationQueue"),
        liquidation_dlq_url=_lookup(queues.urls, "LiquidationDeadLetterQueue"),
        complaint_queue_url=_lookup(queues.urls, "ComplaintQueue"),
        complaint_dlq_url=_lookup(queues.urls, "ComplaintDeadLetterQueue"),
    )


# --- template resolution ---------------------------------------------------------------------


def _check_resource(logical_id: str, resource: Any) -> None:
    if not isinstance(resource, dict):
        raise TemplateError(f"{logical_id}: resource must be a mapping")
    if str(resource.get("Type")).startswith(_LOCAL_SKIPPED_TYPES):
        return
    if resource.get("Type") not in (TABLE_TYPE, QUEUE_TYPE):
        raise TemplateError(f"{logical_id}: unsupported resource type {resource.get('Type')!r}")
    unknown = set(resource) - _RESOURCE_KEYS
    if unknown:
        raise TemplateError(f"{logical_id}: unsupported resource keys {sorted(unknown)}")


def _resolve(value: Any, params: Mapping[str, str], arns: Mapping[str, str]) -> Any:
    """Resolve the intrinsic functions the template uses; reject every other one."""
    if isinstance(value, list):
        return [_resolve(item, params, arns) for item in value]
    if not isinstance(value, dict):
        return value
    intrinsics = [key for key in value if key == "Ref" or key.startswith("Fn::")]
    if not intrinsics:
        return {key: _resolve(item, params, arns) for key, item in value.items()}
    if len(value) != 1:
        raise TemplateError(f"intrinsic function mixed with other keys: {value!r}")
    name, arg = next(iter(value.items()))
    if name == "Fn::Sub" and isinstance(arg, str):
        return _SUB_VARIABLE.sub(lambda match: _parameter(match.group(1), params), arg)
    if name == "Ref" and isinstance(arg, str):
        return _parameter(arg, params)
    if (
        name == "Fn::GetAtt"
        and isinstance(arg, list)
        and len(arg) == 2
        and arg[1] == "Arn"
        and arg[0] in arns
    ):
        return arns[arg[0]]
    raise TemplateError(f"unsupported intrinsic function for local creation: {value!r}")


def _parameter(name: str, params: Mapping[str, str]) -> str:
    if name not in params:
        raise TemplateError(f"cannot resolve ${{{name}}}: only {sorted(params)} are supported")
    return params[name]


def _used_properties(
    logical_id: str, props: Any, used: tuple[str, ...], skipped: frozenset[str]
) -> dict[str, Any]:
    """The properties applied locally; unknown properties are an error, not silently dropped."""
    if not isinstance(props, dict):
        raise TemplateError(f"{logical_id}: Properties must be a mapping")
    unknown = set(props) - set(used) - skipped
    if unknown:
        raise TemplateError(f"{logical_id}: unsupported properties {sorted(unknown)}")
    return {key: value for key, value in props.items() if key in used}


def _lookup(created: Mapping[str, str], logical_id: str) -> str:
    if logical_id not in created:
        raise TemplateError(f"template has no resource {logical_id!r} of the expected type")
    return created[logical_id]


# --- DynamoDB ----------------------------------------------------------------------------------


def _ensure_table(
    client: DynamoDBClient, logical_id: str, props: Any, params: Mapping[str, str]
) -> str:
    used = _used_properties(logical_id, props, _TABLE_USED, _TABLE_LOCAL_SKIPPED)
    resolved: dict[str, Any] = _resolve(used, params, {})
    name = resolved.get("TableName")
    if not isinstance(name, str):
        raise TemplateError(f"{logical_id}: TableName must resolve to a string")
    request = {key: resolved[key] for key in _TABLE_API_PROPERTIES if key in resolved}

    try:
        existing = client.describe_table(TableName=name)["Table"]
    except client.exceptions.ResourceNotFoundException:
        log.info("creating table %s", name)
        client.create_table(TableName=name, **request)
        client.get_waiter("table_exists").wait(TableName=name)
    else:
        have = {index["IndexName"] for index in existing.get("GlobalSecondaryIndexes", [])}
        for index in request.get("GlobalSecondaryIndexes", []):
            if index["IndexName"] in have:
                continue
            # One index per UpdateTable call: real DynamoDB refuses more.
            log.info("adding index %s to table %s", index["IndexName"], name)
            keys = {key["AttributeName"] for key in index["KeySchema"]}
            client.update_table(
                TableName=name,
                AttributeDefinitions=[
                    attr
                    for attr in request["AttributeDefinitions"]
                    if attr["AttributeName"] in keys
                ],
                GlobalSecondaryIndexUpdates=[{"Create": index}],
            )

    ttl = resolved.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        _enable_ttl(client, name, ttl["AttributeName"])
    return name


def _enable_ttl(client: DynamoDBClient, table: str, attribute: str) -> None:
    try:
        current = client.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
        if current.get("TimeToLiveStatus") in ("ENABLED", "ENABLING"):
            return
        client.update_time_to_live(
            TableName=table,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": attribute},
        )
    except ClientError as error:  # engines without TTL support
        log.warning("could not enable TTL on %s: %s", table, error)


# --- SQS ---------------------------------------------------------------------------------------


def _attribute_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class _QueueBuilder:
    """Creates queues in dependency order (a dead-letter queue before the queues using it)."""

    def __init__(
        self, client: SQSClient, resources: Mapping[str, Any], params: Mapping[str, str]
    ) -> None:
        self._client = client
        self._resources = resources
        self._params = params
        self._in_progress: set[str] = set()
        self.urls: dict[str, str] = {}
        self.arns: dict[str, str] = {}

    def ensure(self, logical_id: str) -> str:
        if logical_id in self.urls:
            return self.urls[logical_id]
        resource = self._resources.get(logical_id)
        if not isinstance(resource, dict) or resource.get("Type") != QUEUE_TYPE:
            raise TemplateError(f"{logical_id!r} is not an {QUEUE_TYPE} in the template")
        if logical_id in self._in_progress:
            raise TemplateError(f"{logical_id}: circular RedrivePolicy")
        self._in_progress.add(logical_id)

        props = resource.get("Properties", {})
        used = _used_properties(logical_id, props, _QUEUE_USED, _QUEUE_LOCAL_SKIPPED)
        for dependency in _getatt_targets(used.get("RedrivePolicy")):
            self.ensure(dependency)
        resolved: dict[str, Any] = _resolve(used, self._params, self.arns)

        name = resolved.get("QueueName")
        if not isinstance(name, str):
            raise TemplateError(f"{logical_id}: QueueName must resolve to a string")
        attributes: dict[QueueAttributeNameType, str] = {
            key: _attribute_value(resolved[key]) for key in _QUEUE_ATTRIBUTES if key in resolved
        }
        if attributes.get("FifoQueue") == "false":
            del attributes["FifoQueue"]  # SQS only accepts FifoQueue=true
        if "RedrivePolicy" in resolved:
            attributes["RedrivePolicy"] = json.dumps(resolved["RedrivePolicy"])

        try:
            url = self._client.get_queue_url(QueueName=name)["QueueUrl"]
        except self._client.exceptions.QueueDoesNotExist:
            log.info("creating queue %s", name)
            url = self._client.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]

        arn = self._client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        self.arns[logical_id] = arn["Attributes"]["QueueArn"]
        self.urls[logical_id] = url
        self._in_progress.discard(logical_id)
        return url


def _getatt_targets(value: Any) -> list[str]:
    """Logical ids named by ``Fn::GetAtt`` anywhere inside ``value``."""
    if isinstance(value, list):
        return [target for item in value for target in _getatt_targets(item)]
    if not isinstance(value, dict):
        return []
    found: list[str] = []
    for key, item in value.items():
        if key == "Fn::GetAtt" and isinstance(item, list) and item:
            found.append(str(item[0]))
        else:
            found.extend(_getatt_targets(item))
    return found
