"""How many due lessons one province's schedules auto-confirm and settle per hour, on
DynamoDB Local, and that a backlog of them drains.

    .venv/bin/python -m benchmarks.schedule_throughput                  # 50,000 due lessons
    .venv/bin/python -m benchmarks.schedule_throughput --lessons 5000 --workers 4

A province's backlog is loaded straight into the tables (BatchWriteItem of the records the
platform writes): `--lessons` consumptions pending confirmation and past their confirm-by day,
five per paid order, each order with its payment in the journal and its money in the sandbox
bank's supervised account. Then the clock moves past the deadline and the real handlers run
it, as Lambda would: the `auto_confirm` scheduled function fans the run out over the sweep
queue, `--workers` threads run the sweep worker (one task per invocation, continuing over the
queue when a task's budget is spent) and as many run the settlement worker on the settlement
queue (batches of 10); the sandbox bank executes each instruction and as many threads apply
its signed callbacks through the app's POST /v1/bank/notifications; the settlement sweeper
runs every minute on a platform clock that moves at real speed. It prints the time to confirm
them all, the time until every one is released, the rates per hour, the AWS calls per lesson,
and checks every order's counters, a sample of journals and the bank's balances against the
ledger.

Engines: DynamoDB Local (full JIT, 3 GiB heap) and moto's SQS server, both on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import queue
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import boto3
from botocore.config import Config

import app as chalice_app
from chalicelib import bootstrap
from chalicelib.adapters.clock import ManualClock
from chalicelib.adapters.dynamo import records
from chalicelib.adapters.dynamo.codec import decode, to_attribute_values
from chalicelib.adapters.dynamo.keys import due_attributes
from chalicelib.domain import ledger
from chalicelib.domain.calendar import business_date
from chalicelib.domain.escrow import invariants
from chalicelib.domain.escrow.bank_signature import sign
from chalicelib.domain.escrow.consumption import Consumption, ConsumptionStatus
from chalicelib.domain.escrow.order import Order, OrderStatus
from chalicelib.domain.money import lesson_price_fen
from chalicelib.workers import settlement as settlement_worker
from chalicelib.workers import sweeps as sweep_worker
from chalicelib.workers.schedules import auto_confirm, settlement_sweeper
from infra import dynamodb_local
from infra.local.api import thread_local_requests
from infra.local.scheduler import scheduled_event
from infra.resources import create_data_plane
from tests.support import flows
from tests.support.harness import BANK_SECRET, Platform, lambda_record, start
from tests.support.invariants import scan

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)
LESSONS_PER_ORDER = 5
PRICE = 10_000
JVM = ["-XX:+UseParallelGC", "-Xms1g", "-Xmx3g"]
JOURNAL_SAMPLE = 500
CALLBACK_TRIES = 50
SWEEPER_SECONDS = 60  # EventBridge runs it every 5 minutes; the run is shorter here


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.schedule_throughput")
    parser.add_argument("--lessons", type=int, default=50_000,
                        help="due lessons in the backlog (default 50,000)")
    parser.add_argument("--workers", type=int, default=8,
                        help="concurrent invocations of each queue's worker (default 8)")
    args = parser.parse_args()
    with province() as (p, shop):
        began = time.monotonic()
        orders = load_backlog(p, shop, args.lessons)
        print(f"loaded {args.lessons} due lessons of {len(orders)} orders in "
              f"{time.monotonic() - began:.1f} s")
        p.clock.set(p.clock.now() + timedelta(days=40))  # past every confirm-by day
        run(p, args.lessons, args.workers)
        verify(p, shop, orders, args.lessons)


@contextmanager
def province() -> Iterator[tuple[Platform, flows.Shop]]:
    """A province on the engines below, on a clock that runs at real speed, with one
    institution selling one course."""
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    for name, value in {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
                        "AWS_DEFAULT_REGION": "cn-north-1"}.items():
        os.environ.setdefault(name, value)
    with engines() as (dynamodb, sqs):
        plane = create_data_plane(dynamodb, sqs, "bench")
        p = start(dynamodb, sqs, plane, RunningClock(START))
        yield p, flows.open_shop(p, price=PRICE)


@contextmanager
def engines() -> Iterator[tuple[Any, Any]]:
    """DynamoDB Local, and moto's SQS server in a process of its own (in this one it would
    compete with the workers for the interpreter lock)."""
    engine = dynamodb_local.start(jvm_options=JVM)
    port = dynamodb_local.free_port()
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p",
                               str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pool = Config(max_pool_connections=64)  # a connection per worker thread, kept
    sqs = boto3.client("sqs", endpoint_url=f"http://127.0.0.1:{port}", config=pool)
    try:
        _wait_until_up(sqs)
        yield boto3.client("dynamodb", endpoint_url=engine.endpoint_url, config=pool), sqs
    finally:
        server.terminate()
        server.wait(10)
        engine.stop()


def _wait_until_up(sqs: Any) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            sqs.list_queues()
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


# ---------------------------------------------------------------- the backlog


def load_backlog(p: Platform, shop: flows.Shop, lessons: int) -> list[str]:
    """Paid orders of LESSONS_PER_ORDER lessons, every lesson recorded and silent past its
    confirm-by day, written as the platform writes them."""
    fam = flows.family(p)
    template = flows.buy(p, shop, fam, LESSONS_PER_ORDER)
    stored = bootstrap.context().store.order(template["order_id"])
    assert stored is not None
    now = p.clock.now()
    items: list[tuple[str, dict[str, Any]]] = []
    order_ids: list[str] = []
    for n in range((lessons + LESSONS_PER_ORDER - 1) // LESSONS_PER_ORDER):
        count = min(LESSONS_PER_ORDER, lessons - n * LESSONS_PER_ORDER)
        order, entry = paid_order(stored, f"ord_{n:026d}", count, now)
        order_ids.append(order.order_id)
        items.append((p.plane.platform_table, records.order(order)))
        items.append((p.plane.journal_table, records.journal_entry(entry)))
        for number in range(1, count + 1):
            consumption = pending(order, f"{n:024d}{number:02d}", number, now)
            item = records.consumption(consumption)
            item.update(due_attributes("autoconfirm", item["pk"], consumption.confirm_deadline))
            items.append((p.plane.platform_table, item))
    batch_write(p.dynamodb, items)
    p.bank.open_account(shop.supervised_account, PRICE * LESSONS_PER_ORDER * len(order_ids))
    return order_ids


def paid_order(
    template: Order, order_id: str, recorded: int, now: datetime
) -> tuple[Order, ledger.JournalEntry]:
    amount = PRICE * LESSONS_PER_ORDER
    entry = ledger.next_entry(
        order_id=order_id, after_seq=0, after_hash="",
        transfer_id=ledger.payment_transfer_id(order_id), phase=ledger.Phase.SINGLE,
        debit_account=ledger.PAYER, credit_account=ledger.supervised_account(
            template.institution_id),
        amount_fen=amount, occurred_at=now.isoformat(), cause=f"btx_{order_id}",
    )
    order = Order(**{
        **template.__dict__, "order_id": order_id, "status": OrderStatus.PAID,
        "amount_fen": amount, "lessons": LESSONS_PER_ORDER, "paid_fen": amount,
        "held_fen": amount, "lessons_remaining": LESSONS_PER_ORDER - recorded,
        "lessons_pending_confirmation": recorded, "journal_seq": entry.seq,
        "journal_head": entry.hash, "paid_at": now,
    })
    return order, entry


def pending(order: Order, serial: str, number: int, now: datetime) -> Consumption:
    recorded = now - timedelta(days=30)
    return Consumption(
        consumption_id=f"con_{serial}", order_id=order.order_id, lesson_id=f"les_{serial}",
        institution_id=order.institution_id, parent_sub=order.parent_sub,
        student_id=order.student_id, course_id=order.course_id, lesson_number=number,
        amount_fen=lesson_price_fen(order.amount_fen, order.lessons, number),
        status=ConsumptionStatus.PENDING_CONFIRMATION, recorded_at=recorded,
        confirm_by=business_date(recorded) + timedelta(days=21), confirm_by_estimated=False,
    )


def batch_write(dynamodb: Any, items: list[tuple[str, dict[str, Any]]]) -> None:
    for first in range(0, len(items), 25):
        requests: dict[str, list[dict[str, Any]]] = {}
        for table, item in items[first:first + 25]:
            requests.setdefault(table, []).append({"PutRequest": {
                "Item": to_attribute_values(item)}})
        while requests:
            requests = dynamodb.batch_write_item(RequestItems=requests).get(
                "UnprocessedItems", {})


# ---------------------------------------------------------------- the run


class Calls:
    """Counts the AWS calls the platform's code makes (not the queues' receive/delete)."""

    IGNORED = frozenset({"ReceiveMessage", "DeleteMessage", "ChangeMessageVisibility", "Scan"})

    def __init__(self, *clients: Any) -> None:
        self.counts: Counter[str] = Counter()
        self.redriven = 0
        self._lock = threading.Lock()
        for client in clients:
            client.meta.events.register("before-call.*.*", self._count)

    def _count(self, model: Any, params: Any = None, **_: Any) -> None:
        if model.name not in self.IGNORED:
            redrive = model.name == "SendMessage" and str(
                (params or {}).get("MessageDeduplicationId", "")).count("-") == 2
            with self._lock:
                self.counts[model.name] += 1
                self.redriven += redrive


class RunningClock(ManualClock):
    """Platform time that runs at real speed from where it is set, so the settlement
    sweeper's grace and backoff pass during the run as they would in a province."""

    def __init__(self, start: datetime) -> None:
        super().__init__(start)
        self._since = time.monotonic()

    def now(self) -> datetime:
        return super().now() + timedelta(seconds=time.monotonic() - self._since)

    def set(self, instant: datetime) -> None:
        super().set(instant)
        self._since = time.monotonic()


