"""A retry never pays twice (issue 22, point 8). A payout parked for ops (a release, a
refund, a return of money that matched no order) may still be executed by the bank later:
the send that timed out was taken after all. Before ops send it again under a new attempt,
the platform asks the bank for its record of the last one: executed, it is booked, never
sent again; a bank that cannot be asked refuses the retry and nothing changes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from chalicelib import bootstrap
from chalicelib.domain.errors import StateConflict
from chalicelib.domain.escrow.bank import UnmatchedStatus
from chalicelib.domain.escrow.consumption import ConsumptionStatus, instruction_id
from chalicelib.domain.refunds.refund import RefundStatus
from chalicelib.service.escrow import parked
from chalicelib.service.ports import TransferInstruction
from chalicelib.service.refunds import refund_payouts, unmatched_returns
from infra.cli import cli
from tests.support import flows
from tests.support.harness import Platform
from tests.support.parked_money import expired_order, paid_late_and_parked, parked_release
from tests.support.served_bank import served

PRICE = 12_500


def consumption(consumption_id: str) -> Any:
    found = bootstrap.context().store.consumption(consumption_id)
    assert found is not None
    return found


def executed_late(p: Platform, instruction: str, from_account: str, to_account: str,
                  amount_fen: int) -> None:
    """The bank executes a send of `instruction` it had taken before refusing a resend
    (its answer to that send timed out); its callback is held back."""
    p.bank.hold_callbacks()
    p.bank.instruct_transfer(TransferInstruction(instruction, from_account, to_account,
                                                 amount_fen))


@pytest.fixture
def bank_url(platform: Platform) -> Iterator[str]:
    with served(platform.bank) as url:
        yield url


def ops(bank_url: str, *args: str) -> Any:
    return CliRunner().invoke(cli, [*args, "--stage", "test", "--bank-url", bank_url])


def test_a_parked_release_the_bank_executed_late_is_booked_by_the_retry_not_paid_again(
    platform: Platform,
) -> None:
    p = platform
    shop, fam, order_id, consumption_id = parked_release(p, PRICE)
    p.bank.reopen_account(shop.general_account)
    executed_late(p, instruction_id(consumption_id, 1), shop.supervised_account,
                  shop.general_account, PRICE)

    retried = parked.retry(bootstrap.context(), consumption_id)
    assert (retried.status, retried.attempt) == (ConsumptionStatus.RELEASED, 1)
    p.bank.release_callbacks()
    p.settle_everything()  # the late callback: a duplicate of what was booked
    assert p.bank.pending_notifications() == 0
    assert p.bank.executed_instruction(instruction_id(consumption_id, 2)) is None
    assert p.bank.balance(shop.general_account) == PRICE
    seen = flows.order_of(p, fam.parent, order_id)
    assert (seen["released_fen"], seen["held_fen"], seen["lessons_released"]) == (
        PRICE, 2 * PRICE, 1)
    with pytest.raises(StateConflict) as again:
        parked.retry(bootstrap.context(), consumption_id)
    assert again.value.code == "consumption_not_needing_review"
    p.check()


@pytest.mark.parametrize("platform", ["moto"], indirect=True)
def test_ops_retry_books_what_the_bank_says_it_executed_and_says_so(
    platform: Platform, bank_url: str,
) -> None:
    p = platform
    shop, _fam, _order_id, consumption_id = parked_release(p, PRICE)
    p.bank.reopen_account(shop.general_account)
    executed_late(p, instruction_id(consumption_id, 1), shop.supervised_account,
                  shop.general_account, PRICE)
    no_bank = CliRunner().invoke(cli, ["review", "retry", consumption_id, "--stage", "test"])
    assert no_bank.exit_code == 1 and "bank_record_unavailable" in no_bank.output
    retried = ops(bank_url, "review", "retry", consumption_id)
    assert retried.exit_code == 0, retried.output
    assert f"booked: the bank had executed {instruction_id(consumption_id, 1)}" in (
        retried.stdout)
    p.bank.release_callbacks()
    p.settle_everything()
    assert p.bank.balance(shop.general_account) == PRICE
    p.check()


def refused_while_the_bank_is_down(retry: Any, entity_id: str) -> None:
    """Ops retry a parked payout while the bank cannot say what it did with the last one:
    refused, and nothing changes."""
    with pytest.raises(StateConflict) as refused:
        retry(bootstrap.context(), entity_id)
    assert refused.value.code == "bank_record_unavailable"


def test_a_release_retry_is_refused_while_the_bank_cannot_say_what_it_did(
    platform: Platform,
) -> None:
    p = platform
    shop, _fam, _order_id, consumption_id = parked_release(p, PRICE)
    p.bank.reopen_account(shop.general_account)
    p.bank.set_unavailable(True)
    refused_while_the_bank_is_down(parked.retry, consumption_id)
    still = consumption(consumption_id)
    assert (still.status, still.attempt) == (ConsumptionStatus.NEEDS_REVIEW, 1)
    assert p.queued_settlements() == 0

    p.bank.set_unavailable(False)  # the bank never executed it: a new attempt, paid once
    assert parked.retry(bootstrap.context(), consumption_id).attempt == 2
    p.settle_everything()
    assert consumption(consumption_id).status is ConsumptionStatus.RELEASED
    assert p.bank.balance(shop.general_account) == PRICE
    p.check()


def parked_refund(p: Platform) -> tuple[flows.Shop, flows.Family, str, Any]:
    """An order of three lessons, one taught; its refund approved and refused for good by
    the bank (the payer's account closed), which never executed it: parked."""
    shop = flows.open_shop(p, price=PRICE)
    fam = flows.family(p)
    order_id = flows.buy_and_pay(p, shop, fam, lessons=3)["order_id"]
    flows.record_lesson(p, shop, [order_id])
    asked = p.post(f"/v1/orders/{order_id}/refund-requests", fam.parent, {"reason": "搬家"})
    assert asked.status == 201, asked.body
    p.bank.close_account(fam.payer_account)
    approved = p.post(f"/v1/refund-requests/{asked.body['refund_id']}/approve", shop.staff, {})
    assert approved.status == 200, approved.body
    request = refund(asked.body["refund_id"])
    assert request.status is RefundStatus.NEEDS_REVIEW
    return shop, fam, order_id, request


def parked_then_paid_late(p: Platform) -> tuple[flows.Family, str, Any]:
    """A parked refund (`parked_refund`) whose send the bank had taken: once the payer's
    account is open again, the bank executes it, its callback held back."""
    shop, fam, order_id, request = parked_refund(p)
    p.bank.reopen_account(fam.payer_account)
    executed_late(p, request.instruction_id, shop.supervised_account, fam.payer_account,
                  request.amount_fen)
    return fam, order_id, request


def refund(refund_id: str) -> Any:
    found = bootstrap.context().store.refund(refund_id)
    assert found is not None
    return found


def refunded_once_by_its_route(p: Platform, fam: flows.Family, order_id: str,
                               request: Any) -> None:
    """One payout (the lesson taught is still pending), back to the account the order was
    paid from, and the order says so."""
    assert p.bank.instructions_executed() == 1
    assert p.bank.balance(fam.payer_account) == -3 * PRICE + request.amount_fen
    seen = flows.order_of(p, fam.parent, order_id)
    assert (seen["refunded_fen"], seen["refunding_fen"], seen["lessons_refunded"]) == (
        request.amount_fen, 0, 2)
    p.check()


def test_a_parked_refund_the_bank_executed_late_is_booked_by_the_retry_not_paid_again(
    platform: Platform,
) -> None:
    p = platform
    fam, order_id, request = parked_then_paid_late(p)

    retried = refund_payouts.retry_parked(bootstrap.context(), request.refund_id)
    assert (retried.status, retried.attempt) == (RefundStatus.REFUNDED, 1)
    p.bank.release_callbacks()
    p.run_schedule("settlement_sweeper")  # nothing left for the refund job to send
    p.settle_everything()
    assert p.bank.pending_notifications() == 0
    refunded_once_by_its_route(p, fam, order_id, request)


def test_the_late_callback_of_a_parked_refund_books_it_and_the_retry_then_has_nothing_to_do(
    platform: Platform,
) -> None:
    p = platform
    _fam, _order_id, request = parked_then_paid_late(p)
    p.bank.release_callbacks()
    p.bank.deliver_pending()
    assert p.bank.pending_notifications() == 0, "the bank's late success was not taken"
    assert refund(request.refund_id).status is RefundStatus.REFUNDED
    with pytest.raises(StateConflict) as again:
        refund_payouts.retry_parked(bootstrap.context(), request.refund_id)
    assert again.value.code == "refund_not_needing_review"
    assert p.bank.instructions_executed() == 1
    p.check()


def test_a_refund_retry_is_refused_while_the_bank_cannot_say_what_it_did(
    platform: Platform,
) -> None:
    p = platform
    _shop, fam, _order_id, request = parked_refund(p)
    p.bank.reopen_account(fam.payer_account)
    p.bank.set_unavailable(True)
    refused_while_the_bank_is_down(refund_payouts.retry_parked, request.refund_id)
    still = refund(request.refund_id)
    assert (still.status, still.attempt) == (RefundStatus.NEEDS_REVIEW, request.attempt)
    p.check()


def name_another_account(p: Platform, fam: flows.Family, refund_id: str) -> Any:
    return p.post(f"/v1/refund-requests/{refund_id}/payout-account", fam.parent,
                  {"account": f"{fam.payer_account}-NEW"})


def test_a_parked_refund_the_bank_executed_late_is_booked_when_its_parent_names_another_account(
    platform: Platform,
) -> None:
    """Found on unseen seed 27101: naming another account started a new attempt without
    asking the bank about the last one, which it had paid late: the parent was paid twice."""
    p = platform
    fam, order_id, request = parked_then_paid_late(p)

    named = name_another_account(p, fam, request.refund_id)
    assert named.status == 409, named.body
    assert (named.code, named.body["error"]["details"]["status"]) == (
        "refund_not_needing_review", "refunded")
    booked = refund(request.refund_id)
    assert (booked.status, booked.attempt, booked.payout_account_changes) == (
        RefundStatus.REFUNDED, 1, ())
    p.bank.release_callbacks()
    p.settle_everything()
    assert p.bank.balance(f"{fam.payer_account}-NEW") == 0
    refunded_once_by_its_route(p, fam, order_id, request)


def test_another_account_is_not_taken_while_the_bank_cannot_say_what_it_did(
    platform: Platform,
) -> None:
    p = platform
    _shop, fam, _order_id, request = parked_refund(p)
    p.bank.set_unavailable(True)
    named = name_another_account(p, fam, request.refund_id)
    assert (named.status, named.code) == (409, "bank_record_unavailable"), named.body
    still = refund(request.refund_id)
    assert (still.status, still.attempt, still.payout_account_changes) == (
        RefundStatus.NEEDS_REVIEW, request.attempt, ())
    p.bank.set_unavailable(False)
    named = name_another_account(p, fam, request.refund_id)
    assert named.status == 200, named.body
    p.run_schedule("settlement_sweeper")
    p.bank.deliver_pending()
    assert refund(request.refund_id).status is RefundStatus.REFUNDED
    assert p.bank.balance(f"{fam.payer_account}-NEW") == request.amount_fen
    assert p.bank.instructions_executed() == 1
    p.check()


def test_a_parked_return_the_bank_executed_late_is_marked_returned_not_paid_again(
    platform: Platform,
) -> None:
    p = platform
    shop = flows.open_shop(p, price=PRICE)
    fam = flows.family(p)
    unmatched_id = paid_late_and_parked(p, fam, expired_order(p, shop, fam, lessons=1))
    payment = bootstrap.context().store.unmatched(unmatched_id)
    assert payment is not None and payment.status is UnmatchedStatus.NEEDS_REVIEW
    p.bank.reopen_account(fam.payer_account)
    executed_late(p, payment.instruction_id, shop.supervised_account, fam.payer_account,
                  payment.amount_fen)

    returned = unmatched_returns.retry_parked(bootstrap.context(), payment.unmatched_id)
    assert (returned.status, returned.attempt) == (UnmatchedStatus.RETURNED, 1)
    p.bank.release_callbacks()
    p.run_schedule("settlement_sweeper")
    p.bank.deliver_pending()
    assert p.bank.pending_notifications() == 0
    assert p.bank.instructions_executed() == 1
    assert p.bank.balance(fam.payer_account) == 0
    p.check()
