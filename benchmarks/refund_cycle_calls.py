"""Counts the AWS API calls one refund costs, from the parent's request to the bank's
confirmation, step by step.

    .venv/bin/python -m benchmarks.refund_cycle_calls

As benchmarks/lesson_cycle_calls.py (in-process on moto; the count of calls does not depend
on the engine): an order of 10 lessons with one taught and confirmed, then the parent asks for
the rest back, the institution approves (which reserves the payout and instructs the bank in
the same request) and the bank's signed `transfer_succeeded` is applied.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import boto3
from moto import mock_aws

from benchmarks.lesson_cycle_calls import CallCounter, report
from chalicelib.adapters.clock import ManualClock
from infra.resources import create_data_plane
from tests.conftest import START
from tests.support import flows
from tests.support.harness import start

PRICE = 15_000


def main() -> None:
    for name, value in {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x",
                        "AWS_DEFAULT_REGION": "cn-north-1"}.items():
        os.environ.setdefault(name, value)
    with mock_aws():
        dynamodb, sqs = boto3.client("dynamodb"), boto3.client("sqs")
        plane = create_data_plane(dynamodb, sqs, "bench")
        p = start(dynamodb, sqs, plane, ManualClock(START))
        shop = flows.open_shop(p, price=PRICE)
        fam = flows.family(p)
        order = flows.buy_and_pay(p, shop, fam, lessons=10)
        taught = flows.record_lesson(p, shop, [order["order_id"]])["consumptions"][0]
        flows.confirm(p, fam, taught["consumption_id"])
        p.settle_everything()
        counter = CallCounter(dynamodb, sqs)
        asked: dict[str, Any] = {}

        def ask() -> None:
            reply = p.post(f"/v1/orders/{order['order_id']}/refund-requests", fam.parent,
                           {"reason": "孩子转学了"})
            assert reply.status == 201, reply.body
            asked.update(reply.body)

        def approve() -> None:
            reply = p.post(f"/v1/refund-requests/{asked['refund_id']}/approve", shop.staff, {})
            assert reply.status == 200 and reply.body["status"] == "refunding", reply.body

        steps: list[tuple[str, Callable[[], Any]]] = [
            ("ask (POST /v1/orders/{id}/refund-requests)", ask),
            ("approve and instruct (POST .../approve)", approve),
            ("bank confirmation (POST /v1/bank/notifications)", p.bank.deliver_pending),
        ]
        report(counter, steps, "one refund, request to bank confirmation")
        seen = flows.order_of(p, fam.parent, order["order_id"])
        assert (seen["status"], seen["refunded_fen"]) == ("completed", 9 * PRICE), seen


if __name__ == "__main__":
    main()
