"""The settlement queue consumer, with the semantics of a Lambda SQS event source mapping.

Long-polls the FIFO queue, hands each batch to the settlement worker as Lambda-shaped
records, deletes what succeeded and, as ReportBatchItemFailures does, leaves the reported
failures on the queue: they come back after a short backoff (longer with each receive) and
move to the dead-letter queue after the queue's maxReceiveCount.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from infra.local.config import AWS_REGION

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef

log = logging.getLogger(__name__)

BatchHandler = Callable[[list[dict[str, Any]]], dict[str, Any]]

MAX_MESSAGES = 10
WAIT_SECONDS = 1
MAX_BACKOFF_SECONDS = 60
ERROR_PAUSE_SECONDS = 1.0


def lambda_record(message: MessageTypeDef, queue_arn: str) -> dict[str, Any]:
    """One SQS message as a record of the event Lambda would deliver."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": {},
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": AWS_REGION,
    }


def backoff_seconds(receive_count: int) -> int:
    """1, 2, 4, ... seconds after the 1st, 2nd, 3rd ... failed receive, at most a minute."""
    return int(min(2 ** max(receive_count - 1, 0), MAX_BACKOFF_SECONDS))


class QueueConsumer:
    def __init__(self, sqs: SQSClient, queue_url: str, handler: BatchHandler) -> None:
        self._sqs = sqs
        self._queue_url = queue_url
        self._handler = handler
        self._queue_arn = sqs.get_queue_attributes(
            QueueUrl=queue_url, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        self._stopped = threading.Event()
        name = queue_url.rsplit("/", 1)[-1]
        self._thread = threading.Thread(target=self._run, name=f"consumer-{name}", daemon=True)

    def start(self) -> None:
        self._thread.start()
        log.info("consuming %s", self._queue_arn)

    def stop(self, timeout: float = 10.0) -> None:
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stopped.is_set():
            try:
                self.poll_once()
            except Exception:
                if self._stopped.is_set():
                    return
                log.exception("polling %s failed; retrying", self._queue_url)
                self._stopped.wait(ERROR_PAUSE_SECONDS)

    def poll_once(self) -> int:
        """Receive one batch (waiting up to a second) and process it; return its size."""
        messages = self._sqs.receive_message(
            QueueUrl=self._queue_url,
            MaxNumberOfMessages=MAX_MESSAGES,
            WaitTimeSeconds=WAIT_SECONDS,
            AttributeNames=["All"],
        ).get("Messages", [])
        if messages:
            self._process(messages)
        return len(messages)

    def _process(self, messages: list[MessageTypeDef]) -> None:
        records = [lambda_record(message, self._queue_arn) for message in messages]
        try:
            response = self._handler(records)
            failed = {item["itemIdentifier"] for item in response.get("batchItemFailures", [])}
        except Exception:
            log.exception("batch handler raised: the whole batch will be redelivered")
            failed = {message["MessageId"] for message in messages}
        for message in messages:
            if message["MessageId"] in failed:
                self._retry_later(message)
            else:
                self._sqs.delete_message(
                    QueueUrl=self._queue_url, ReceiptHandle=message["ReceiptHandle"]
                )

    def _retry_later(self, message: MessageTypeDef) -> None:
        received = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
        delay = backoff_seconds(received)
        log.warning("message %s failed (receive %d): redelivered in %ds",
                    message["MessageId"], received, delay)
        self._sqs.change_message_visibility(
            QueueUrl=self._queue_url,
            ReceiptHandle=message["ReceiptHandle"],
            VisibilityTimeout=delay,
        )
