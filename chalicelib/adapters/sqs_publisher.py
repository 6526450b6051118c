"""Publishes follow-up work to the FIFO queues.

Settlement: group = order, deduplication = consumption and attempt (and a re-drive token).
Sweeps: group = job and shard (one shard is swept by one worker at a time), deduplication =
the task itself. Liquidation (a standard queue): one message per order, in batches of 10.
Complaints (a standard queue): one message per complaint to route.
"""

from __future__ import annotations

import hashlib
from typing import Any

from chalicelib.service.jobs.messages import (
    ComplaintMessage,
    LiquidationMessage,
    SettlementMessage,
    SweepMessage,
)
from chalicelib.service.ports import SweepTask

BATCH = 10  # SQS's most messages per SendMessageBatch


class QueueNotReached(Exception):
    """SQS did not take every message of a batch."""


class SqsPublisher:
    def __init__(self, sqs_client: Any, settlement_queue_url: str, sweep_queue_url: str,
                 liquidation_queue_url: str, complaint_queue_url: str) -> None:
        self.sqs = sqs_client
        self.settlement_queue_url = settlement_queue_url
        self.sweep_queue_url = sweep_queue_url
        self.liquidation_queue_url = liquidation_queue_url
        self.complaint_queue_url = complaint_queue_url

    def publish_settlement(
        self, order_id: str, consumption_id: str, attempt: int, *, redrive: str = ""
    ) -> None:
        message = SettlementMessage(
            order_id=order_id, consumption_id=consumption_id, attempt=attempt
        )
        deduplication_id = f"{consumption_id}-{attempt}" + (f"-{redrive}" if redrive else "")
        self.sqs.send_message(
            QueueUrl=self.settlement_queue_url,
            MessageBody=message.model_dump_json(),
            MessageGroupId=order_id,
            MessageDeduplicationId=deduplication_id,
        )

    def publish_sweep(self, task: SweepTask) -> None:
        body = SweepMessage.of(task).model_dump_json()
        self.sqs.send_message(
            QueueUrl=self.sweep_queue_url,
            MessageBody=body,
            MessageGroupId=f"{task.job}-{task.shard}",
            MessageDeduplicationId=hashlib.sha256(body.encode()).hexdigest(),
        )

    def publish_liquidation(self, institution_id: str, order_ids: list[str]) -> None:
        for start in range(0, len(order_ids), BATCH):
            entries = [
                {"Id": str(n), "MessageBody": LiquidationMessage(
                    institution_id=institution_id, order_id=order_id).model_dump_json()}
                for n, order_id in enumerate(order_ids[start:start + BATCH])
            ]
            response = self.sqs.send_message_batch(QueueUrl=self.liquidation_queue_url,
                                                   Entries=entries)
            if response.get("Failed"):
                raise QueueNotReached(f"liquidation messages not queued: {response['Failed']}")

    def publish_complaint(self, complaint_id: str) -> None:
        body = ComplaintMessage(complaint_id=complaint_id).model_dump_json()
        self.sqs.send_message(QueueUrl=self.complaint_queue_url, MessageBody=body)