class Callbacks:
    """The bank's signed callbacks applied by `workers` threads at once, each through the
    app's POST /v1/bank/notifications (as API Gateway would run them side by side), retried
    until the platform acknowledges them. Every attempt is signed when it is sent, as a bank's
    retry is, so a callback that waited in line is not refused as stale."""

    def __init__(self, p: Platform, workers: int, stop: threading.Event) -> None:
        self._p, self._stop = p, stop
        self._waiting: queue.Queue[bytes] = queue.Queue()
        self._released: set[str] = set()
        self.all_released = threading.Event()
        self.released_at = 0.0
        self._lessons = 0
        self._lock = threading.Lock()
        thread_local_requests(chalice_app.app)  # one request per thread, as in Lambda
        self.threads = [threading.Thread(target=self._apply) for _ in range(workers)]

    def expect(self, lessons: int) -> None:
        self._lessons = lessons

    @property
    def released(self) -> int:
        return len(self._released)

    def deliver(self, body: bytes, headers: dict[str, str]) -> int:
        self._waiting.put(body)
        return 202

    def _apply(self) -> None:
        while not self._stop.is_set():
            try:
                body = self._waiting.get(timeout=0.5)
            except queue.Empty:
                continue
            for _ in range(CALLBACK_TRIES):
                headers = {"Content-Type": "application/json", "X-Bank-Signature": sign(
                    BANK_SECRET, int(self._p.clock.now().timestamp()), body)}
                reply = self._p.client.http.post("/v1/bank/notifications", headers=headers,
                                                 body=body)
                if 200 <= reply.status_code < 300:
                    self._acknowledged(json.loads(body))
                    break
                time.sleep(0.2)
            else:
                print(f"callback refused {CALLBACK_TRIES} times: {reply.body!r}", flush=True)

    def _acknowledged(self, event: dict[str, Any]) -> None:
        """The platform has booked this transfer (now, or already by another path)."""
        if event["type"] != "transfer_succeeded":
            return
        with self._lock:
            self._released.add(event["instruction_id"])
            if len(self._released) == self._lessons and not self.all_released.is_set():
                self.released_at = time.monotonic()
                self.all_released.set()


