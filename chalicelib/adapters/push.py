"""Where notices go after the inbox: the push-notification service.

In a province stack, an SNS topic (`NOTIFICATION_TOPIC_ARN`, infra/template.yaml) that the
push service subscribes to; each message carries the notice id as its deduplication key
(the outbox delivers at least once). Without a topic (local, dev, tests) notices are logged,
and kept in memory for whoever asks (`LoggedPush.sent`).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from chalicelib.adapters.dynamo.codec import encode
from chalicelib.domain.messages.notice import Notice

log = logging.getLogger(__name__)


def payload(notice: Notice) -> str:
    body = encode(notice)
    body.pop("read_at", None)
    return json.dumps(body, ensure_ascii=False, sort_keys=True)


class SnsPush:
    def __init__(self, sns_client: Any, topic_arn: str) -> None:
        self.sns = sns_client
        self.topic_arn = topic_arn

    def publish(self, notice: Notice) -> None:
        self.sns.publish(
            TopicArn=self.topic_arn,
            Message=payload(notice),
            MessageAttributes={
                "notice_id": {"DataType": "String", "StringValue": notice.notice_id},
                "event": {"DataType": "String", "StringValue": notice.event.value},
                "recipient": {"DataType": "String", "StringValue": notice.recipient},
            },
        )


class LoggedPush:
    """No push service: each notice is logged and remembered (the most recent 1,000)."""

    KEPT = 1000

    def __init__(self) -> None:
        self.sent: list[Notice] = []

    def publish(self, notice: Notice) -> None:
        log.info("push %s", payload(notice))
        self.sent = [*self.sent[-(self.KEPT - 1):], notice]
