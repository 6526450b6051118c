"""Counts the AWS API calls one lesson's full cycle costs, step by step.

    .venv/bin/python -m benchmarks.lesson_cycle_calls

Runs the real app, worker and sandbox bank in-process on moto (the count of calls does not
depend on the engine) and counts every DynamoDB and SQS request the platform's code makes for
one attending order: record the lesson, the parent confirms, the settlement worker releases,
the bank's confirmation is applied. The queue's own receive/delete (done by Lambda's event
source mapping in the cloud, by the harness here) are listed apart, not counted.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from typing import Any

import boto3
from moto import mock_aws

from chalicelib.adapters.clock import ManualClock
from infra.resources import create_data_plane
from tests.conftest import START
from tests.support import flows
from tests.support.harness import start

EVENT_SOURCE_MAPPING_CALLS = {"ReceiveMessage", "DeleteMessage", "ChangeMessageVisibility"}


class CallCounter:
    def __init__(self, *clients: Any) -> None:
        self.calls: Counter[str] = Counter()
        for client in clients:
            client.meta.events.register("before-call.*.*", self._count)

    def _count(self, model: Any, **_: Any) -> None:
        self.calls[f"{model.service_model.service_name}.{model.name}"] += 1

    def measure(self, step: Callable[[], Any]) -> Counter[str]:
        self.calls.clear()
        step()
        return Counter(self.calls)


def report(counter: CallCounter, steps: list[tuple[str, Callable[[], Any]]], whole: str
           ) -> int:
    """Run each step, print the platform's calls it made (the event source mapping's apart)
    and the total; the total."""
    total = 0
    for title, step in steps:
        calls = counter.measure(step)
        platform_calls = {k: v for k, v in calls.items()
                          if k.split(".")[1] not in EVENT_SOURCE_MAPPING_CALLS}
        queue_calls = {k: v for k, v in calls.items() if k not in platform_calls}
        count = sum(platform_calls.values())
        total += count
        detail = ", ".join(f"{k} x{v}" for k, v in sorted(platform_calls.items()))
        print(f"{title:50s} {count:3d}  {detail}")
        if queue_calls:
            print(f"{'':50s}      (event source mapping: {dict(sorted(queue_calls.items()))})")
    print(f"{whole:50s} {total:3d}")
    return total


def main() -> None:
    for name, value in {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x",
                        "AWS_DEFAULT_REGION": "cn-north-1"}.items():
        os.environ.setdefault(name, value)
    with mock_aws():
        dynamodb, sqs = boto3.client("dynamodb"), boto3.client("sqs")
        plane = create_data_plane(dynamodb, sqs, "bench")
        p = start(dynamodb, sqs, plane, ManualClock(START))
        shop = flows.open_shop(p, price=15_000)
        fam = flows.family(p)
        order = flows.buy_and_pay(p, shop, fam, lessons=10)
        counter = CallCounter(dynamodb, sqs)
        recorded: dict[str, Any] = {}
        steps: list[tuple[str, Callable[[], Any]]] = [
            ("record lesson (POST /v1/lessons)",
             lambda: recorded.update(flows.record_lesson(p, shop, [order["order_id"]]))),
            ("confirm (POST /v1/consumptions/{id}/confirm)",
             lambda: flows.confirm(p, fam, recorded["consumptions"][0]["consumption_id"])),
            ("release (settlement worker)", p.drain_settlement),
            ("bank confirmation (POST /v1/bank/notifications)", p.bank.deliver_pending),
        ]
        report(counter, steps, "one lesson, full cycle")
        seen = flows.order_of(p, fam.parent, order["order_id"])
        assert seen["released_fen"] == 15_000, seen


if __name__ == "__main__":
    main()
