"""Money that matched no order goes back to the payer through the bank, two-phase, exactly
once, and ops can see every return (chalicelib/service/refunds/unmatched_returns.py)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator

import pytest
from click.testing import Result
from typer.testing import CliRunner

from chalicelib import bootstrap
from chalicelib.domain.escrow.bank import UnmatchedPayment, UnmatchedStatus
from infra.cli import cli
from infra.cli import payments as payments_cli
from tests.support import flows
from tests.support.harness import Platform
from tests.support.invariants import scan
from tests.support.served_bank import served


def unmatched(p: Platform) -> list[UnmatchedPayment]:
    store = bootstrap.context().store
    found = [store.unmatched(i["pk"]) for i in scan(p.dynamodb, p.plane.platform_table)
             if i["sk"] == "#unmatched_payment"]
    return [u for u in found if u is not None]


def only_unmatched(p: Platform) -> UnmatchedPayment:
    [payment] = unmatched(p)
    return payment


def test_a_payment_of_the_wrong_amount_goes_back_to_its_payer_once(platform: Platform) -> None:
    shop = flows.open_shop(platform)
    fam = flows.family(platform)
    order = flows.buy(platform, shop, fam, lessons=2)
    platform.bank.duplicate_callbacks(3)  # the bank tells the platform everything three times
    flows.pay(platform, fam, order, amount_fen=order["amount_fen"] - 1)
    platform.check()
    returned = only_unmatched(platform)
    assert returned.status is UnmatchedStatus.RETURNED and returned.attempt == 1
    assert returned.payer_account == fam.payer_account
    assert returned.received_account == shop.supervised_account
    assert platform.bank.balance(fam.payer_account) == 0
    assert platform.bank.balance(shop.supervised_account) == 0
    assert platform.bank.instructions_executed() == 1
    platform.run_schedule("settlement_sweeper")  # nothing left to resend
    assert platform.bank.instructions_executed() == 1
    # the order is still waiting for the right amount, which it takes
    flows.pay(platform, fam, order)
    platform.check()
    assert flows.order_of(platform, fam.parent, order["order_id"])["status"] == "paid"


def test_a_second_payment_for_a_paid_order_goes_back(platform: Platform) -> None:
    shop = flows.open_shop(platform)
    fam = flows.family(platform)
    order = flows.buy_and_pay(platform, shop, fam, lessons=2)
    flows.pay(platform, fam, order)
    platform.check()
    assert only_unmatched(platform).status is UnmatchedStatus.RETURNED
    assert platform.bank.balance(fam.payer_account) == -order["amount_fen"]
    assert platform.bank.balance(shop.supervised_account) == order["amount_fen"]


def test_a_failed_return_is_sent_again_as_a_new_attempt_and_paid_once(
    platform: Platform,
) -> None:
    shop = flows.open_shop(platform)
    fam = flows.family(platform)
    order = flows.buy(platform, shop, fam, lessons=2)
    platform.advance(minutes=31)
    platform.run_schedule("expire_orders")
    platform.bank.fail_next_transfers(1)
    flows.pay(platform, fam, order)
    platform.check()
    failed = only_unmatched(platform)
    assert failed.status is UnmatchedStatus.RETURNING and failed.attempt == 2
    assert platform.bank.balance(fam.payer_account) == -order["amount_fen"]
    platform.run_schedule("settlement_sweeper")  # backoff: not due yet
    assert only_unmatched(platform).status is UnmatchedStatus.RETURNING
    platform.advance(minutes=2)
    platform.run_schedule("settlement_sweeper")
    platform.bank.deliver_pending()
    platform.check()
    assert only_unmatched(platform).status is UnmatchedStatus.RETURNED
    assert platform.bank.balance(fam.payer_account) == 0


def test_a_bank_that_cannot_be_reached_gets_the_return_resent_by_the_schedule(
    platform: Platform,
) -> None:
    shop = flows.open_shop(platform)
    fam = flows.family(platform)
    order = flows.buy_and_pay(platform, shop, fam, lessons=2)
    platform.bank.pay(fam.payer_account, shop.supervised_account, order["payment"]["reference"],
                      500)
    platform.bank.set_unavailable(True)
    platform.bank.deliver_pending()
    assert only_unmatched(platform).status is UnmatchedStatus.RETURNING
    platform.bank.set_unavailable(False)
    platform.advance(minutes=11)
    platform.run_schedule("settlement_sweeper")
    platform.bank.deliver_pending()
    platform.check()
    assert only_unmatched(platform).status is UnmatchedStatus.RETURNED
    assert platform.bank.instructions_executed() == 1


@pytest.fixture
def ops(platform: Platform, monkeypatch: pytest.MonkeyPatch
        ) -> Iterator[Callable[..., Result]]:
    """The ops CLI on the test's stage, with the test's clock rather than the system's."""
    real_target = payments_cli.target_of
    monkeypatch.setattr(payments_cli, "target_of", lambda *a: dataclasses.replace(
        real_target(*a), platform_clock=platform.clock))
    with served(platform.bank) as bank_url:  # asked before a parked return is retried
        yield lambda *args: CliRunner().invoke(cli, [*args, "--stage", "test", *(
            ["--bank-url", bank_url] if args[:2] == ("payments", "return") else [])])


