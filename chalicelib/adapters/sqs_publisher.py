"""Publishes follow-up work to the FIFO queues.

Settlement: group = order, deduplication = consumption and attempt (and a re-drive token).
Sweeps: group = job and shard (one shard is swept by one worker at a time), deduplication =
the task itself.
"""

from __future__ import annotations

import hashlib
from typing import Any

from chalicelib.service.messages import SettlementMessage, SweepMessage
from chalicelib.service.ports import SweepTask


class SqsPublisher:
    def __init__(self, sqs_client: Any, settlement_queue_url: str, sweep_queue_url: str) -> None:
        self.sqs = sqs_client
        self.settlement_queue_url = settlement_queue_url
        self.sweep_queue_url = sweep_queue_url

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
