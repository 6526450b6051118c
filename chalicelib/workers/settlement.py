"""The settlement queue consumer, with Lambda's partial batch response.

FIFO semantics: records of one order arrive in order, so processing stops at the first
failure and every record from there on is reported failed (to be redelivered in order).
A record that cannot be parsed is reported failed too; after the queue's maxReceiveCount it
moves to the dead-letter queue, so it never blocks its order forever.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from chalice.app import Blueprint, SQSEvent
from pydantic import ValidationError

from chalicelib import bootstrap
from chalicelib.service import settlement
from chalicelib.service.messages import SettlementMessage

log = logging.getLogger(__name__)

settlement_worker = Blueprint(__name__)

QUEUE_NAME = os.environ.get("SETTLEMENT_QUEUE_NAME", "local-settlement.fifo")


@settlement_worker.on_sqs_message(queue=QUEUE_NAME, batch_size=10, name="settlement")
def handle_settlement(event: SQSEvent) -> dict[str, Any]:
    return process_batch(event.to_dict().get("Records", []))


def process_batch(records: list[dict[str, Any]]) -> dict[str, Any]:
    ctx = bootstrap.context()
    for index, record in enumerate(records):
        try:
            message = SettlementMessage.model_validate_json(record["body"])
            outcome = settlement.settle(ctx, message.consumption_id)
            log.info("settled %s: %s", message.consumption_id, outcome)
        except ValidationError:
            log.error("unreadable settlement message %s", record.get("messageId"))
            return _failed_from(records, index)
        except Exception:
            log.exception("settlement message %s failed", record.get("messageId"))
            return _failed_from(records, index)
    return {"batchItemFailures": []}


def _failed_from(records: list[dict[str, Any]], index: int) -> dict[str, Any]:
    return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in records[index:]]}
