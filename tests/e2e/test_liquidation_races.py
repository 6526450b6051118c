"""Liquidation on the real engine: racing a parent's own refund request, and 300 orders
(three pages of the listing) liquidated through crashes and lost messages. Whatever commits
first, each order's unconsumed money reaches its payer exactly once."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import pytest

from chalicelib import bootstrap
from chalicelib.domain.errors import PlatformError
from chalicelib.domain.refunds.refund import RefundRequest
from chalicelib.service.caller import Caller, Role
from chalicelib.service.institutions import liquidation_orders
from chalicelib.service.refunds import refunds
from tests.e2e.test_liquidation import listed_on_the_queue, progress, watch
from tests.e2e.test_refunds import PRICE
from tests.simulation.faults import AwsFaults, Crash, Fault, Kind
from tests.support import flows
from tests.support.concurrency import race, refused_or_result
from tests.support.harness import Platform

pytestmark = pytest.mark.parametrize("platform", ["dynamodb_local"], indirect=True)

HEAD_STARTS = (0.0, 0.003, 0.01, 0.05)
"""How far ahead of the request the liquidation starts, race by race (the liquidation reads
more before it writes: without one the request wins)."""
ORDERS = 300
FAMILIES = 60


def test_a_liquidation_racing_a_parents_own_refund_request_pays_the_order_back_once(
    platform: Platform,
) -> None:
    p = platform
    shop = flows.open_shop(p, price=PRICE)
    families = [flows.family(p) for _ in HEAD_STARTS]
    orders = [flows.buy_and_pay(p, shop, fam, lessons=3)["order_id"] for fam in families]
    for order_id in orders:
        flows.record_lesson(p, shop, [order_id])  # pending: the liquidation returns it
    listed_on_the_queue(p, shop.institution_id)
    outcomes = [_race_one(shop.institution_id, fam, order_id, head_start)
                for fam, order_id, head_start in zip(families, orders, HEAD_STARTS, strict=True)]
    p.drain_liquidation()
    p.settle_everything()
    for fam, order_id in zip(families, orders, strict=True):
        paid_back = flows.order_of(p, fam.parent, order_id)
        assert (paid_back["status"], paid_back["refunded_fen"]) == ("completed", 3 * PRICE)
        assert p.bank.balance(fam.payer_account) == 0  # every lesson back, once
    assert set(outcomes) <= {"pending_decision", "nothing_to_refund", "order_not_refundable"}
    assert progress(p, shop.institution_id)["fen_refunded"] == len(orders) * 3 * PRICE
    p.check()


def test_300_orders_are_liquidated_once_through_crashes_and_lost_messages(
    platform: Platform,
) -> None:
    p = platform
    shop = flows.open_shop(p, price=PRICE)
    families = [flows.family(p) for _ in range(FAMILIES)]
    orders = [flows.buy_and_pay(p, shop, families[n % FAMILIES], lessons=2)["order_id"]
              for n in range(ORDERS)]
    listed_on_the_queue(p, shop.institution_id)
    assert progress(p, shop.institution_id)["orders_total"] == ORDERS

    faults = AwsFaults(p.dynamodb, p.sqs)
    batches = 0
    while messages := p._receive(p.plane.liquidation_queue_url, 10):
        batches += 1
        if batches in (15, 16):  # half-way: the worker dies in the middle of an order
            with faults.armed((Fault(13 + batches, Kind.CRASH),)), pytest.raises(Crash):
                p.invoke_worker(messages, "liquidation")
            if batches == 16:  # and that batch's messages are lost for good
                _delete(p, messages)
            else:  # its messages come back, as after their visibility timeout
                _visible_again(p, messages)
            continue
        p.run_worker(messages, "liquidation")
        p.bank.deliver_pending()
    assert faults.injected[Kind.CRASH] == 2
    assert progress(p, shop.institution_id)["orders_done"] < ORDERS  # the lost ones wait

    for _ in range(3):
        watch(p)
    done = progress(p, shop.institution_id)
    assert (done["status"], done["orders_done"], done["fen_refunded"]) == (
        "completed", ORDERS, ORDERS * 2 * PRICE)
    paid: Counter[str] = Counter()
    for outcome in p.bank.outcomes():
        if outcome.succeeded and outcome.instruction.to_account.startswith("PAYER-"):
            paid[outcome.instruction.instruction_id.rsplit("_", 1)[0]] += 1
    assert len(paid) == ORDERS and set(paid.values()) == {1}  # one refund per order, paid once
    for fam in families:
        assert p.bank.balance(fam.payer_account) == 0
    assert all(flows.order_of(p, families[n % FAMILIES].parent, o)["status"] == "completed"
               for n, o in enumerate(orders))
    p.check()


def _race_one(institution_id: str, fam: flows.Family, order_id: str, head_start: float
              ) -> str:
    """The liquidation of one order and its parent's refund request, the liquidation
    `head_start` seconds ahead; what the request was answered."""
    ctx = bootstrap.context()
    parent = Caller(sub=fam.payer_account.removeprefix("PAYER-"), role=Role.PARENT)

    def ask() -> RefundRequest:
        time.sleep(head_start)
        return refunds.request(ctx, parent, ctx.new_id("rfd"), order_id, "不学了")

    _, asked = race(lambda: liquidation_orders.liquidate(ctx, institution_id, order_id),
                    refused_or_result(ask))
    return asked.code if isinstance(asked, PlatformError) else str(asked.status)


def _delete(p: Platform, messages: list[dict[str, Any]]) -> None:
    for message in messages:
        p.sqs.delete_message(QueueUrl=p.plane.liquidation_queue_url,
                             ReceiptHandle=message["ReceiptHandle"])


def _visible_again(p: Platform, messages: list[dict[str, Any]]) -> None:
    for message in messages:
        p.sqs.change_message_visibility(QueueUrl=p.plane.liquidation_queue_url,
                                        ReceiptHandle=message["ReceiptHandle"],
                                        VisibilityTimeout=0)
