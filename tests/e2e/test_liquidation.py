"""Liquidation: a regulator closes an institution for good and every order's unconsumed money
goes back to its payer, each order exactly once, whatever the queue delivers twice or loses,
with its progress counted to the fen; what was taught and confirmed is still paid to the
institution; the records of the unconsumed lessons stay."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import pytest

from chalicelib import bootstrap
from chalicelib.domain.calendar import SHANGHAI
from chalicelib.domain.institutions.liquidation import LIST_AFTER, WATCH_AFTER
from chalicelib.service.institutions import freezes
from chalicelib.service.refunds import refund_payouts, refunds
from tests.e2e.test_refunds import PRICE, ask, refund_of, taught_order
from tests.e2e.test_timed_work import a_pending_and_a_disputed_lesson
from tests.support import flows
from tests.support.harness import Platform

REASON = {"reason": "机构停业，无法继续授课"}


def liquidate(p: Platform, institution_id: str, who: dict[str, str] | None = None) -> Any:
    return p.post(f"/v1/regulator/institutions/{institution_id}/liquidate",
                  who or flows.regulator(p), REASON)


def progress(p: Platform, institution_id: str) -> dict[str, Any]:
    got = p.get(f"/v1/regulator/institutions/{institution_id}/liquidation", flows.regulator(p))
    assert got.status == 200, got.body
    return dict(got.body)


def lesson(p: Platform, fam: flows.Family, consumption_id: str) -> dict[str, Any]:
    listed = p.get("/v1/consumptions?limit=100", fam.parent)
    assert listed.status == 200, listed.body
    return next(c for c in listed.body["items"] if c["consumption_id"] == consumption_id)


def listed_on_the_queue(p: Platform, institution_id: str) -> None:
    """The liquidation started, the freeze settled, its orders listed onto the queue."""
    assert liquidate(p, institution_id).status == 200
    p.drain_sweeps()
    p.advance(seconds=LIST_AFTER.total_seconds() + 1)
    p.run_schedule("settlement_sweeper")


def run_liquidation(p: Platform) -> None:
    """What the province does once the listing may start: the schedule lists the orders,
    the liquidation queue's worker liquidates them, the bank pays the refunds back."""
    p.advance(seconds=LIST_AFTER.total_seconds() + 1)
    p.run_schedule("settlement_sweeper")
    p.drain_liquidation()
    p.settle_everything()


def watch(p: Platform) -> None:
    """The liquidation's next look at its progress."""
    p.advance(seconds=WATCH_AFTER.total_seconds() + 1)
    p.run_schedule("settlement_sweeper")
    p.drain_liquidation()
    p.settle_everything()


