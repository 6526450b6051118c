"""A bank that refuses a release for good (a closed or invalid account, an instruction
conflict) or keeps failing it never strands the money in `releasing`: the reservation is
voided in one transaction, the lesson parked as `needs_review` with the bank's reason,
counted and alarmed on, and ops retry it once the account is fixed, under a new instruction
id."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from typer.testing import CliRunner

from chalicelib import bootstrap
from chalicelib.domain.errors import StateConflict
from chalicelib.domain.escrow.consumption import (
    MAX_RELEASE_ATTEMPTS,
    ConsumptionStatus,
    instruction_id,
)
from chalicelib.service.escrow import parked, transfers
from chalicelib.service.ports import TransferInstruction
from infra.cli import cli
from tests.support import flows
from tests.support.harness import Platform
from tests.support.invariants import scan
from tests.support.served_bank import served

PRICE = 12_500


def confirmed_lesson(p: Platform) -> tuple[flows.Shop, flows.Family, dict[str, Any], str]:
    shop = flows.open_shop(p, price=PRICE)
    fam = flows.family(p)
    order = flows.buy_and_pay(p, shop, fam, lessons=4)
    consumption_id = flows.record_lesson(p, shop, [order["order_id"]])["consumptions"][0][
        "consumption_id"]
    flows.confirm(p, fam, consumption_id)
    return shop, fam, order, consumption_id


def consumption(p: Platform, fam: flows.Family, consumption_id: str) -> dict[str, Any]:
    listed = p.get("/v1/consumptions?limit=100", fam.parent).body["items"]
    (found,) = [c for c in listed if c["consumption_id"] == consumption_id]
    return dict(found)


def instruction_status(p: Platform, instruction: str) -> str:
    (item,) = [i for i in scan(p.dynamodb, p.plane.platform_table) if i["pk"] == instruction]
    return str(item["status"])


def test_a_release_to_a_closed_account_is_voided_parked_and_retried_after_the_fix(
    platform: Platform,
) -> None:
    shop, fam, order, consumption_id = confirmed_lesson(platform)
    platform.bank.close_account(shop.general_account)
    platform.settle_everything()
    platform.check()

    held = flows.order_of(platform, fam.parent, order["order_id"])
    assert (held["held_fen"], held["releasing_fen"], held["released_fen"]) == (4 * PRICE, 0, 0)
    assert held["lessons_confirmed_unreleased"] == 1
    parked_one = consumption(platform, fam, consumption_id)
    assert parked_one["status"] == "needs_review"
    assert instruction_status(platform, instruction_id(consumption_id, 1)) == "refused"
    assert platform.bank.balance(shop.general_account) == 0
    assert platform.queued_settlements() == 0

    platform.advance(hours=3)  # the sweep leaves it alone, and reports it for the alarm
    platform.run_schedule("settlement_sweeper")
    assert platform.queued_settlements() == 0
    assert platform.metrics.last("ConsumptionsNeedingReview") == 1

    platform.bank.reopen_account(shop.general_account)
    retried = parked.retry(bootstrap.context(), consumption_id)
    assert retried.attempt == 2
    platform.settle_everything()
    platform.check()
    assert consumption(platform, fam, consumption_id)["status"] == "released"
    assert platform.bank.balance(shop.general_account) == PRICE
    assert platform.bank.executed_instruction(instruction_id(consumption_id, 1)) is None
    assert platform.bank.executed_instruction(instruction_id(consumption_id, 2)) is not None
    with pytest.raises(StateConflict):
        parked.retry(bootstrap.context(), consumption_id)
    platform.run_schedule("settlement_sweeper")
    assert platform.metrics.last("ConsumptionsNeedingReview") == 0


def test_an_instruction_conflict_is_settled_by_the_banks_record_of_the_instruction(
    platform: Platform,
) -> None:
    """The bank already knows the instruction id, with other contents: its record of what
    it did with it decides (here it failed, so the release is retried under a new id)."""
    shop, fam, order, consumption_id = confirmed_lesson(platform)
    platform.bank.fail_next_transfers(1)
    platform.bank.instruct_transfer(TransferInstruction(
        instruction_id(consumption_id, 1), shop.supervised_account, "SOMEONE-ELSE", 1))
    platform.settle_everything()
    platform.check()
    assert parked.listing(bootstrap.context(), limit=10, cursor=None).items == []
    assert instruction_status(platform, instruction_id(consumption_id, 1)) == "failed"
    seen = flows.order_of(platform, fam.parent, order["order_id"])
    assert (seen["released_fen"], seen["releasing_fen"]) == (PRICE, 0)
    assert platform.bank.balance(shop.general_account) == PRICE


def test_a_release_the_bank_keeps_failing_is_retried_with_backoff_then_parked(
    platform: Platform,
) -> None:
    shop, fam, order, consumption_id = confirmed_lesson(platform)
    platform.bank.fail_next_transfers(MAX_RELEASE_ATTEMPTS, reason="account_frozen_by_court")
    for _ in range(2 * MAX_RELEASE_ATTEMPTS):
        platform.settle_everything()
        platform.check()
        if consumption(platform, fam, consumption_id)["status"] == "needs_review":
            break
        platform.advance(hours=2)
        platform.run_schedule("settlement_sweeper")
    assert platform.bank.instructions_executed() == MAX_RELEASE_ATTEMPTS
    (listed,) = parked.listing(bootstrap.context(), limit=10, cursor=None).items
    assert (listed.attempt, listed.review_reason) == (MAX_RELEASE_ATTEMPTS,
                                                      "account_frozen_by_court")
    seen = flows.order_of(platform, fam.parent, order["order_id"])
    assert (seen["held_fen"], seen["releasing_fen"]) == (4 * PRICE, 0)
    assert platform.bank.balance(shop.general_account) == 0


@pytest.mark.parametrize("platform", ["moto"], indirect=True)
def test_ops_list_and_retry_parked_releases_with_the_cli(platform: Platform) -> None:
    shop, fam, _order, consumption_id = confirmed_lesson(platform)
    platform.bank.close_account(shop.general_account)
    platform.settle_everything()

    listed = CliRunner().invoke(cli, ["review", "list", "--stage", "test"])
    assert listed.exit_code == 0, listed.output
    assert consumption_id in listed.stdout and "account_closed" in listed.stdout
    assert "1 release(s) need review" in listed.stdout
    status = CliRunner().invoke(cli, ["status", "--stage", "test", "--check"])
    assert status.exit_code == 1 and "1 release(s) parked for review" in status.stdout

    platform.bank.reopen_account(shop.general_account)
    no_bank = CliRunner().invoke(cli, ["review", "retry", consumption_id, "--stage", "test"])
    assert no_bank.exit_code == 1 and "bank_record_unavailable" in no_bank.output
    with served(platform.bank) as bank_url:  # asked what it did with attempt 1 first
        retry = ["review", "retry", consumption_id, "--stage", "test", "--bank-url", bank_url]
        retried = CliRunner().invoke(cli, retry)
        assert retried.exit_code == 0, retried.output
        assert instruction_id(consumption_id, 2) in retried.stdout
        platform.settle_everything()
        platform.check()
        assert consumption(platform, fam, consumption_id)["status"] == "released"
        again = CliRunner().invoke(cli, retry)
        assert again.exit_code == 1 and "consumption_not_needing_review" in again.output


def status_of(consumption_id: str) -> ConsumptionStatus:
    found = bootstrap.context().store.consumption(consumption_id)
    assert found is not None
    return found.status


# A refusal is of one request, not proof the bank never executed the instruction: an
# earlier send may have been executed (its callback late, or its answer lost).


def test_a_refused_resend_of_an_executed_release_does_not_pay_the_lesson_twice(
    platform: Platform,
) -> None:
    shop, fam, order, consumption_id = confirmed_lesson(platform)
    platform.bank.hold_callbacks()  # the bank's outcome notification is late
    platform.settle_everything()  # reserved and instructed: the bank executes it
    executed = platform.bank.executed_instruction(instruction_id(consumption_id, 1))
    assert executed is not None and executed.succeeded
    assert platform.bank.balance(shop.general_account) == PRICE

    # Afterwards the account is closed (or the bank answers a duplicate id with a 4xx):
    platform.bank.close_account(shop.general_account)
    platform.advance(minutes=15)
    platform.run_schedule("settlement_sweeper")  # no callback yet: the sweep resends
    platform.settle_everything()  # resend refused 4xx -> voided and parked

    platform.bank.release_callbacks()
    platform.bank.deliver_pending()  # the late transfer_succeeded of attempt 1

    # Ops follow the runbook: the account is fixed, every parked release is retried.
    platform.bank.reopen_account(shop.general_account)
    if status_of(consumption_id) is ConsumptionStatus.NEEDS_REVIEW:
        parked.retry(bootstrap.context(), consumption_id)
    platform.settle_everything()

    platform.check()
    assert platform.bank.pending_notifications() == 0
    seen = flows.order_of(platform, fam.parent, order["order_id"])
    assert platform.bank.balance(shop.general_account) == PRICE, (
        f"one lesson of {PRICE} fen paid out {platform.bank.balance(shop.general_account)} "
        f"fen at the bank; the platform booked released={seen['released_fen']}"
    )


def test_the_banks_late_outcome_for_a_parked_instruction_is_not_refused_forever(
    platform: Platform,
) -> None:
    shop, _fam, _order, consumption_id = confirmed_lesson(platform)
    platform.bank.hold_callbacks()
    platform.bank.fail_next_transfers(1, reason="account_frozen")
    platform.settle_everything()  # executed (and failed) at the bank; the callback is late
    platform.bank.close_account(shop.general_account)
    platform.advance(minutes=15)
    platform.run_schedule("settlement_sweeper")
    platform.settle_everything()  # the resend is refused: voided and parked
    assert status_of(consumption_id) is ConsumptionStatus.NEEDS_REVIEW
    platform.bank.release_callbacks()
    for _ in range(3):
        platform.bank.deliver_pending()
    assert platform.bank.pending_notifications() == 0, (
        "the bank's transfer_failed for the parked instruction is answered 409 "
        "instruction_already_resolved on every delivery"
    )


def test_a_success_callback_racing_a_refused_resend_is_not_swallowed_as_a_duplicate(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop, fam, order, consumption_id = confirmed_lesson(platform)
    platform.bank.hold_callbacks()
    platform.settle_everything()  # the bank executes attempt 1; its callback is late
    # The callback arrives while a settle worker's resend of the same instruction is being
    # refused: the worker's park commits between the callback's read and its write.
    original = transfers._releasing
    armed = [True]

    def park_in_between(ctx: Any, instruction: Any) -> Any:
        found = original(ctx, instruction)
        if armed:
            armed.clear()
            transfers.park(ctx, instruction, "account_closed: the resend was refused")
        return found

    monkeypatch.setattr(transfers, "_releasing", park_in_between)
    platform.bank.release_callbacks()
    assert platform.bank.deliver_pending() == 0  # not acknowledged: the bank will send it again
    platform.bank.deliver_pending()
    assert platform.bank.pending_notifications() == 0
    platform.check()
    seen = flows.order_of(platform, fam.parent, order["order_id"])
    assert platform.bank.balance(shop.general_account) == PRICE
    assert seen["released_fen"] == PRICE, (
        "the bank moved the money and was answered 200, but the ledger holds it "
        f"(held={seen['held_fen']}, released={seen['released_fen']}, "
        f"consumption {status_of(consumption_id)})"
    )


def test_a_dispute_stops_a_release_that_the_bank_has_not_taken_yet(
    platform: Platform,
) -> None:
    shop = flows.open_shop(platform, price=10_000)
    fam = flows.family(platform)
    order = flows.buy_and_pay(platform, shop, fam, lessons=3)
    first = flows.record_lesson(platform, shop, [order["order_id"]])["consumptions"][0]
    second = flows.record_lesson(platform, shop, [order["order_id"]])["consumptions"][0]
    platform.bank.set_unavailable(True)
    flows.confirm(platform, fam, first["consumption_id"])
    platform.settle_everything()  # reserved; the bank could not be reached: put off
    assert platform.bank.instructions_executed() == 0
    disputed = platform.post(f"/v1/consumptions/{second['consumption_id']}/dispute",
                             fam.parent, {"reason": "老师没有来上课"})
    assert disputed.status == 200
    platform.bank.set_unavailable(False)
    platform.advance(minutes=15)
    platform.run_schedule("settlement_sweeper")
    platform.settle_everything()
    seen = flows.order_of(platform, fam.parent, order["order_id"])
    assert seen["open_disputes"] == 1
    assert seen["released_fen"] == 0, "money left the supervised account during the dispute"


def test_an_unreachable_banks_backoff_doubles_once_per_attempt(platform: Platform) -> None:
    _shop, _fam, _order, consumption_id = confirmed_lesson(platform)
    platform.bank.set_unavailable(True)
    waits = []
    platform.settle_everything()  # the fast path: put off once
    for _ in range(4):
        (stored,) = [i for i in scan(platform.dynamodb, platform.plane.platform_table)
                     if i["pk"] == consumption_id]
        due_at = datetime.fromisoformat(stored["due_sk"].split("#")[0])
        waits.append(round((due_at - platform.clock.now()).total_seconds() / 60))
        platform.clock.set(max(platform.clock.now(), due_at))
        platform.run_schedule("settlement_sweeper")
        platform.settle_everything()
    assert waits == [1, 2, 4, 8]
