"""Publishes settlement work to the FIFO queue: group = order, deduplication = consumption."""

from __future__ import annotations

from typing import Any

from chalicelib.service.messages import SettlementMessage


class SqsPublisher:
    def __init__(self, sqs_client: Any, settlement_queue_url: str) -> None:
        self.sqs = sqs_client
        self.settlement_queue_url = settlement_queue_url

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