def run(p: Platform, lessons: int, workers: int) -> None:
    calls = Calls(p.dynamodb, p.sqs)
    stop = threading.Event()
    callbacks = Callbacks(p, workers, stop)
    p.deliver_to_platform = callbacks.deliver  # type: ignore[method-assign]
    threads = [
        *consumers(p, stop, workers, (p.plane.sweep_queue_url, 1, sweep_worker.process_batch),
                   (p.plane.settlement_queue_url, 10, settlement_worker.process_batch)),
        threading.Thread(target=every, args=(SWEEPER_SECONDS, stop, lambda: settlement_sweeper(
            scheduled_event("settlement_sweeper"), None))),
        *callbacks.threads,
    ]
    callbacks.expect(lessons)
    began = time.monotonic()
    auto_confirm(scheduled_event("auto_confirm"), None)  # the scheduled function: fans out
    for thread in threads:
        thread.start()
    confirmed_at: float | None = None
    while not callbacks.all_released.wait(5):
        if confirmed_at is None and not due_left(p):
            confirmed_at = time.monotonic() - began
            print(f"auto-confirmed all {lessons} in {confirmed_at:.1f} s "
                  f"({lessons / confirmed_at * 3600:,.0f} per hour)", flush=True)
        print(f"  {time.monotonic() - began:7.1f} s: {p.bank.instructions_executed()} "
              f"executed by the bank, {callbacks.released} booked as released", flush=True)
    released_at = callbacks.released_at - began
    if confirmed_at is None:  # the last confirmations and releases fell between two looks
        print(f"auto-confirmed all {lessons} by {released_at:.1f} s")
    stop.set()
    for thread in threads:
        thread.join()
    print(f"released all {lessons} in {released_at:.1f} s from the schedule's run "
          f"({lessons / released_at * 3600:,.0f} lessons auto-confirmed and settled per hour)")
    per_lesson = ", ".join(f"{name} {count / lessons:.2f}"
                           for name, count in sorted(calls.counts.items()))
    print(f"AWS calls per lesson: {sum(calls.counts.values()) / lessons:.1f} ({per_lesson})")
    print(f"settlements the sweeper re-drove (their queued message had not finished them): "
          f"{calls.redriven}")


