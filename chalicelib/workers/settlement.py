"""The settlement queue consumer: each message drives one consumption's release a step
further (chalicelib/service/escrow/settlement.py), in FIFO order per order."""

from __future__ import annotations

import os
from typing import Any

from chalice.app import Blueprint, SQSEvent

from chalicelib import bootstrap
from chalicelib.service.escrow import settlement
from chalicelib.service.jobs.messages import SettlementMessage
from chalicelib.workers.batches import handle_in_order

settlement_worker = Blueprint(__name__)

QUEUE_NAME = os.environ.get("SETTLEMENT_QUEUE_NAME", "local-settlement.fifo")


@settlement_worker.on_sqs_message(queue=QUEUE_NAME, batch_size=10, name="settlement")
def handle_settlement(event: SQSEvent) -> dict[str, Any]:
    return process_batch(event.to_dict().get("Records", []))


def process_batch(records: list[dict[str, Any]]) -> dict[str, Any]:
    ctx = bootstrap.context()
    return handle_in_order(
        records, SettlementMessage, lambda message: settlement.settle(ctx, message.consumption_id)
    )