def test_a_liquidation_refunds_what_each_order_has_unconsumed_and_pays_what_was_taught(
    platform: Platform,
) -> None:
    p = platform
    shop = flows.open_shop(p, price=PRICE)
    taught, asking, confirmed, unpaid = (flows.family(p) for _ in range(4))
    taught_order = flows.buy_and_pay(p, shop, taught, lessons=5)
    asking_order = flows.buy_and_pay(p, shop, asking, lessons=4)
    confirmed_order = flows.buy_and_pay(p, shop, confirmed, lessons=3)
    unpaid_order = flows.buy(p, shop, unpaid, lessons=2)
    released = flows.record_lesson(p, shop, [taught_order["order_id"]])["consumptions"][0]
    flows.confirm(p, taught, released["consumption_id"])
    p.settle_everything()
    pending = flows.record_lesson(p, shop, [taught_order["order_id"]])["consumptions"][0]
    waiting = flows.record_lesson(p, shop, [confirmed_order["order_id"]])["consumptions"][0]
    asked = ask(p, asking, asking_order["order_id"])
    assert asked.status == 201 and asked.body["status"] == "pending_decision", asked.body

    started = liquidate(p, shop.institution_id)
    assert started.status == 200, started.body
    assert (started.body["status"], started.body["pending_lessons"]) == ("listing", "return")
    assert liquidate(p, shop.institution_id).body["started_at"] == started.body["started_at"]
    institution = p.get(f"/v1/institutions/{shop.institution_id}", flows.regulator(p)).body
    assert institution["frozen"] is True and institution["liquidated_at"], institution
    p.drain_sweeps()  # the freeze marker reaches the orders
    flows.confirm(p, confirmed, waiting["consumption_id"])  # taught before: still confirmable
    p.settle_everything()
    assert flows.order_of(p, confirmed.parent, confirmed_order["order_id"])["released_fen"] == 0

    run_liquidation(p)
    p.check()

    done = progress(p, shop.institution_id)
    to_refund = 4 * PRICE + 4 * PRICE + 2 * PRICE  # pending one returned, request, rest
    assert {k: done[k] for k in ("status", "orders_listed", "orders_total", "orders_done",
                                 "lessons_refunded", "fen_to_refund", "fen_refunded")} == {
        "status": "refunding", "orders_listed": True, "orders_total": 4, "orders_done": 4,
        "lessons_refunded": 10, "fen_to_refund": to_refund, "fen_refunded": to_refund}

    after_taught = flows.order_of(p, taught.parent, taught_order["order_id"])
    assert (after_taught["status"], after_taught["released_fen"], after_taught["refunded_fen"],
            after_taught["lessons_withdrawn"]) == ("completed", PRICE, 4 * PRICE, 1)
    assert after_taught["liquidated_at"] and after_taught["liquidation_refund_id"]
    returned = lesson(p, taught, pending["consumption_id"])
    assert (returned["status"], returned["withdrawn_by"]) == ("withdrawn", "liquidation")

    approved = refund_of(p, asking.parent, asked.body["refund_id"])
    assert (approved["status"], approved["approved_by"], approved["amount_fen"]) == (
        "refunded", "liquidation", 4 * PRICE)
    assert flows.order_of(p, asking.parent, asking_order["order_id"])[
        "liquidation_refund_id"] == asked.body["refund_id"]

    paid_for = flows.order_of(p, confirmed.parent, confirmed_order["order_id"])
    assert (paid_for["status"], paid_for["released_fen"], paid_for["refunded_fen"]) == (
        "completed", PRICE, 2 * PRICE)  # the confirmed lesson was released once done
    assert flows.order_of(p, unpaid.parent, unpaid_order["order_id"])["status"] == "expired"
    for fam, kept in ((taught, 1), (asking, 0), (confirmed, 1), (unpaid, 0)):
        assert p.bank.balance(fam.payer_account) == -kept * PRICE

    watch(p)
    assert progress(p, shop.institution_id)["status"] == "completed"
    lifted = p.post(f"/v1/regulator/institutions/{shop.institution_id}/unfreeze",
                    flows.regulator(p), {"reason": "清算完毕"})
    assert (lifted.status, lifted.code) == (409, "institution_liquidating"), lifted.body
    p.check()


def test_each_order_is_liquidated_once_however_its_messages_come_or_go(
    platform: Platform,
) -> None:
    p = platform
    shop = flows.open_shop(p, price=PRICE)
    fam = flows.family(p)
    orders = [flows.buy_and_pay(p, shop, fam, lessons=2)["order_id"] for _ in range(5)]
    assert liquidate(p, shop.institution_id).status == 200
    p.drain_sweeps()
    p.advance(seconds=LIST_AFTER.total_seconds() + 1)
    p.run_schedule("settlement_sweeper")

    messages = p._receive(p.plane.liquidation_queue_url, 10)
    assert len(messages) == 5
    p.invoke_worker(messages[:2], "liquidation")  # delivered, and delivered again
    p.run_worker(messages[:2], "liquidation")
    for lost in messages[2:]:  # the rest lost for good
        p.sqs.delete_message(QueueUrl=p.plane.liquidation_queue_url,
                             ReceiptHandle=lost["ReceiptHandle"])
    p.settle_everything()
    assert progress(p, shop.institution_id)["orders_done"] == 2

    watch(p)  # progress since the listing: looked at again later
    assert progress(p, shop.institution_id)["orders_done"] == 2
    watch(p)  # none since the last look: listed again, the lost ones queued
    watch(p)
    done = progress(p, shop.institution_id)
    assert (done["status"], done["orders_done"], done["fen_refunded"]) == (
        "completed", 5, 10 * PRICE)
    paid_back = [o for o in p.bank.outcomes() if o.succeeded
                 and o.instruction.to_account == fam.payer_account]
    assert sorted(o.instruction.amount_fen for o in paid_back) == [2 * PRICE] * 5
    assert all(flows.order_of(p, fam.parent, o)["status"] == "completed" for o in orders)
    p.check()


