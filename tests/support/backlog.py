"""A busy province's backlog for the schedule tests: many due items packed into one shard of
the `due` index, built fast.

Each order is bought, paid and given a disputed lesson over the API. Its other lessons are
written as recording and then confirming them leaves them (a confirmed consumption due for
settlement, the order's counters moved, in one transaction through the store), with ids
chosen to fall in the shard under test: through HTTP that would take hundreds of lessons per
shard, most of them in the other shards. The orders stay consistent, so every invariant
check still runs over them.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import datetime, timedelta

from chalicelib import bootstrap
from chalicelib.adapters import ids
from chalicelib.adapters.dynamo import keys
from chalicelib.domain.escrow import lesson_money
from chalicelib.domain.escrow.consumption import ConfirmedBy, Consumption, ConsumptionStatus
from chalicelib.domain.escrow.order import Movement, OrderStatus
from tests.support import flows
from tests.support.harness import Platform

LESSONS_PER_ORDER = 60


def id_in_shard(prefix: str, shard: int, at: datetime) -> str:
    """A fresh id of `prefix` that the schedule puts in `shard`."""
    for _ in itertools.count():
        candidate = ids.new_id(prefix, at)
        if keys.shard(candidate) == shard:
            return candidate
    raise AssertionError("unreachable")


def blocked_releases(p: Platform, count: int, *, shard: int, due_before: datetime) -> list[str]:
    """`count` confirmed lessons whose releases wait on an open dispute of their order, all
    in `shard` and due (oldest first) before `due_before`. Returns their consumption ids."""
    shop = flows.open_shop(p, price=5_000, lessons_total=LESSONS_PER_ORDER)
    fam = flows.family(p)
    made: list[str] = []
    while len(made) < count:
        order = flows.buy_and_pay(p, shop, fam, lessons=LESSONS_PER_ORDER)
        disputed = flows.record_lesson(p, shop, [order["order_id"]])["consumptions"][0]
        reply = p.post(f"/v1/consumptions/{disputed['consumption_id']}/dispute", fam.parent,
                       {"reason": "孩子当天请假未上课"})
        assert reply.status == 200, reply.body
        for _ in range(min(LESSONS_PER_ORDER - 1, count - len(made))):
            made.append(_confirmed(p, order["order_id"], shard,
                                   due_before - timedelta(seconds=count - len(made))))
    return made


def _confirmed(p: Platform, order_id: str, shard: int, due_at: datetime) -> str:
    ctx = bootstrap.context()
    order = ctx.store.order(order_id)
    assert order is not None
    number = lesson_money.next_lesson_number(order)
    price = lesson_money.next_lesson(order)
    now = p.clock.now()
    consumption = Consumption(
        consumption_id=id_in_shard("con", shard, now), order_id=order_id,
        lesson_id=ids.new_id("les", now), institution_id=order.institution_id,
        parent_sub=order.parent_sub, student_id=order.student_id, course_id=order.course_id,
        lesson_number=number, amount_fen=price.amount_fen,
        carries_remainder=price.carries_remainder,
        status=ConsumptionStatus.PENDING_CONFIRMATION, recorded_at=now, confirm_by=now.date(),
        confirm_by_estimated=False,
    )
    confirmed = replace(consumption, status=ConsumptionStatus.CONFIRMED, confirmed_at=now,
                        confirmed_by=ConfirmedBy.PARENT)
    recorded_and_confirmed = Movement(
        "record_and_confirm", frozenset({OrderStatus.PAID}),
        {"lessons_remaining": -1, "lessons_confirmed_unreleased": 1,
         **({"remainder_carried": 1} if price.carries_remainder else {})},
    )
    ctx.store.write().create(confirmed, "consumption", due=("settle", due_at)).move_order(
        order, recorded_and_confirmed).commit()
    return confirmed.consumption_id
