"""Custodian accounts that change (issue 22, point 3). A release goes to the institution's
general account as its department last reviewed it, read when the release's instruction is
made: an approved change re-points the next release of every order, parked ones retried by
ops included; a change still in review is never used. The supervised account holds the
parents' money: changing it is refused while anything is held there."""

from __future__ import annotations

from functools import partial
from typing import Any

from chalicelib import bootstrap
from chalicelib.domain.escrow.consumption import ConsumptionStatus
from chalicelib.service.escrow import parked
from chalicelib.service.refunds import unmatched_returns
from tests.support import flows
from tests.support.harness import Platform
from tests.support.parked_money import consumption_status, expired_order, paid_late_and_parked
from tests.support.snapshot import assert_refused

PRICE = 12_000


def change_custodian(p: Platform, shop: flows.Shop, **accounts: str) -> Any:
    custodian = {"bank": "示例银行广州分行", "supervised_account": shop.supervised_account,
                 "general_account": shop.general_account, **accounts}
    return p.post(f"/v1/institutions/{shop.institution_id}/profile", shop.staff,
                  {"custodian": custodian})


def approve(p: Platform, shop: flows.Shop) -> Any:
    return p.post(f"/v1/regulator/institutions/{shop.institution_id}/approve",
                  flows.competent(p), {})


def release_one(p: Platform, shop: flows.Shop, fam: flows.Family, order_id: str) -> str:
    """Teach, confirm and settle one lesson of the order; its consumption id."""
    recorded = flows.record_lesson(p, shop, [order_id])
    consumption_id = str(recorded["consumptions"][0]["consumption_id"])
    flows.confirm(p, fam, consumption_id)
    p.settle_everything()
    return consumption_id


def a_paid_order(p: Platform, lessons: int) -> tuple[flows.Shop, flows.Family, str]:
    shop = flows.open_shop(p, price=PRICE)
    fam = flows.family(p)
    return shop, fam, flows.buy_and_pay(p, shop, fam, lessons=lessons)["order_id"]


def test_an_approved_general_account_gets_the_next_release_of_an_existing_order(
    platform: Platform,
) -> None:
    p = platform
    shop, fam, order_id = a_paid_order(p, lessons=4)
    release_one(p, shop, fam, order_id)
    assert p.bank.balance(shop.general_account) == PRICE

    proposed = change_custodian(p, shop, general_account="GEN-MOVED-0001")
    assert proposed.status == 200 and proposed.body["status"] == "pending_review", proposed.body
    release_one(p, shop, fam, order_id)  # the proposal is not reviewed: never used
    assert (p.bank.balance(shop.general_account), p.bank.balance("GEN-MOVED-0001")) == (
        2 * PRICE, 0)
    p.check()

    assert approve(p, shop).status == 200
    release_one(p, shop, fam, order_id)  # bought before the change, paid to the new account
    assert (p.bank.balance(shop.general_account), p.bank.balance("GEN-MOVED-0001")) == (
        2 * PRICE, PRICE)
    seen = flows.order_of(p, fam.parent, order_id)
    assert (seen["released_fen"], seen["lessons_released"]) == (3 * PRICE, 3)
    p.check()


def test_a_parked_release_retried_by_ops_goes_to_the_account_approved_meanwhile(
    platform: Platform,
) -> None:
    p = platform
    shop, fam, order_id = a_paid_order(p, lessons=2)
    p.bank.close_account(shop.general_account)  # the old account is gone for good
    consumption_id = release_one(p, shop, fam, order_id)
    assert consumption_status(consumption_id) is ConsumptionStatus.NEEDS_REVIEW

    assert change_custodian(p, shop, general_account="GEN-MOVED-0002").status == 200
    assert approve(p, shop).status == 200
    parked.retry(bootstrap.context(), consumption_id)
    p.settle_everything()
    assert consumption_status(consumption_id) is ConsumptionStatus.RELEASED
    assert (p.bank.balance(shop.general_account), p.bank.balance("GEN-MOVED-0002")) == (0, PRICE)
    p.check()