def test_a_request_the_parent_opens_between_the_liquidations_read_and_write_is_approved(
    platform: Platform, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The liquidation prices the order's own refund from a read; a request that commits
    right after that read must not be left open beside it: the liquidation's write requires
    no request open, reads again and approves the parent's."""
    p = platform
    shop = flows.open_shop(p, price=PRICE)
    fam = flows.family(p)
    order_id = flows.buy_and_pay(p, shop, fam, lessons=3)["order_id"]
    listed_on_the_queue(p, shop.institution_id)
    asked: list[Any] = []
    priced_from_a_read = refunds.new_request

    def parent_asks_meanwhile(*args: Any) -> Any:
        request = priced_from_a_read(*args)
        monkeypatch.setattr(refunds, "new_request", priced_from_a_read)
        asked.append(ask(p, fam, order_id))
        return request

    monkeypatch.setattr(refunds, "new_request", parent_asks_meanwhile)
    p.drain_liquidation()
    p.settle_everything()
    assert asked[0].status == 201, asked[0].body
    approved = refund_of(p, fam.parent, asked[0].body["refund_id"])
    assert (approved["status"], approved["approved_by"], approved["amount_fen"]) == (
        "refunded", "liquidation", 3 * PRICE)
    own = p.get(f"/v1/refund-requests/rfd_{order_id[4:]}", fam.parent)
    assert own.status == 404  # no second refund of the same lessons
    assert p.bank.balance(fam.payer_account) == 0
    p.check()


def test_a_liquidation_returns_the_lessons_silence_left_pending_while_it_was_frozen(
    platform: Platform,
) -> None:
    """A frozen institution's pending lessons are never confirmed, by silence or by its
    liquidation: they go back to the order and are refunded with it."""
    p = platform
    shop, fam, order, pending, disputed = a_pending_and_a_disputed_lesson(p)
    deadline = date.fromisoformat(lesson(p, fam, pending)["confirm_by"])
    assert p.post(f"/v1/regulator/institutions/{shop.institution_id}/freeze",
                  flows.regulator(p), {"reason": "立案调查"}).status == 200
    p.drain_sweeps()
    p.clock.set(datetime.combine(deadline + timedelta(days=2), time(9), SHANGHAI))
    p.run_schedule("auto_confirm")  # frozen: silence confirms nothing
    assert lesson(p, fam, pending)["status"] == "pending_confirmation"

    assert liquidate(p, shop.institution_id).body["pending_lessons"] == "return"
    p.drain_sweeps()
    run_liquidation(p)
    for returned in (pending, disputed):
        assert (lesson(p, fam, returned)["status"], lesson(p, fam, returned)["withdrawn_by"]
                ) == ("withdrawn", "liquidation")
    done = flows.order_of(p, fam.parent, order)
    assert (done["status"], done["released_fen"], done["refunded_fen"]) == (
        "completed", 0, 4 * PRICE)
    p.check()


def test_a_stale_rewrite_of_the_institution_cannot_undo_its_liquidation(
    platform: Platform,
) -> None:
    """The freeze's fan-out (or an unfreeze) that read the institution before it was
    liquidated writes it back from that read: refused, so the liquidation stands."""
    p = platform
    shop = flows.open_shop(p, price=PRICE)
    flows.buy_and_pay(p, shop, flows.family(p), lessons=3)
    path = f"/v1/regulator/institutions/{shop.institution_id}"
    assert p.post(f"{path}/freeze", flows.regulator(p), REASON).status == 200
    p.drain_sweeps()  # pass 1 of the fan-out done, pass 2 due later
    ctx = bootstrap.context()
    read_before = ctx.store.institution(shop.institution_id)
    assert read_before is not None and read_before.fanout_pass == 2
    assert liquidate(p, shop.institution_id).status == 200
    assert freezes._advance(ctx, read_before, None) is False  # pass 2 saving its stale read
    kept = ctx.store.institution(shop.institution_id)
    assert kept is not None and kept.liquidated_at is not None and kept.fanout_pass == 2
    lifted = p.post(f"{path}/unfreeze", flows.regulator(p), {"reason": "误操作"})
    assert (lifted.status, lifted.code) == (409, "institution_liquidating"), lifted.body


def test_a_liquidation_completes_only_once_every_refund_of_its_institution_is_paid(
    platform: Platform,
) -> None:
    """A parent's own refund, approved before the liquidation and refused by the bank, is
    still owed: the liquidation waits for it, and completes once ops paid it out again."""
    p = platform
    shop, fam, order, _ = taught_order(p, lessons=3, taught=0)
    refund_id = ask(p, fam, order["order_id"]).body["refund_id"]
    p.bank.close_account(fam.payer_account)
    assert p.post(f"/v1/refund-requests/{refund_id}/approve", shop.staff, {}).status == 200
    assert refund_of(p, fam.parent, refund_id)["status"] == "needs_review"
    assert liquidate(p, shop.institution_id).status == 200
    p.drain_sweeps()
    run_liquidation(p)
    watch(p)
    waiting = progress(p, shop.institution_id)
    assert (waiting["status"], waiting["orders_done"], waiting["fen_to_refund"]) == (
        "escrow_held", 1, 0)
    assert waiting["outstanding"]["refunds_in_flight"]["ids"] == [refund_id]
    p.bank.reopen_account(fam.payer_account)
    refund_payouts.retry_parked(bootstrap.context(), refund_id)
    p.run_schedule("settlement_sweeper")
    p.bank.deliver_pending()
    assert refund_of(p, fam.parent, refund_id)["status"] == "refunded"
    watch(p)
    assert progress(p, shop.institution_id)["status"] == "completed"
    p.check()


def test_only_a_supervising_regulator_liquidates_and_sees_it(platform: Platform) -> None:
    p = platform
    shop = flows.open_shop(p, price=PRICE)
    fam = flows.family(p)
    path = f"/v1/regulator/institutions/{shop.institution_id}"
    assert p.post(f"{path}/liquidate", flows.regulator(p), {"reason": ""}).code == (
        "validation_error")
    assert p.post(f"{path}/liquidate", fam.parent, REASON).status == 403
    assert p.post(f"{path}/liquidate", shop.staff, REASON).status == 403
    assert p.get(f"{path}/liquidation", shop.staff).status == 403
    elsewhere = flows.regulator(p, sub="reg-sz", region="440300")
    sports = flows.regulator(p, sub="reg-gd-sports", department="sports")
    for outsider in (elsewhere, sports):
        assert liquidate(p, shop.institution_id, outsider).status == 404
    missing = p.get(f"{path}/liquidation", flows.regulator(p))
    assert (missing.status, missing.code) == (404, "liquidation_not_found")
    applicant = p.token("staff-applicant", "institution")
    applied = p.post("/v1/institutions", applicant, flows.application())
    refused = liquidate(p, applied.body["institution_id"])
    assert (refused.status, refused.code) == (409, "institution_not_whitelisted")

    assert liquidate(p, shop.institution_id).status == 200
    for outsider in (elsewhere, sports):
        assert p.get(f"{path}/liquidation", outsider).status == 404
    assert progress(p, shop.institution_id)["orders_total"] == 0
