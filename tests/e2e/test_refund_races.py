"""Refunds racing the rest of the money core, on the real engine (moto applies concurrent
transactions without isolation): whichever commits first, the other is refused or adapts,
and every fen ends where it belongs."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from chalicelib import bootstrap
from chalicelib.domain.errors import PlatformError
from chalicelib.domain.refunds.refund import ApprovedBy
from chalicelib.service.caller import Caller, Role
from chalicelib.service.escrow import bank_events, lessons
from chalicelib.service.refunds import refunds
from tests.e2e.test_refunds import PRICE, ask, refund_of, taught_order
from tests.support import flows
from tests.support.concurrency import race, refused_or_result
from tests.support.harness import Platform

SHANGHAI = ZoneInfo("Asia/Shanghai")
pytestmark = pytest.mark.parametrize("platform", ["dynamodb_local"], indirect=True)


def release_callback(p: Platform, consumption_id: str) -> dict[str, Any]:
    """The bank's queued `transfer_succeeded` for the lesson's release (left queued)."""
    for _, _, raw in p.bank.notifications():
        body = json.loads(raw)
        if body.get("instruction_id", "").startswith("bki_" + consumption_id[4:]):
            return dict(body)
    raise AssertionError(f"no callback queued for {consumption_id}")


def test_a_refund_approved_while_a_release_posts_leaves_every_fen_in_place(
    platform: Platform,
) -> None:
    _, fam, order, consumed = taught_order(platform, lessons=3, taught=1)
    flows.confirm(platform, fam, consumed[0])
    platform.drain_settlement()  # the release is reserved and sent; the bank's answer waits
    callback = release_callback(platform, consumed[0])
    refund_id = ask(platform, fam, order["order_id"]).body["refund_id"]
    ctx = bootstrap.context()

    def post_release() -> Any:
        return bank_events.transfer_outcome(
            ctx, event_id=callback["event_id"], instruction_id=callback["instruction_id"],
            amount_fen=callback["amount_fen"], succeeded=True)

    def approve() -> Any:
        return refunds.approve_pending(ctx, refund_id, ApprovedBy.INSTITUTION, "staff")

    _, approved = race(post_release, approve)
    assert approved.status == "refunding" and (approved.lessons, approved.amount_fen) == (
        2, 2 * PRICE)
    platform.settle_everything()  # the bank's own copy of the release callback: a duplicate
    platform.check()  # (before it, the bank still counts the release as untold)
    assert refund_of(platform, fam.parent, refund_id)["status"] == "refunded"
    closed = flows.order_of(platform, fam.parent, order["order_id"])
    assert (closed["status"], closed["released_fen"], closed["refunded_fen"]) == (
        "completed", PRICE, 2 * PRICE)


def test_a_refund_asked_while_a_lesson_is_recorded_counts_it_or_stops_it(
    platform: Platform,
) -> None:
    shop, _, order, _ = taught_order(platform, lessons=3, taught=1)
    ctx = bootstrap.context()
    staff = Caller(sub="staff", role=Role.INSTITUTION, institution_id=shop.institution_id)
    stored = ctx.store.order(order["order_id"])
    assert stored is not None
    parent = Caller(sub=stored.parent_sub, role=Role.PARENT)
    started = platform.clock.now()
    platform.advance(minutes=65)

    def record() -> Any:
        return lessons.record(ctx, staff, "les_00000000000000000000000001",
                              course_id=shop.course_id, started_at=started,
                              ended_at=started + timedelta(hours=1), teacher_id=shop.teacher_id,
                              order_ids=[order["order_id"]])

    def ask_back() -> Any:
        return refunds.request(ctx, parent, "rfd_00000000000000000000000001",
                               order["order_id"], "不学了")

    recorded, asked = race(refused_or_result(record), refused_or_result(ask_back))
    assert not isinstance(asked, PlatformError), asked
    if isinstance(recorded, PlatformError):  # the request opened first: the lesson waits
        assert recorded.code == "order_refund_pending"
        assert (asked.lessons, asked.amount_fen) == (2, 2 * PRICE)
    else:  # the lesson consumed first: the request is for what is left after it
        assert (asked.lessons, asked.amount_fen) == (1, PRICE)
    platform.check()


def test_silence_and_a_rejection_at_the_deadline_decide_the_request_once(
    platform: Platform,
) -> None:
    shop, fam, order, _ = taught_order(platform, lessons=3, taught=1)
    refund_id = ask(platform, fam, order["order_id"]).body["refund_id"]
    platform.clock.set(datetime(2026, 3, 10, 0, 0, 1, tzinfo=SHANGHAI))  # decide-by was the 9th
    ctx = bootstrap.context()

    def reject() -> Callable[[], Any]:
        return refused_or_result(lambda: refunds.decide(
            ctx, Caller(sub="staff", role=Role.INSTITUTION, institution_id=shop.institution_id),
            refund_id, approve=False, reason="已上课"))

    silence, rejected = race(lambda: refunds.approve_on_silence(ctx, refund_id), reject())
    final = refund_of(platform, fam.parent, refund_id)
    if silence:
        assert isinstance(rejected, PlatformError) and rejected.code == "refund_not_pending"
        assert (final["status"], final["approved_by"]) == ("refunding", "silence")
    else:
        assert not isinstance(rejected, PlatformError) and final["status"] == "rejected"
    platform.settle_everything()
    platform.check()
    held = flows.order_of(platform, fam.parent, order["order_id"])
    assert held["open_refunds"] == 0
    assert held["refunded_fen"] == (2 * PRICE if silence else 0)
