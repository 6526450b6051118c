"""How long a liquidation of an institution's orders takes on DynamoDB Local, from the
regulator's request to the last refund paid back, and what it costs per order.

    .venv/bin/python -m benchmarks.liquidation_time                  # 500 orders, 8 workers
    .venv/bin/python -m benchmarks.liquidation_time --orders 5000 --workers 4

The institution's paid orders are loaded straight into the tables as the platform writes
them (benchmarks/schedule_throughput.py), one in five with a lesson pending confirmation
(which the liquidation returns). Then the real handlers run it, as Lambda would, on a
platform clock that moves at real speed (the listing's 3-minute wait is skipped by moving
it): the settlement sweeper lists the orders onto the liquidation queue, `--workers` threads
run the liquidation worker (batches of 10), as many run the sweep worker, the sandbox bank
executes each refund and as many threads apply its signed callbacks through the app. It
prints the time until every order is done and until every refund is paid, the AWS calls
per order, and checks the progress, every order and the bank against the ledger.
"""

from __future__ import annotations

import argparse
import threading
import time
from dataclasses import replace
from datetime import timedelta
from typing import Any

from benchmarks.schedule_throughput import (
    LESSONS_PER_ORDER,
    PRICE,
    Callbacks,
    Calls,
    batch_write,
    consumers,
    paid_order,
    pending,
    province,
)
from chalicelib import bootstrap
from chalicelib.adapters.dynamo import records
from chalicelib.domain.institutions.catalog import Department
from chalicelib.domain.institutions.liquidation import LIST_AFTER, WATCH_AFTER
from chalicelib.service.caller import Caller, Role
from chalicelib.service.institutions import liquidations
from chalicelib.workers import liquidation as liquidation_worker
from chalicelib.workers import sweeps as sweep_worker
from chalicelib.workers.schedules import settlement_sweeper
from infra.local.scheduler import scheduled_event
from tests.support import flows, invariants
from tests.support.harness import Platform

PAYER = "PAYER-bench"
PENDING_EVERY = 5
REGULATOR = Caller(sub="reg-bench", role=Role.REGULATOR, region="440000",
                   department=Department.EDUCATION)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.liquidation_time")
    parser.add_argument("--orders", type=int, default=500, help="paid orders (default 500)")
    parser.add_argument("--workers", type=int, default=8,
                        help="concurrent invocations of each queue's worker (default 8)")
    args = parser.parse_args()
    with province() as (p, shop):
        began = time.monotonic()
        unconsumed = load_orders(p, shop, args.orders)
        print(f"loaded {args.orders} paid orders ({unconsumed:,} fen unconsumed) in "
              f"{time.monotonic() - began:.1f} s", flush=True)
        run(p, shop, args.orders, args.workers, unconsumed)
        invariants.check_all(p.dynamodb, p.plane, p.bank)
        assert p.bank.balance(PAYER) == unconsumed  # its payments were loaded, not made
        print(f"checked: the progress, every order, its journal and the bank against the "
              f"ledger ({unconsumed:,} fen paid back to the payer)")


def load_orders(p: Platform, shop: flows.Shop, count: int) -> int:
    """Paid orders of LESSONS_PER_ORDER lessons, every PENDING_EVERY-th with one lesson
    pending confirmation (and the unpaid order they are copied from, which the liquidation
    expires); the fen they have unconsumed."""
    template = bootstrap.context().store.order(
        flows.buy(p, shop, flows.family(p), LESSONS_PER_ORDER)["order_id"])
    assert template is not None
    now = p.clock.now()
    items: list[tuple[str, dict[str, Any]]] = []
    for n in range(count):
        recorded = 1 if n % PENDING_EVERY == 0 else 0
        order, entry = paid_order(template, f"ord_{n:026d}", recorded, now)
        order = replace(order, payer_bank_account=PAYER)
        items.append((p.plane.platform_table, records.order(order)))
        items.append((p.plane.journal_table, records.journal_entry(entry)))
        if recorded:
            lesson = pending(order, f"{n:024d}01", 1, now)
            items.append((p.plane.platform_table, records.consumption(lesson)))
    batch_write(p.dynamodb, items)
    p.bank.open_account(shop.supervised_account, LESSONS_PER_ORDER * PRICE * count)
    return LESSONS_PER_ORDER * PRICE * count  # pending lessons are returned: all of it


def run(p: Platform, shop: flows.Shop, orders: int, workers: int, unconsumed: int) -> None:
    calls = Calls(p.dynamodb, p.sqs)
    stop = threading.Event()
    callbacks = Callbacks(p, workers, stop)
    p.deliver_to_platform = callbacks.deliver  # type: ignore[method-assign]
    threads = [
        *consumers(p, stop, workers,
                   (p.plane.liquidation_queue_url, 10, liquidation_worker.process_batch),
                   (p.plane.sweep_queue_url, 1, sweep_worker.process_batch)),
        *callbacks.threads,
    ]
    callbacks.expect(orders)
    listed = orders + 1  # and the unpaid order the paid ones were copied from
    ctx = bootstrap.context()
    began = time.monotonic()
    liquidations.liquidate(ctx, REGULATOR, shop.institution_id, reason="benchmark")
    for thread in threads:
        thread.start()
    p.clock.set(p.clock.now() + LIST_AFTER)  # the listing's wait, skipped
    settlement_sweeper(scheduled_event("settlement_sweeper"), None)
    done_at: float | None = None
    while not callbacks.all_released.wait(2):
        seen = ctx.store.liquidation_progress(shop.institution_id)
        if done_at is None and seen.orders_done == listed:
            done_at = time.monotonic() - began
            print(f"all {listed} orders liquidated in {done_at:.1f} s", flush=True)
        print(f"  {time.monotonic() - began:7.1f} s: {seen.orders_done} orders done, "
              f"{callbacks.released} refunds paid", flush=True)
    paid_at = callbacks.released_at - began
    if done_at is None:  # the last orders and refunds fell between two looks
        print(f"all {listed} orders liquidated by {paid_at:.1f} s")
    p.clock.set(p.clock.now() + WATCH_AFTER + timedelta(seconds=1))
    settlement_sweeper(scheduled_event("settlement_sweeper"), None)
    liquidation, seen = _completed(ctx, shop.institution_id)
    stop.set()
    for thread in threads:
        thread.join()
    print(f"every refund paid back {paid_at:.1f} s after the request "
          f"({orders / paid_at * 3600:,.0f} orders per hour with {workers} workers); "
          f"status {liquidation.status}: {seen.orders_done} orders, "
          f"{seen.fen_refunded:,} of {seen.fen_to_refund:,} fen")
    assert liquidation.status == "completed"
    assert (seen.orders_done, seen.fen_to_refund, seen.fen_refunded) == (
        listed, unconsumed, unconsumed)
    per_order = ", ".join(f"{name} {count / orders:.2f}"
                          for name, count in sorted(calls.counts.items()))
    print(f"AWS calls per order: {sum(calls.counts.values()) / orders:.1f} ({per_order})")


def _completed(ctx: Any, institution_id: str) -> Any:
    """The liquidation once its look after the last refund has completed it."""
    deadline = time.monotonic() + 60
    while True:
        liquidation = ctx.store.liquidation(institution_id)
        seen = ctx.store.liquidation_progress(institution_id)
        if liquidation.status == "completed" or time.monotonic() > deadline:
            return liquidation, seen
        time.sleep(0.5)


if __name__ == "__main__":
    main()
