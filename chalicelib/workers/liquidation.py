"""The liquidation queue consumer: each message liquidates one order of a liquidating
institution (chalicelib/service/institutions/liquidation_orders.py). A standard queue: messages come
in any order and at least once, and each is handled on its own."""

from __future__ import annotations

import os
from typing import Any

from chalice.app import Blueprint, SQSEvent

from chalicelib import bootstrap
from chalicelib.service.institutions import liquidation_orders
from chalicelib.service.jobs.messages import LiquidationMessage
from chalicelib.workers.batches import handle_each

liquidation_worker = Blueprint(__name__)

QUEUE_NAME = os.environ.get("LIQUIDATION_QUEUE_NAME", "local-liquidation")


@liquidation_worker.on_sqs_message(queue=QUEUE_NAME, batch_size=10, name="liquidation")
def handle_liquidation(event: SQSEvent) -> dict[str, Any]:
    return process_batch(event.to_dict().get("Records", []))


def process_batch(records: list[dict[str, Any]]) -> dict[str, Any]:
    ctx = bootstrap.context()
    return handle_each(
        records, LiquidationMessage,
        lambda message: liquidation_orders.liquidate(ctx, message.institution_id,
                                                     message.order_id),
    )
