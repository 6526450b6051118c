"""A payment pays an order only when the money is where the order says it must be: credited
to the order's own supervised account, from a payer outside every institution. Anything
else is recorded against the account the money really reached and returned from there;
a refund never goes to an institution's account (docs/decisions.md, "Issue 22: where the
money is")."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from chalicelib import bootstrap
from chalicelib.domain.escrow.bank import UnmatchedPayment, UnmatchedReason, UnmatchedStatus
from chalicelib.domain.escrow.bank_signature import sign
from tests.support import flows
from tests.support.harness import BANK_SECRET, Platform
from tests.support.invariants import scan


def unmatched(p: Platform) -> list[UnmatchedPayment]:
    store = bootstrap.context().store
    found = [store.unmatched(i["pk"]) for i in scan(p.dynamodb, p.plane.platform_table)
             if i["sk"] == "#unmatched_payment"]
    return [u for u in found if u is not None]


def only_unmatched(p: Platform) -> UnmatchedPayment:
    [payment] = unmatched(p)
    return payment


def status_of(p: Platform, fam: flows.Family, order: dict[str, Any]) -> str:
    return str(flows.order_of(p, fam.parent, order["order_id"])["status"])


def notify(p: Platform, **fields: Any) -> int:
    """A signed `payment_received` as the bank would send it, with `fields` over it."""
    body = {"event_id": f"evt_{uuid.uuid4().hex}", "type": "payment_received",
            "bank_txn_id": f"btx_{uuid.uuid4().hex}",
            "occurred_at": p.clock.now().isoformat(), **fields}
    raw = json.dumps({k: v for k, v in body.items() if v is not None}).encode()
    headers = {"Content-Type": "application/json",
               "X-Bank-Signature": sign(BANK_SECRET, int(p.clock.now().timestamp()), raw)}
    return p.deliver_to_platform(raw, headers)


def test_money_paid_into_the_institutions_general_account_never_pays_the_order(
    platform: Platform,
) -> None:
    """The institution asks parents to pay its own general account quoting the order's
    reference: the order stays unpaid, and the money goes back from that account."""
    shop = flows.open_shop(platform)
    fam = flows.family(platform)
    order = flows.buy(platform, shop, fam, lessons=2)
    platform.bank.pay(fam.payer_account, shop.general_account,
                      order["payment"]["reference"], order["amount_fen"])
    platform.bank.deliver_pending()
    platform.check()
    assert status_of(platform, fam, order) == "pending_payment"
    returned = only_unmatched(platform)
    assert returned.reason is UnmatchedReason.WRONG_ACCOUNT
    assert returned.received_account == shop.general_account
    assert returned.status is UnmatchedStatus.RETURNED
    [instruction] = [o.instruction for o in platform.bank.outcomes()]
    assert (instruction.from_account, instruction.to_account) == (
        shop.general_account, fam.payer_account)
    assert platform.bank.balance(fam.payer_account) == 0
    assert platform.bank.balance(shop.supervised_account) == 0
    assert platform.bank.balance(shop.general_account) == 0
    county = flows.regulator(platform, sub="reg-440106-culture", region="440106",
                             department="culture")
    told = platform.get("/v1/notifications", county).body["items"]
    assert [(n["event"], n["subject_id"]) for n in told] == [
        ("payment_raised", returned.unmatched_id)]


def test_money_paid_into_another_institutions_supervised_account_goes_back_from_there(
    platform: Platform,
) -> None:
    shop, other = flows.open_shop(platform), flows.open_shop(platform)
    fam = flows.family(platform)
    order = flows.buy(platform, shop, fam, lessons=2)
    platform.bank.pay(fam.payer_account, other.supervised_account,
                      order["payment"]["reference"], order["amount_fen"])
    platform.bank.deliver_pending()
    platform.check()
    assert status_of(platform, fam, order) == "pending_payment"
    returned = only_unmatched(platform)
    assert (returned.reason, returned.received_account, returned.status) == (
        UnmatchedReason.WRONG_ACCOUNT, other.supervised_account, UnmatchedStatus.RETURNED)
    assert platform.bank.balance(other.supervised_account) == 0
    # paid where it must be, the same order is paid
    flows.pay(platform, fam, order)
    assert status_of(platform, fam, order) == "paid"
    platform.check()


def test_held_money_of_one_order_never_pays_another_institutions_lessons(
    platform: Platform,
) -> None:
    """The review's scenario: had the misdirected payment been applied, the order's lessons
    would have been released out of other parents' escrow. Now the escrow holds exactly
    what its own orders paid in, and every release is covered."""
    shop = flows.open_shop(platform)
    honest, misled = flows.family(platform), flows.family(platform)
    paid = flows.buy_and_pay(platform, shop, honest, lessons=2)
    unpaid = flows.buy(platform, shop, misled, lessons=2)
    platform.bank.pay(misled.payer_account, shop.general_account,
                      unpaid["payment"]["reference"], unpaid["amount_fen"])
    platform.bank.deliver_pending()
    refused = platform.post("/v1/lessons", shop.staff, flows.lesson_body(
        shop, [unpaid["order_id"]], platform.clock.now().replace(microsecond=0)))
    assert refused.status in (409, 422), refused.body
    assert platform.bank.balance(shop.supervised_account) == paid["amount_fen"]
    platform.check()


@pytest.mark.parametrize("missing", ["payee_account", "payer_account"])
def test_a_notice_without_both_accounts_is_recorded_and_raised_never_applied(
    platform: Platform, missing: str,
) -> None:
    shop = flows.open_shop(platform)
    fam = flows.family(platform)
    order = flows.buy(platform, shop, fam, lessons=2)
    accounts = {"payer_account": fam.payer_account,
                "payee_account": shop.supervised_account, missing: None}
    status = notify(platform, payment_reference=order["payment"]["reference"],
                    amount_fen=order["amount_fen"], **accounts)
    assert status == 200
    assert status_of(platform, fam, order) == "pending_payment"
    parked = only_unmatched(platform)
    assert (parked.reason, parked.status) == (
        UnmatchedReason.ACCOUNT_MISSING, UnmatchedStatus.NEEDS_REVIEW)
    assert parked.received_account == (accounts["payee_account"] or "")
    assert platform.bank.instructions_executed() == 0  # no return from an account guessed


@pytest.mark.parametrize("payer", ["own_general", "other_supervised", "other_general"])
def test_a_payment_from_an_institutions_account_is_not_a_parents_prepayment(
    platform: Platform, payer: str,
) -> None:
    """An institution paying its own orders (to look busy, or to move money through the
    escrow) pays nothing: the money goes back where it came from."""
    shop, other = flows.open_shop(platform), flows.open_shop(platform)
    fam = flows.family(platform)
    order = flows.buy(platform, shop, fam, lessons=2)
    source = {"own_general": shop.general_account,
              "other_supervised": other.supervised_account,
              "other_general": other.general_account}[payer]
    platform.bank.pay(source, shop.supervised_account, order["payment"]["reference"],
                      order["amount_fen"])
    platform.bank.deliver_pending()
    assert status_of(platform, fam, order) == "pending_payment"
    returned = only_unmatched(platform)
    assert (returned.reason, returned.payer_account, returned.status) == (
        UnmatchedReason.PAYER_IS_INSTITUTION, source, UnmatchedStatus.RETURNED)
    assert platform.bank.balance(source) == 0
    assert platform.bank.balance(shop.supervised_account) == 0
    platform.check()


def test_an_account_registered_by_one_institution_cannot_be_claimed_by_another(
    platform: Platform,
) -> None:
    shop = flows.open_shop(platform)
    applicant = platform.token("applicant-x", "institution")
    for taken in (shop.supervised_account, shop.general_account.lower()):
        body = flows.application(custodian={
            "bank": "示例银行广州分行", "supervised_account": taken,
            "general_account": f"GEN-{uuid.uuid4().hex[:8]}"})
        refused = platform.post("/v1/institutions", applicant, body)
        assert (refused.status, refused.code) == (409, "bank_account_registered"), refused.body


def test_a_refund_is_never_paid_to_an_account_an_institution_registered(
    platform: Platform,
) -> None:
    """The parent's account is later registered as an institution's general account: the
    refund does not go there; it waits for the parent to name another account."""
    shop = flows.open_shop(platform)
    fam = flows.family(platform)
    order = flows.buy_and_pay(platform, shop, fam, lessons=2)
    applicant = platform.token("applicant-y", "institution")
    registered = platform.post("/v1/institutions", applicant, flows.application(custodian={
        "bank": "示例银行广州分行", "supervised_account": "SUP-Y-0001",
        "general_account": fam.payer_account}))
    assert registered.status == 201, registered.body
    asked = platform.post(f"/v1/orders/{order['order_id']}/refund-requests", fam.parent,
                          {"reason": "不学了"})
    assert asked.status == 201, asked.body
    refund_id = asked.body["refund_id"]
    platform.post(f"/v1/refund-requests/{refund_id}/approve", shop.staff, {})
    parked = platform.get(f"/v1/refund-requests/{refund_id}", fam.parent).body
    assert (parked["status"], parked["review_reason"]) == (
        "needs_review", "refund_route_institution_account")
    assert platform.bank.instructions_executed() == 0
    platform.check()

    renamed = platform.post(f"/v1/refund-requests/{refund_id}/payout-account", fam.parent,
                            {"account": "PAYER-NEW-0001"})
    assert renamed.status == 200, renamed.body
    platform.run_schedule("settlement_sweeper")
    platform.bank.deliver_pending()
    done = platform.get(f"/v1/refund-requests/{refund_id}", fam.parent).body
    assert done["status"] == "refunded"
    assert platform.bank.balance("PAYER-NEW-0001") == order["amount_fen"]
    assert platform.bank.balance(fam.payer_account) == -order["amount_fen"]
    platform.check()


def test_when_the_original_route_is_closed_the_parent_names_a_new_account_once_checked(
    platform: Platform,
) -> None:
    shop = flows.open_shop(platform)
    fam, stranger = flows.family(platform), flows.family(platform)
    order = flows.buy_and_pay(platform, shop, fam, lessons=2)
    path = f"/v1/orders/{order['order_id']}/refund-requests"
    refund_id = platform.post(path, fam.parent, {"reason": "搬家"}).body["refund_id"]
    account_path = f"/v1/refund-requests/{refund_id}/payout-account"
    early = platform.post(account_path, fam.parent, {"account": "PAYER-NEW-0002"})
    assert (early.status, early.code) == (409, "refund_not_needing_review"), early.body

    platform.bank.close_account(fam.payer_account)
    platform.post(f"/v1/refund-requests/{refund_id}/approve", shop.staff, {})
    parked = platform.get(f"/v1/refund-requests/{refund_id}", fam.parent).body
    assert parked["status"] == "needs_review", parked
    told = platform.get("/v1/notifications", fam.parent).body["items"]
    assert any(n["event"] == "refund_account_needed" and n["subject_id"] == refund_id
               for n in told), told

    for who, account, status, code in (
        (stranger.parent, "PAYER-NEW-0002", 404, "refund_not_found"),
        (shop.staff, "PAYER-NEW-0002", 403, "role_not_allowed"),
        (fam.parent, shop.general_account, 422, "payout_account_is_institution"),
        (fam.parent, fam.payer_account, 422, "payout_account_unchanged"),
        (fam.parent, "账户\u202e1", 400, "validation_error"),
    ):
        refused = platform.post(account_path, who, {"account": account})
        assert (refused.status, refused.code) == (status, code), refused.body
    named = platform.post(account_path, fam.parent, {"account": "PAYER-NEW-0002"})
    assert named.status == 200, named.body
    assert named.body["status"] == "approved"
    assert named.body["payout_account_changes"][-1]["named_by"] == "parent"
    again = platform.post(account_path, fam.parent, {"account": "PAYER-NEW-0002"})
    assert again.status == 200 and again.body == named.body  # a retry answers the same
    platform.run_schedule("settlement_sweeper")
    platform.bank.deliver_pending()
    assert platform.get(f"/v1/refund-requests/{refund_id}", fam.parent).body[
        "status"] == "refunded"
    assert platform.bank.balance("PAYER-NEW-0002") == order["amount_fen"]
    seen_by_staff = platform.get(f"/v1/refund-requests/{refund_id}", shop.staff).body
    assert "PAYER-NEW-0002" not in json.dumps(seen_by_staff)  # the parent's account is theirs
    platform.check()
