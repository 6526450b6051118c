"""Run a simulation: set up a province on an engine, apply the seed's operations checking
everything after each, then heal every fault, drain the work and check it all ended right.
A failure carries the seed, the step, the operation log, and can be shrunk to fewer ops."""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import app as chalice_app
from chalicelib import bootstrap
from chalicelib.adapters.clock import ManualClock
from infra.local.api import thread_local_requests
from infra.resources import create_data_plane
from tests.simulation import (
    case_transfers,
    checks,
    disputes,
    freezes,
    liquidations,
    onboarding,
    ops,
    payments,
    people,
    refunds,
    system,
)
from tests.simulation.engines import moto_engine
from tests.simulation.ops import Op
from tests.simulation.world import World
from tests.support.harness import start

SHANGHAI = ZoneInfo("Asia/Shanghai")
STARTS = (  # each a few days before a statutory holiday, so deadlines cross it
    datetime(2026, 2, 9, 9, 0, tzinfo=SHANGHAI),   # Spring Festival
    datetime(2026, 4, 27, 9, 0, tzinfo=SHANGHAI),  # Labour Day
    datetime(2026, 6, 15, 9, 0, tzinfo=SHANGHAI),  # Dragon Boat Festival
    datetime(2026, 9, 24, 9, 0, tzinfo=SHANGHAI),  # Mid-Autumn and National Day
)
FIRST_SHOPS = ((60, 10_000, 85, 21, "440106"), (45, 12_500, 85, 1, "440104"),
               (90, 15_000, 20, 7, "440104"))
"""(lesson minutes, price per lesson, days on sale (at most three months: one charge),
weekly timetable slots, region): the third course ends within the run; two are in the
county with its own clocks, one of them taught once a week."""
DRAIN_DAYS = 40
FROZEN_DAYS = 25
"""At the end, before the measures are lifted (when a frozen institution has lessons
pending): longer than most windows of 15 working days, so its lessons see their confirm-by
day pass while frozen."""
LAST_FROZEN_END = datetime(2026, 11, 10, tzinfo=SHANGHAI)
"""Not later: the windows restarted at the lifting must end inside chinese-calendar's data
(2026), which the model counts working days with."""
DRAIN_ROUNDS = 12


@dataclass
class Outcome:
    seed: int
    ops: list[Op]
    steps: int = 0
    failure: str | None = None
    failed_at: int | None = None
    """The index of the op after which a check failed; len(ops) for the end's checks."""
    log: list[str] = field(default_factory=list)
    faults: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def failed(self) -> bool:
        return self.failure is not None

    def report(self, last: int = 25) -> str:
        lines = [f"simulation seed {self.seed} failed after step {self.failed_at} of "
                 f"{len(self.ops)}: {self.failure}",
                 f"replay: make simulate SEED={self.seed} STEPS={len(self.ops)}",
                 f"the last {last} steps:"]
        lines += self.log[-last:]
        return "\n".join(lines)




def simulate(seed: int, steps: int, **kw: Any) -> Outcome:
    return run(seed, ops.generate(seed, steps), **kw)


def run(seed: int, plan: list[Op], *, engine: Callable[[], Any] = moto_engine,
        stage: str = "sim", plant: Callable[[], Any] | None = None) -> Outcome:
    """Apply `plan` to a fresh province on `engine`; `plant` installs a known bug."""
    outcome = Outcome(seed, plan)
    began = time.monotonic()
    thread_local_requests(chalice_app.app)
    with engine() as (dynamodb, sqs, read):
        plane = create_data_plane(dynamodb, sqs, stage)
        p = start(dynamodb, sqs, plane, ManualClock(STARTS[seed % len(STARTS)]),
                  bank_tokens=random.Random(f"bank-{seed}"))
        try:
            w = World(p, seed, read)
            w.setup()
            onboarding.open_shops(w, FIRST_SHOPS)
            w.open_accounts(_first_orders)
            checks.after_step(w)
            with case_transfers.short_timelines(), (
                    plant() if plant is not None else nullcontext()):
                _steps(w, plan, outcome)
                if not outcome.failed:
                    _end(w, outcome)
        finally:
            outcome.faults = Counter({str(k): v for k, v in w.faults.injected.items()})
            outcome.log = w.log
            outcome.seconds = time.monotonic() - began
            bootstrap.use(None)
    return outcome


def _first_orders(w: World) -> None:
    for family in range(len(w.families)):
        for shop in (family, family + 1):
            people.create_order(w, family, shop, 2 + family)
            people.pay(w, len(w.orders) - 1, 0)


def _steps(w: World, plan: list[Op], outcome: Outcome) -> None:
    for number, op in enumerate(plan):
        try:
            w.note(f"{number:5d} {op}: {ops.apply(w, op)}")
            checks.after_step(w)
        except Exception as failure:  # noqa: BLE001 - a failure of the platform, reported
            w.note(f"{number:5d} {op}: FAILED {type(failure).__name__}: {failure}")
            outcome.failure = f"{type(failure).__name__}: {failure}"
            outcome.failed_at = number
            return
        outcome.steps = number + 1


