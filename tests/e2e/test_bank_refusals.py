"""A bank that refuses a release for good (a closed or invalid account, an instruction
conflict) or keeps failing it never strands the money in `releasing`: the reservation is
voided in one transaction, the lesson parked as `needs_review` with the bank's reason,
counted and alarmed on, and ops retry it once the account is fixed, under a new instruction
id."""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

from chalicelib import bootstrap
from chalicelib.domain.consumption import MAX_RELEASE_ATTEMPTS, instruction_id
from chalicelib.domain.errors import StateConflict
from chalicelib.service import parked
from chalicelib.service.ports import TransferInstruction
from infra.cli import cli
from tests.support import flows
from tests.support.harness import Platform
from tests.support.invariants import scan

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


def test_an_instruction_conflict_at_the_bank_parks_the_release_with_the_banks_reason(
    platform: Platform,
) -> None:
    shop, fam, order, consumption_id = confirmed_lesson(platform)
    platform.bank.fail_next_transfers(1)  # the id already names another (failed) transfer
    platform.bank.instruct_transfer(TransferInstruction(
        instruction_id(consumption_id, 1), shop.supervised_account, "SOMEONE-ELSE", 1))
    platform.settle_everything()
    platform.check()
    (listed,) = parked.listing(bootstrap.context(), limit=10, cursor=None).items
    assert listed.consumption_id == consumption_id
    assert "resent with different contents" in listed.review_reason
    seen = flows.order_of(platform, fam.parent, order["order_id"])
    assert (seen["held_fen"], seen["releasing_fen"]) == (4 * PRICE, 0)


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
    retried = CliRunner().invoke(cli, ["review", "retry", consumption_id, "--stage", "test"])
    assert retried.exit_code == 0, retried.output
    assert instruction_id(consumption_id, 2) in retried.stdout
    platform.settle_everything()
    platform.check()
    assert consumption(platform, fam, consumption_id)["status"] == "released"
    again = CliRunner().invoke(cli, ["review", "retry", consumption_id, "--stage", "test"])
    assert again.exit_code == 1 and "consumption_not_needing_review" in again.output
