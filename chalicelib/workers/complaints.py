"""The complaint queue consumer: each message routes one filed complaint to its competent
department (chalicelib/service/complaints/complaint_routing.py). A standard queue: at least once, in
any order; a redelivery finds the complaint routed and changes nothing."""

from __future__ import annotations

import os
from typing import Any

from chalice.app import Blueprint, SQSEvent

from chalicelib import bootstrap
from chalicelib.service.complaints import complaint_routing
from chalicelib.service.jobs.messages import ComplaintMessage
from chalicelib.workers.batches import handle_each

complaint_worker = Blueprint(__name__)

QUEUE_NAME = os.environ.get("COMPLAINT_QUEUE_NAME", "local-complaint")


@complaint_worker.on_sqs_message(queue=QUEUE_NAME, batch_size=10, name="complaint")
def handle_complaint(event: SQSEvent) -> dict[str, Any]:
    return process_batch(event.to_dict().get("Records", []))


def process_batch(records: list[dict[str, Any]]) -> dict[str, Any]:
    ctx = bootstrap.context()
    return handle_each(
        records, ComplaintMessage,
        lambda message: complaint_routing.route(ctx, message.complaint_id),
    )
