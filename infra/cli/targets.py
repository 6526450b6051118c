"""Which stack an ops command talks to: boto3 clients and resource names for a stage.

  --stage local (no --endpoint-url)  the running local stack, found through its run record
                                     (<LOCAL_DATA_DIR>/stack.json), with its fake credentials
  --endpoint-url URL                 one endpoint for DynamoDB and SQS (a moto server, ...)
  any other stage                    the default AWS credentials and region (or --region)

Names follow infra/template.yaml: `<stage>-platform`, `<stage>-journal`,
`<stage>-<queue>.fifo` and its dead-letter queue `<stage>-<queue>-dlq.fifo` (the liquidation
and complaint queues are standard ones: `<stage>-liquidation`, `<stage>-liquidation-dlq`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING

import boto3

from chalicelib import bootstrap
from chalicelib.adapters import ids
from chalicelib.adapters.bank.http_gateway import HttpBankGateway
from chalicelib.adapters.clock import SystemClock
from chalicelib.adapters.dynamo.due import DynamoSchedule
from chalicelib.adapters.dynamo.store import DynamoStore
from chalicelib.adapters.dynamo.tables import Tables
from chalicelib.adapters.metrics import EmbeddedMetrics
from chalicelib.adapters.sqs_publisher import SqsPublisher
from chalicelib.domain.messages.notice import Notice
from chalicelib.domain.supervision.statement import Statement
from chalicelib.service.context import Context
from chalicelib.service.ports import BankRecord, BankUnavailable, Clock, TransferInstruction
from infra.local import runfile
from infra.local.clock import existing
from infra.local.config import AWS_REGION, FAKE_CREDENTIAL, STAGE, data_dir

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_sqs import SQSClient


class Queue(StrEnum):
    settlement = "settlement"
    sweep = "sweep"
    liquidation = "liquidation"
    complaint = "complaint"

    @property
    def fifo(self) -> bool:
        return self in (Queue.settlement, Queue.sweep)


class NoLocalStack(RuntimeError):
    """--stage local without --endpoint-url, and no local stack is running."""


@dataclass(frozen=True)
class Target:
    stage: str
    description: str
    dynamodb: DynamoDBClient
    sqs: SQSClient
    platform_clock: Clock = field(default_factory=SystemClock)
    """The local stack's moved clock (infra/local/clock.py), or the system clock."""
    bank_url: str = ""
    """The custodian bank's instruction API (the local stack's sandbox bank, or
    `--bank-url`), asked what it did with a parked payout's last instruction before ops
    retry it; "" for none (such a retry is then refused)."""

    def queue_name(self, queue: Queue, *, dead_letter: bool = False) -> str:
        suffix = ".fifo" if queue.fifo else ""
        return f"{self.stage}-{queue.value}{'-dlq' if dead_letter else ''}{suffix}"

    def queue_url(self, queue: Queue, *, dead_letter: bool = False) -> str:
        name = self.queue_name(queue, dead_letter=dead_letter)
        return self.sqs.get_queue_url(QueueName=name)["QueueUrl"]

    @property
    def tables(self) -> Tables:
        return Tables(self.dynamodb, f"{self.stage}-platform", f"{self.stage}-journal")

    def store(self) -> DynamoStore:
        return DynamoStore(self.tables)

    def schedule(self) -> DynamoSchedule:
        return DynamoSchedule(self.tables)

    def clock(self) -> Clock:
        return self.platform_clock

    def context(self) -> Context:
        """What an ops command that changes state runs the use cases with. It queues work
        like the platform does; it never instructs the bank, it only asks it what it did
        with an instruction."""
        return Context(
            store=self.store(),
            schedule=self.schedule(),
            bank=_AskingBank(self.bank_url),
            publisher=SqsPublisher(self.sqs, self.queue_url(Queue.settlement),
                                   self.queue_url(Queue.sweep),
                                   self.queue_url(Queue.liquidation),
                                   self.queue_url(Queue.complaint)),
            push=_NoPush(),
            clock=self.clock(),
            metrics=EmbeddedMetrics(self.stage),
            policies=bootstrap.policies(),
            calendar=bootstrap.calendar(),
            new_id=ids.new_id,
            derived_id=ids.derived_id,
            province_code="",
        )


class _NoPush:
    def publish(self, notice: Notice) -> None:
        raise RuntimeError("ops commands leave their notices to the stack's push schedule")


class _AskingBank:
    """The bank as ops commands see it: asked what it did with an instruction (before a
    parked payout is retried) and for its statements (a reconciliation), never instructed
    (ops commands queue work)."""

    def __init__(self, url: str) -> None:
        self._gateway = HttpBankGateway(url) if url else None

    def instruct_transfer(self, instruction: TransferInstruction) -> None:
        raise RuntimeError("ops commands queue settlement work; they never instruct the bank")

    def executed(self, instruction_id: str) -> BankRecord | None:
        return self._asked().executed(instruction_id)

    def statement(self, account: str, day: date) -> Statement:
        return self._asked().statement(account, day)

    def _asked(self) -> HttpBankGateway:
        if self._gateway is None:
            raise BankUnavailable("no bank to ask: pass --bank-url")
        return self._gateway


def connect(stage: str, *, endpoint_url: str | None = None, region: str | None = None,
            bank_url: str | None = None) -> Target:
    if endpoint_url:
        session = _session(stage, region)
        return Target(stage, f"stage {stage} at {endpoint_url}",
                      session.client("dynamodb", endpoint_url=endpoint_url),
                      session.client("sqs", endpoint_url=endpoint_url),
                      bank_url=bank_url or "")
    if stage == STAGE:
        return _running_local_stack(region, bank_url)
    session = boto3.session.Session(region_name=region)
    return Target(stage, f"stage {stage} in {session.region_name or 'the default region'}",
                  session.client("dynamodb"), session.client("sqs"), bank_url=bank_url or "")


def _running_local_stack(region: str | None, bank_url: str | None) -> Target:
    folder = data_dir()
    record = runfile.read(folder)
    if record is None or not (record.dynamodb_url and record.sqs_url):
        raise NoLocalStack(
            f"no local stack is running ({runfile.path(folder)} not found): start it with "
            "`make run`, or pass --endpoint-url"
        )
    session = _session(STAGE, region)
    return Target(
        STAGE,
        f"the local stack ({record.engine}: tables {record.dynamodb_url}, queues "
        f"{record.sqs_url})",
        session.client("dynamodb", endpoint_url=record.dynamodb_url),
        session.client("sqs", endpoint_url=record.sqs_url),
        existing(folder) or SystemClock(),
        bank_url or record.bank_url,
    )


def _session(stage: str, region: str | None) -> boto3.session.Session:
    """The local stack's fake credentials (DynamoDB Local keeps a database per access key and
    region); for other stages behind an endpoint, the default credential chain."""
    if stage == STAGE:
        return boto3.session.Session(
            aws_access_key_id=FAKE_CREDENTIAL, aws_secret_access_key=FAKE_CREDENTIAL,
            region_name=region or AWS_REGION,
        )
    return boto3.session.Session(region_name=region)