def _end(w: World, outcome: Outcome) -> None:
    try:
        heal_and_drain(w)
        checks.at_the_end(w)
    except Exception as failure:  # noqa: BLE001
        w.note(f"  end: FAILED {type(failure).__name__}: {failure}")
        outcome.failure = f"at the end: {type(failure).__name__}: {failure}"
        outcome.failed_at = len(outcome.ops)


def heal_and_drain(w: World) -> None:
    """Every fault healed, the frozen institutions left frozen past every window, and then
    (every measure lifted) the province left to run day by day until nothing is left to do:
    every deadline passes and every schedule and queue runs; a dispute still open is
    escalated on the schedule and the regulator decides it (releasing or returning it); a
    payout the bank took without answering is parked at its resend, then executed by the
    bank before ops retry it (who must book it, not pay it again)."""
    bank = w.p.bank
    bank.set_unavailable(False)
    bank.fail_next_transfers(0)
    system.reopen_accounts(w)
    w.link.time_out_next, w.link.answers_first, w.link.take_late = 0, False, []
    if freezes.freeze_the_busiest(w) and w.now < LAST_FROZEN_END:
        w.p.clock.advance(timedelta(days=FROZEN_DAYS))  # their windows run out frozen
        for job in range(len(system.SCHEDULES)):
            system.run_schedule(w, job)
            _drain(w, "sweep")
        checks.after_step(w)
    freezes.lift_all(w)  # the pending lessons' windows start again
    w.p.clock.advance(timedelta(days=DRAIN_DAYS))  # past every confirm-by day and expiry
    for _ in range(DRAIN_ROUNDS):
        for job in range(len(system.SCHEDULES)):
            system.run_schedule(w, job)
            _drain(w, "sweep")
        _drain(w, "liquidation")
        _drain(w, "complaint")
        _drain(w, "settlement")
        w.deliver_callbacks()
        _drain(w, "settlement")
        seen = checks.after_step(w)
        if w.link.taken:  # what the bank took, the platform parked: executed before ops ask
            w.note(f"  end: {system.execute_late(w, parked_only=True)}")
        for c in [c for c in w.consumptions.values() if c.status == "needs_review"]:
            system.retry_parked(w, c.consumption_id)
        for r in [r for r in w.refunds.values() if r.status == "needs_review"]:
            w.note(f"  end: {system.retry_refund(w, r.refund_id)}")
        for line in payments.place_unplaced(w, seen.unmatched):
            w.note(f"  end: {line}")
        for payment in [u for u in seen.unmatched if u.status == "needs_review"
                        and u.received_account]:
            w.note(f"  end: {system.return_parked(w, payment.unmatched_id)}")
        escalated = [c for c in w.consumptions.values() if c.escalated and c.status == "disputed"]
        for verdict in range(len(escalated)):  # the first disputed is the oldest escalated
            w.note(f"  end: {disputes.decide(w, 0, verdict % 2)}")
            checks.after_step(w)
        to_decide = [r for r in w.refunds.values() if r.status == "escalated"]
        for verdict in range(len(to_decide)):  # the regulator orders or dismisses each
            w.note(f"  end: {refunds.regulate_refund(w, 0, verdict % 2)}")
            checks.after_step(w)
        if not system.queued(w) and not bank.notifications() and all(
                c.status in ("released", "withdrawn") for c in w.consumptions.values()) and all(
                r.status in ("rejected", "refunded") for r in w.refunds.values()) and all(
                u.status == "returned" for u in seen.unmatched) and liquidations.settled(w):
            break
        w.p.clock.advance(timedelta(hours=2))  # past any backoff (at most an hour)
    w.note(f"  end: drained by {w.now.isoformat()}")


def _drain(w: World, function: str, rounds: int = 200) -> None:
    for _ in range(rounds):
        if system.deliver(w, function, 0).endswith("queue empty"):
            return


def shrink(outcome: Outcome, budget: int = 40, **kw: Any) -> Outcome:
    """The shortest run found that still fails: first the prefix up to the failing step,
    then chunks of operations removed while it keeps failing (bounded by `budget` runs)."""
    assert outcome.failed and outcome.failed_at is not None
    best = run(outcome.seed, outcome.ops[:outcome.failed_at + 1], **kw)
    if not best.failed:
        best = outcome
    chunk = max(1, len(best.ops) // 2)
    while budget > 0 and chunk >= 1:
        progressed = False
        start_at = 0
        while start_at < len(best.ops) and budget > 0:
            candidate = best.ops[:start_at] + best.ops[start_at + chunk:]
            budget -= 1
            trial = run(outcome.seed, candidate, **kw) if candidate else None
            if trial is not None and trial.failed:
                best, progressed = trial, True
            else:
                start_at += chunk
        if not progressed:
            chunk //= 2
    return best