Worker = tuple[str, int, Callable[[list[dict[str, Any]]], dict[str, Any]]]
"""A queue, its batch size and its Lambda's handler."""


def consumers(p: Platform, stop: threading.Event, workers: int, *queues: Worker
              ) -> list[threading.Thread]:
    """`workers` concurrent invocations of each queue's Lambda, and the bank executing
    what they instruct."""
    return [*(threading.Thread(target=consume, args=(p, url, batch, handler, stop))
              for url, batch, handler in queues for _ in range(workers)),
            threading.Thread(target=deliver_callbacks, args=(p, stop))]


def every(seconds: float, stop: threading.Event, job: Callable[[], object]) -> None:
    while not stop.wait(seconds):
        job()


def consume(p: Platform, queue_url: str, batch: int,
            handler: Callable[[list[dict[str, Any]]], dict[str, Any]],
            stop: threading.Event) -> None:
    """One concurrent invocation of a queue's Lambda, again and again, as the event source
    mapping would: delete what succeeded, let the failures come back."""
    while not stop.is_set():
        messages = p.sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=batch,
                                         WaitTimeSeconds=1, AttributeNames=["All"],
                                         VisibilityTimeout=60).get("Messages", [])
        if not messages:
            continue
        failed = {f["itemIdentifier"] for f in handler(
            [lambda_record(m, queue_url) for m in messages])["batchItemFailures"]}
        for message in messages:
            if message["MessageId"] in failed:
                p.sqs.change_message_visibility(QueueUrl=queue_url, VisibilityTimeout=1,
                                                ReceiptHandle=message["ReceiptHandle"])
            else:
                p.sqs.delete_message(QueueUrl=queue_url,
                                     ReceiptHandle=message["ReceiptHandle"])


def deliver_callbacks(p: Platform, stop: threading.Event) -> None:
    while not stop.is_set():
        if not p.bank.deliver_pending():
            time.sleep(0.05)


def due_left(p: Platform) -> bool:
    ctx = bootstrap.context()
    return any(ctx.schedule.due_page("autoconfirm", shard, ctx.now(), 1, None).items
               for shard in range(ctx.schedule.shards))


# ---------------------------------------------------------------- the checks


def verify(p: Platform, shop: flows.Shop, order_ids: list[str], lessons: int) -> None:
    """Every order's counters, a sample of journals, and the bank against the ledger."""
    orders = {o.order_id: o for o in (decode(Order, i) for i in scan(
        p.dynamodb, p.plane.platform_table) if i["sk"] == "#order")}
    released = 0
    for order_id in order_ids:
        order = orders[order_id]
        invariants.check_order(order)
        assert order.lessons_pending_confirmation == 0, order
        released += order.lessons_released
    assert released == lessons, (released, lessons)
    store = bootstrap.context().store
    for order_id in order_ids[:: max(1, len(order_ids) // JOURNAL_SAMPLE)]:
        invariants.check_journal(orders[order_id], store.journal(order_id))
    general = p.bank.balance(shop.general_account)
    assert general == PRICE * lessons, (general, PRICE * lessons)
    left = p.bank.balance(shop.supervised_account)
    assert left == sum(o.held_fen for o in orders.values() if o.order_id in set(order_ids))
    print(f"checked: {len(order_ids)} orders' counters, "
          f"{len(order_ids[:: max(1, len(order_ids) // JOURNAL_SAMPLE)])} journals, the bank "
          f"({general:,} fen released to the general account, exactly {lessons} lessons)")


if __name__ == "__main__":
    main()
