"""SQS batches with Lambda's partial batch response (ReportBatchItemFailures).

FIFO queues (`handle_in_order`): records are handled in order and handling stops at the
first failure, which is reported with every later record of the batch (to be redelivered,
in order). Standard queues (`handle_each`): every record is handled, and only the ones that
failed are reported. A record that cannot be parsed is a failure too; after the queue's
maxReceiveCount SQS moves it to the dead-letter queue, so it never blocks its message group
(or comes back) forever."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)


def handle_in_order(
    records: list[dict[str, Any]], message_type: type[M], handle: Callable[[M], object]
) -> dict[str, Any]:
    for index, record in enumerate(records):
        try:
            message = message_type.model_validate_json(record["body"])
        except ValidationError:
            log.error("unreadable %s %s", message_type.__name__, record.get("messageId"))
            return _failed_from(records, index)
        try:
            outcome = handle(message)
        except Exception:
            log.exception("%s %s failed", message_type.__name__, record.get("messageId"))
            return _failed_from(records, index)
        if outcome:
            log.info("%s %s: %s", message_type.__name__, record.get("messageId"), outcome)
    return {"batchItemFailures": []}


def handle_each(
    records: list[dict[str, Any]], message_type: type[M], handle: Callable[[M], object]
) -> dict[str, Any]:
    failures: list[dict[str, str]] = []
    for record in records:
        failures += handle_in_order([record], message_type, handle)["batchItemFailures"]
    return {"batchItemFailures": failures}


def _failed_from(records: list[dict[str, Any]], index: int) -> dict[str, Any]:
    return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in records[index:]]}