def test_a_general_account_change_rejected_by_the_department_leaves_releases_where_they_were(
    platform: Platform,
) -> None:
    p = platform
    shop, fam, order_id = a_paid_order(p, lessons=2)
    assert change_custodian(p, shop, general_account="GEN-UNKNOWN-0003").status == 200
    rejected = p.post(f"/v1/regulator/institutions/{shop.institution_id}/reject",
                      flows.competent(p), {"reason": "账户与营业执照名称不符"})
    assert rejected.body["status"] == "rejected", rejected.body
    release_one(p, shop, fam, order_id)
    assert (p.bank.balance(shop.general_account), p.bank.balance("GEN-UNKNOWN-0003")) == (
        PRICE, 0)
    p.check()


def holds_money(p: Platform, shop: flows.Shop, **accounts: str) -> None:
    """A change of the supervised account (or bank) is refused, and changes nothing."""
    assert_refused(p, partial(change_custodian, p, shop, **accounts), 409,
                   "supervised_account_holds_money")
    seen = p.get(f"/v1/institutions/{shop.institution_id}", shop.staff).body
    assert seen["status"] == "whitelisted", seen


def test_a_supervised_account_is_not_changed_while_it_holds_money_and_is_once_all_is_out(
    platform: Platform,
) -> None:
    p = platform
    shop, fam, order_id = a_paid_order(p, lessons=2)
    holds_money(p, shop, supervised_account="SUP-MOVED-0004")
    holds_money(p, shop, bank="另一家银行")  # the same number at another bank

    release_one(p, shop, fam, order_id)
    holds_money(p, shop, supervised_account="SUP-MOVED-0004")  # one lesson still held
    refund = p.post(f"/v1/orders/{order_id}/refund-requests", fam.parent, {"reason": "转学"})
    assert refund.status == 201, refund.body
    approved = p.post(f"/v1/refund-requests/{refund.body['refund_id']}/approve", shop.staff, {})
    assert approved.status == 200, approved.body
    p.settle_everything()  # the bank pays the parent back
    assert flows.order_of(p, fam.parent, order_id)["status"] == "completed"

    moved = change_custodian(p, shop, supervised_account="SUP-MOVED-0004")
    assert moved.status == 200 and moved.body["status"] == "pending_review", moved.body
    assert approve(p, shop).status == 200
    again = flows.buy(p, shop, fam, lessons=1)
    assert again["payment"]["account"] == "SUP-MOVED-0004"
    flows.pay(p, fam, again)
    release_one(p, shop, fam, again["order_id"])
    assert p.bank.balance(shop.general_account) == 2 * PRICE
    assert (p.bank.balance(shop.supervised_account), p.bank.balance("SUP-MOVED-0004")) == (0, 0)
    p.check()


def test_an_order_awaiting_payment_into_the_supervised_account_keeps_it(
    platform: Platform,
) -> None:
    p = platform
    shop = flows.open_shop(p, price=PRICE)
    fam = flows.family(p)
    flows.buy(p, shop, fam, lessons=1)  # the parent was told to pay into it
    holds_money(p, shop, supervised_account="SUP-MOVED-0005")
    p.advance(minutes=31)
    p.run_schedule("expire_orders")
    assert change_custodian(p, shop, supervised_account="SUP-MOVED-0005").status == 200


def test_the_department_does_not_approve_a_supervised_account_change_while_money_waits_there(
    platform: Platform,
) -> None:
    """Money reaches the old account while the change is in review (a late payment of an
    expired order): until it is returned the department's approval is refused too."""
    p = platform
    shop = flows.open_shop(p, price=PRICE)
    fam = flows.family(p)
    late = expired_order(p, shop, fam, lessons=1)
    assert change_custodian(p, shop, supervised_account="SUP-MOVED-0006").status == 200
    unmatched_id = paid_late_and_parked(p, fam, late)  # its return refused: parked for ops

    assert_refused(p, partial(approve, p, shop), 409, "supervised_account_holds_money")
    seen = p.get(f"/v1/institutions/{shop.institution_id}", shop.staff).body
    assert seen["status"] == "pending_review"

    p.bank.reopen_account(fam.payer_account)
    unmatched_returns.retry_parked(bootstrap.context(), unmatched_id)
    p.run_schedule("settlement_sweeper")
    p.bank.deliver_pending()
    assert approve(p, shop).body["status"] == "whitelisted"
    assert flows.buy(p, shop, fam, lessons=1)["payment"]["account"] == "SUP-MOVED-0006"
    p.check()