@pytest.mark.parametrize("platform", ["moto"], indirect=True)
def test_a_return_refused_for_good_is_parked_listed_for_ops_and_returned_when_fixed(
    platform: Platform, ops: Callable[..., Result],
) -> None:
    shop = flows.open_shop(platform)
    fam = flows.family(platform)
    order = flows.buy(platform, shop, fam, lessons=2)
    platform.bank.close_account(fam.payer_account)
    flows.pay(platform, fam, order, amount_fen=123)
    platform.check()
    parked = only_unmatched(platform)
    assert parked.status is UnmatchedStatus.NEEDS_REVIEW
    assert "account_closed" in parked.review_reason

    listed = ops("payments", "unmatched")
    assert listed.exit_code == 0, listed.output
    assert parked.unmatched_id in listed.stdout and "amount_mismatch" in listed.stdout
    assert "1 unmatched payment(s)" in listed.stdout

    platform.bank.reopen_account(fam.payer_account)
    again = ops("payments", "return", parked.unmatched_id)
    assert again.exit_code == 0, again.output
    assert f"bku_{parked.unmatched_id.removeprefix('ump_')}_2" in again.stdout
    platform.run_schedule("settlement_sweeper")
    platform.bank.deliver_pending()
    platform.check()
    assert only_unmatched(platform).status is UnmatchedStatus.RETURNED
    assert platform.bank.balance(fam.payer_account) == 0
    twice = ops("payments", "return", parked.unmatched_id)
    assert twice.exit_code == 1 and "unmatched_payment_not_retryable" in twice.output
    done = ops("payments", "unmatched", "--status", "returned")
    assert parked.unmatched_id in done.stdout


def test_a_payment_naming_no_order_goes_back_from_the_account_it_reached(
    platform: Platform,
) -> None:
    shop = flows.open_shop(platform)
    fam = flows.family(platform)
    platform.bank.pay(fam.payer_account, shop.supervised_account, "P" + "9" * 26, 4_200)
    platform.bank.deliver_pending()
    platform.check()
    returned = only_unmatched(platform)
    assert returned.reason == "unknown_reference" and returned.order_id == ""
    assert returned.status is UnmatchedStatus.RETURNED
    assert platform.bank.balance(shop.supervised_account) == 0
    assert platform.bank.balance(fam.payer_account) == 0


@pytest.mark.parametrize("platform", ["moto"], indirect=True)
def test_without_a_way_back_a_payment_is_kept_for_ops_until_they_give_its_route(
    platform: Platform, ops: Callable[..., Result],
) -> None:
    shop = flows.open_shop(platform)
    fam = flows.family(platform)
    platform.bank.omit_accounts_next_payments(1)
    platform.bank.pay(fam.payer_account, shop.supervised_account, "P" + "8" * 26, 700)
    assert platform.bank.deliver_pending() == 1
    kept = only_unmatched(platform)
    assert kept.status is UnmatchedStatus.NEEDS_REVIEW and kept.review_reason == "no_return_route"
    assert kept.reason == "account_missing" and kept.received_account == ""
    assert platform.bank.instructions_executed() == 0
    refused = ops("payments", "return", kept.unmatched_id)
    assert refused.exit_code == 1 and "unmatched_payment_needs_route" in refused.output
    # ops read the accounts off the bank's record: the money goes back from where it is
    queued = ops("payments", "return", kept.unmatched_id, "--payer", fam.payer_account,
                 "--received", shop.supervised_account)
    assert queued.exit_code == 0, queued.output
    platform.run_schedule("settlement_sweeper")
    platform.bank.deliver_pending()
    returned = only_unmatched(platform)
    assert (returned.status, returned.route_given_by) == (UnmatchedStatus.RETURNED, "ops")
    assert platform.bank.balance(shop.supervised_account) == 0
    assert platform.bank.balance(fam.payer_account) == 0
    platform.check()
    again = ops("payments", "return", kept.unmatched_id, "--payer", "PAYER-OTHER-1",
                "--received", shop.supervised_account)
    assert again.exit_code == 1 and "unmatched_payment_not_retryable" in again.output
