"""A liquidation is complete only when the escrow is empty (issue 22, point 9): every order's
held + releasing + refunding is zero and nothing its supervised account received for no
order is waiting to go back. Anything still held (a release or a refund parked for ops, a
payment awaiting its return) keeps it in a state that names what is left, for regulators
and for ops (`infra.cli liquidations`), never silently `completed`."""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

from chalicelib import bootstrap
from chalicelib.service.escrow import parked
from chalicelib.service.refunds import unmatched_returns
from infra.cli import cli
from tests.e2e.test_liquidation import liquidate, progress, run_liquidation, watch
from tests.support import flows
from tests.support.harness import Platform
from tests.support.parked_money import expired_order, paid_late_and_parked, parked_release

PRICE = 11_000


def parked_release_then_liquidated(p: Platform) -> tuple[flows.Shop, str, str]:
    """An order of three lessons, one confirmed whose release the bank refused (parked),
    then its institution liquidated: the shop, the order, the parked lesson."""
    shop, _fam, order_id, consumption_id = parked_release(p, PRICE)
    assert liquidate(p, shop.institution_id).status == 200
    p.drain_sweeps()
    run_liquidation(p)
    watch(p)
    return shop, order_id, consumption_id


def test_a_liquidation_is_not_completed_while_a_parked_release_holds_money(
    platform: Platform,
) -> None:
    p = platform
    shop, order_id, consumption_id = parked_release_then_liquidated(p)
    held = progress(p, shop.institution_id)
    assert (held["status"], held["orders_done"], held["fen_refunded"]) == (
        "escrow_held", 1, 2 * PRICE), held
    left = held["outstanding"]
    assert left["orders"] == {"count": 1, "fen": PRICE, "ids": [order_id]}
    assert left["releases_parked"] == {"count": 1, "fen": PRICE, "ids": [consumption_id]}
    assert left["refunds_in_flight"]["count"] == left["returns_awaiting"]["count"] == 0
    watch(p)  # looked at again: still held
    assert progress(p, shop.institution_id)["status"] == "escrow_held"

    p.bank.reopen_account(shop.general_account)  # ops fix it with the bank and retry
    parked.retry(bootstrap.context(), consumption_id)
    p.settle_everything()
    watch(p)
    done = progress(p, shop.institution_id)
    assert done["status"] == "completed" and done["completed_at"], done
    assert done["outstanding"]["orders"]["count"] == 0
    assert p.bank.balance(shop.supervised_account) == 0
    p.check()


def test_a_liquidation_waits_for_money_its_supervised_account_received_for_no_order(
    platform: Platform,
) -> None:
    p = platform
    shop = flows.open_shop(p, price=PRICE)
    fam = flows.family(p)
    unmatched_id = paid_late_and_parked(p, fam, expired_order(p, shop, fam, lessons=2))
    assert liquidate(p, shop.institution_id).status == 200
    p.drain_sweeps()
    run_liquidation(p)
    watch(p)
    held = progress(p, shop.institution_id)
    assert held["status"] == "escrow_held", held
    assert held["outstanding"]["returns_awaiting"] == {
        "count": 1, "fen": 2 * PRICE, "ids": [unmatched_id]}
    assert held["outstanding"]["orders"]["count"] == 0

    p.bank.reopen_account(fam.payer_account)
    unmatched_returns.retry_parked(bootstrap.context(), unmatched_id)
    p.run_schedule("settlement_sweeper")
    p.bank.deliver_pending()
    watch(p)
    assert progress(p, shop.institution_id)["status"] == "completed"
    p.check()


def ops(*args: str) -> Any:
    return CliRunner().invoke(cli, [*args, "--stage", "test"])


@pytest.mark.parametrize("platform", ["moto"], indirect=True)
def test_ops_list_the_liquidations_not_completed_and_what_each_still_holds(
    platform: Platform,
) -> None:
    p = platform
    shop, order_id, consumption_id = parked_release_then_liquidated(p)
    listed = ops("liquidations", "list")
    assert listed.exit_code == 0, listed.output
    assert shop.institution_id in listed.stdout and "escrow_held" in listed.stdout
    assert "1 liquidation(s) not completed" in listed.stdout
    shown = ops("liquidations", "show", shop.institution_id)
    assert shown.exit_code == 0, shown.output
    assert order_id in shown.stdout and consumption_id in shown.stdout
    assert "releases_parked" in shown.stdout
    unknown = ops("liquidations", "show", "ins_" + "0" * 26)
    assert unknown.exit_code == 1 and "liquidation_not_found" in unknown.output

    p.bank.reopen_account(shop.general_account)
    parked.retry(bootstrap.context(), consumption_id)
    p.settle_everything()
    watch(p)
    assert "0 liquidation(s) not completed" in ops("liquidations", "list").stdout
    assert "completed" in ops("liquidations", "show", shop.institution_id).stdout
