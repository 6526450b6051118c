"""Refund requests: the unconsumed money of an order always finds its way back to the payer,
exactly (released + refunded = paid), once, through the bank in two phases; while a request
is open the order's lessons and releases wait; only the order's parent asks and only its
institution decides."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from chalicelib import bootstrap
from chalicelib.domain.errors import StateConflict
from chalicelib.domain.refunds.refund import MAX_REFUND_ATTEMPTS
from chalicelib.service.refunds import refund_payouts
from tests.support import flows
from tests.support.harness import Platform

PRICE = 10_001  # 3 lessons of 30,003 fen: the last carries no remainder; 7 lessons do
SHANGHAI = ZoneInfo("Asia/Shanghai")


def ask(p: Platform, fam: flows.Family, order_id: str, reason: str = "孩子不想学了") -> Any:
    return p.post(f"/v1/orders/{order_id}/refund-requests", fam.parent, {"reason": reason})


def refund_of(p: Platform, who: dict[str, str], refund_id: str) -> dict[str, Any]:
    got = p.get(f"/v1/refund-requests/{refund_id}", who)
    assert got.status == 200, got.body
    return dict(got.body)


def taught_order(p: Platform, lessons: int = 7, taught: int = 2
                 ) -> tuple[flows.Shop, flows.Family, dict[str, Any], list[str]]:
    shop = flows.open_shop(p, price=PRICE)
    fam = flows.family(p)
    order = flows.buy_and_pay(p, shop, fam, lessons=lessons)
    consumed = [flows.record_lesson(p, shop, [order["order_id"]])["consumptions"][0]
                ["consumption_id"] for _ in range(taught)]
    return shop, fam, order, consumed


def test_before_the_course_starts_a_refund_is_whole_at_once_and_reaches_the_payer(
    platform: Platform,
) -> None:
    shop = flows.open_shop(platform, price=PRICE, starts_on="2026-03-16")
    fam = flows.family(platform)
    order = flows.buy_and_pay(platform, shop, fam, lessons=3)
    asked = ask(platform, fam, order["order_id"])
    assert asked.status == 201, asked.body
    assert asked.body["status"] == "refunding"
    assert (asked.body["approved_by"], asked.body["amount_fen"], asked.body["lessons"]) == (
        "at_once", 3 * PRICE, 3)
    assert asked.body["payout_due"] == "2026-03-07"  # five days
    platform.check()

    assert platform.bank.deliver_pending() >= 1
    platform.check()
    done = refund_of(platform, fam.parent, asked.body["refund_id"])
    assert done["status"] == "refunded"
    paid_back = flows.order_of(platform, fam.parent, order["order_id"])
    assert (paid_back["status"], paid_back["refunded_fen"], paid_back["held_fen"]) == (
        "completed", 3 * PRICE, 0)
    assert paid_back["lessons_refunded"] == 3
    assert platform.bank.balance(fam.payer_account) == 0  # paid 30,003, got 30,003 back
    assert platform.bank.balance(shop.supervised_account) == 0


def test_after_lessons_the_institution_decides_and_the_remainder_rule_holds(
    platform: Platform,
) -> None:
    shop, fam, order, consumed = taught_order(platform)
    flows.confirm(platform, fam, consumed[0])
    asked = ask(platform, fam, order["order_id"])
    assert asked.status == 201, asked.body
    refund = asked.body
    assert refund["status"] == "pending_decision" and refund["before_start"] is False
    assert (refund["lessons"], refund["amount_fen"]) == (5, 7 * PRICE - 2 * PRICE)
    assert refund["decide_by"] == "2026-03-09"  # five working days from Monday 2 March

    # While it is open: no lesson consumes the order, and the confirmed lesson's release waits.
    refused = platform.post("/v1/lessons", shop.staff,
                            flows.teach(platform, shop, [order["order_id"]]))
    assert (refused.status, refused.code) == (409, "order_refund_pending"), refused.body
    platform.settle_everything()
    waiting = flows.order_of(platform, fam.parent, order["order_id"])
    assert (waiting["released_fen"], waiting["open_refunds"]) == (0, 1)

    queue = platform.get("/v1/refund-requests?status=pending_decision", shop.staff)
    assert [r["refund_id"] for r in queue.body["items"]] == [refund["refund_id"]]
    approved = platform.post(f"/v1/refund-requests/{refund['refund_id']}/approve", shop.staff,
                             {})
    assert approved.status == 200, approved.body
    assert (approved.body["status"], approved.body["approved_by"]) == ("refunding", "institution")
    again = platform.post(f"/v1/refund-requests/{refund['refund_id']}/approve", shop.staff, {})
    assert again.status == 200 and again.body["status"] == "refunding"
    platform.check()

    flows.confirm(platform, fam, consumed[1])
    platform.advance(hours=2)  # the release that waited is due again on the schedule
    platform.run_schedule("settlement_sweeper")
    platform.settle_everything()
    platform.check()
    closed = flows.order_of(platform, fam.parent, order["order_id"])
    assert closed["status"] == "completed"
    assert closed["released_fen"] + closed["refunded_fen"] == closed["paid_fen"] == 7 * PRICE
    assert closed["refunded_fen"] == 5 * PRICE
    assert platform.bank.balance(fam.payer_account) == -2 * PRICE
    assert refund_of(platform, fam.parent, refund["refund_id"])["status"] == "refunded"


def test_a_rejection_needs_a_reason_and_lets_the_order_go_on(platform: Platform) -> None:
    shop, fam, order, _ = taught_order(platform, lessons=3, taught=1)
    refund_id = ask(platform, fam, order["order_id"]).body["refund_id"]
    bare = platform.post(f"/v1/refund-requests/{refund_id}/reject", shop.staff, {})
    assert (bare.status, bare.code) == (422, "rejection_reason_required")
    rejected = platform.post(f"/v1/refund-requests/{refund_id}/reject", shop.staff,
                             {"reason": "已按合同上课"})
    assert rejected.status == 200
    assert (rejected.body["status"], rejected.body["rejection_reason"]) == ("rejected",
                                                                           "已按合同上课")
    late = platform.post(f"/v1/refund-requests/{refund_id}/approve", shop.staff, {})
    assert (late.status, late.code) == (409, "refund_not_pending")
    flows.record_lesson(platform, shop, [order["order_id"]])  # lessons go on
    assert flows.order_of(platform, fam.parent, order["order_id"])["open_refunds"] == 0
    platform.check()


def test_one_request_at_a_time_and_nothing_to_refund_once_every_lesson_is_taught(
    platform: Platform,
) -> None:
    _, fam, order, _ = taught_order(platform, lessons=2, taught=1)
    assert ask(platform, fam, order["order_id"]).status == 201
    twice = ask(platform, fam, order["order_id"], "再申请一次")
    assert (twice.status, twice.code) == (409, "refund_request_open")
    _, fam2, spent, _ = taught_order(platform, lessons=1, taught=1)
    nothing = ask(platform, fam2, spent["order_id"])
    assert (nothing.status, nothing.code) == (409, "nothing_to_refund")
    platform.check()


def test_silence_approves_after_five_working_days_across_the_national_day_holiday(
    platform: Platform,
) -> None:
    platform.clock.set(datetime(2026, 9, 28, 9, 0, tzinfo=SHANGHAI))  # Monday
    shop = flows.open_shop(platform, price=PRICE, starts_on="2026-09-01",
                           ends_on="2026-11-30")
    fam = flows.family(platform)
    order = flows.buy_and_pay(platform, shop, fam, lessons=3)
    flows.record_lesson(platform, shop, [order["order_id"]])
    refund = ask(platform, fam, order["order_id"]).body
    # 29, 30 Sep, then the holiday 1-8 Oct (the 8th a holiday, the 10th a swapped workday)
    assert date.fromisoformat(refund["decide_by"]) == date(2026, 10, 10)
    platform.clock.set(datetime(2026, 10, 10, 23, 59, tzinfo=SHANGHAI))
    platform.run_schedule("auto_confirm")
    assert refund_of(platform, fam.parent, refund["refund_id"])["status"] == "pending_decision"
    platform.clock.set(datetime(2026, 10, 11, 0, 1, tzinfo=SHANGHAI))
    platform.run_schedule("auto_confirm")
    silent = refund_of(platform, fam.parent, refund["refund_id"])
    assert (silent["status"], silent["approved_by"]) == ("refunding", "silence")
    platform.settle_everything()
    assert refund_of(platform, fam.parent, refund["refund_id"])["status"] == "refunded"
    platform.check()


def test_a_failed_payout_is_voided_and_paid_by_the_next_attempt(platform: Platform) -> None:
    shop, fam, order, _ = taught_order(platform, lessons=3, taught=1)
    refund_id = ask(platform, fam, order["order_id"]).body["refund_id"]
    platform.bank.fail_next_transfers(1)
    platform.post(f"/v1/refund-requests/{refund_id}/approve", shop.staff, {})
    platform.bank.deliver_pending()
    voided = refund_of(platform, fam.parent, refund_id)
    assert (voided["status"]) == "approved"
    held = flows.order_of(platform, fam.parent, order["order_id"])
    assert (held["held_fen"], held["refunding_fen"]) == (3 * PRICE, 0)
    platform.check()
    platform.advance(minutes=2)
    platform.run_schedule("settlement_sweeper")
    platform.bank.deliver_pending()
    assert refund_of(platform, fam.parent, refund_id)["status"] == "refunded"
    assert flows.order_of(platform, fam.parent, order["order_id"])["refunded_fen"] == 2 * PRICE
    platform.check()


def test_a_payout_the_bank_refuses_for_good_is_parked_with_its_money_held_until_ops_retry(
    platform: Platform,
) -> None:
    shop, fam, order, _ = taught_order(platform, lessons=3, taught=1)
    refund_id = ask(platform, fam, order["order_id"]).body["refund_id"]
    platform.bank.close_account(fam.payer_account)
    platform.post(f"/v1/refund-requests/{refund_id}/approve", shop.staff, {})
    parked = refund_of(platform, fam.parent, refund_id)
    assert parked["status"] == "needs_review" and parked["review_reason"]
    held = flows.order_of(platform, fam.parent, order["order_id"])
    assert (held["held_fen"], held["refunding_fen"]) == (3 * PRICE, 0)
    platform.check()

    platform.bank.reopen_account(fam.payer_account)  # ops fixed it with the bank
    retried = refund_payouts.retry_parked(bootstrap.context(), refund_id)
    assert (retried.status, retried.attempt) == ("approved", 2)  # a new instruction id
    with pytest.raises(StateConflict):
        refund_payouts.retry_parked(bootstrap.context(), refund_id)
    platform.run_schedule("settlement_sweeper")  # the refund job reserves and sends it
    platform.bank.deliver_pending()
    assert refund_of(platform, fam.parent, refund_id)["status"] == "refunded"
    assert platform.bank.balance(fam.payer_account) == -PRICE  # 3 paid, 2 back
    platform.check()


@pytest.mark.parametrize("platform", ["moto"], indirect=True)
def test_a_payout_failed_eight_times_is_parked_and_once_retried_gets_eight_tries_again(
    platform: Platform,
) -> None:
    shop, fam, order, _ = taught_order(platform, lessons=3, taught=1)
    refund_id = ask(platform, fam, order["order_id"]).body["refund_id"]
    platform.bank.fail_next_transfers(MAX_REFUND_ATTEMPTS)
    platform.post(f"/v1/refund-requests/{refund_id}/approve", shop.staff, {})
    for _ in range(MAX_REFUND_ATTEMPTS):
        platform.bank.deliver_pending()
        platform.advance(hours=2)  # past the backoff
        platform.run_schedule("settlement_sweeper")
    parked = refund_of(platform, fam.parent, refund_id)
    assert parked["status"] == "needs_review" and parked["review_reason"], parked
    retried = refund_payouts.retry_parked(bootstrap.context(), refund_id)
    assert retried.attempt == MAX_REFUND_ATTEMPTS + 1  # parked after its eighth failure
    platform.bank.fail_next_transfers(1)  # one more failure is retried, not parked at once
    platform.run_schedule("settlement_sweeper")
    platform.bank.deliver_pending()
    assert refund_of(platform, fam.parent, refund_id)["status"] == "approved"
    platform.advance(hours=2)
    platform.run_schedule("settlement_sweeper")
    platform.bank.deliver_pending()
    assert refund_of(platform, fam.parent, refund_id)["status"] == "refunded"
    assert platform.bank.balance(fam.payer_account) == -PRICE
    platform.check()


def test_only_the_orders_parent_asks_and_only_its_institution_decides(
    platform: Platform,
) -> None:
    _, fam, order, _ = taught_order(platform, lessons=3, taught=1)
    other_shop = flows.open_shop(platform, price=PRICE)
    stranger = flows.family(platform, "别人家孩子")
    assert ask(platform, stranger, order["order_id"]).status == 404
    refund_id = ask(platform, fam, order["order_id"]).body["refund_id"]
    assert platform.get(f"/v1/refund-requests/{refund_id}", stranger.parent).status == 404
    assert platform.get(f"/v1/refund-requests/{refund_id}", other_shop.staff).status == 404
    foreign = platform.post(f"/v1/refund-requests/{refund_id}/approve", other_shop.staff, {})
    assert foreign.status == 404
    assert platform.get("/v1/refund-requests", stranger.parent).body["items"] == []
    parent_approves = platform.post(f"/v1/refund-requests/{refund_id}/approve", fam.parent, {})
    assert parent_approves.status == 403
    assert refund_of(platform, fam.parent, refund_id)["status"] == "pending_decision"
    platform.check()


def test_a_release_posted_while_the_refund_is_paid_out_leaves_the_order_open_until_it_is(
    platform: Platform,
) -> None:
    """Found by the simulator (seeds 45 and 57): the last lesson's release completed the
    order while its refund was still refunding, and the refund could then never post."""
    shop, fam, order, consumed = taught_order(platform, lessons=3, taught=1)
    flows.confirm(platform, fam, consumed[0])
    refund_id = ask(platform, fam, order["order_id"]).body["refund_id"]
    platform.post(f"/v1/refund-requests/{refund_id}/approve", shop.staff, {})
    queued = platform.bank.notifications()
    refund_callbacks = [seq for seq, _, body in queued if b"bkr_" in body]
    platform.advance(hours=2)
    platform.run_schedule("settlement_sweeper")
    platform.drain_settlement()
    for seq, _, body in platform.bank.notifications():
        if b"bki_" in body:
            assert platform.bank.deliver_one(seq)
    released = flows.order_of(platform, fam.parent, order["order_id"])
    assert (released["status"], released["released_fen"]) == ("paid", PRICE)
    for seq in refund_callbacks:
        assert platform.bank.deliver_one(seq)
    closed = flows.order_of(platform, fam.parent, order["order_id"])
    assert (closed["status"], closed["refunded_fen"]) == ("completed", 2 * PRICE)
    platform.check()
