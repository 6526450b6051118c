"""Every supervised account's day is reconciled with the bank's MT940 statement, to the fen
(chalicelib/service/supervision/reconciliations.py): each difference named with its amount,
nothing on a clean day, transfers in flight across midnight never a difference."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from typer.testing import CliRunner

from chalicelib import bootstrap
from chalicelib.domain.calendar import SHANGHAI, business_date
from chalicelib.domain.escrow.bank import UnmatchedPayment
from chalicelib.domain.escrow.bank_signature import sign
from chalicelib.domain.supervision.reconciliation import Reconciliation
from chalicelib.service.ports import BankUnavailable
from chalicelib.service.refunds import unmatched_returns
from chalicelib.service.supervision import reconciliations
from infra.cli import cli
from infra.cli import supervision as supervision_cli
from tests.support import flows
from tests.support.harness import BANK_SECRET, Platform
from tests.support.invariants import scan
from tests.support.served_bank import served


def today(p: Platform) -> date:
    return business_date(p.clock.now())


def next_morning(p: Platform) -> date:
    """Move the clock to 03:00 tomorrow (Asia/Shanghai), after the day's close: the day."""
    day = today(p)
    morning = datetime.combine(day + timedelta(days=1), datetime.min.time(), SHANGHAI)
    p.advance(seconds=(morning + timedelta(hours=3) - p.clock.now()).total_seconds())
    return day


def reconciled(p: Platform, shop: flows.Shop, day: date) -> Reconciliation:
    ctx = bootstrap.context()
    institution = ctx.store.institution(shop.institution_id)
    assert institution is not None
    return reconciliations.reconcile_account(ctx, institution, day)


def kinds(result: Reconciliation) -> list[tuple[str, int]]:
    return sorted((str(d.kind), d.amount_fen) for d in result.differences)


def unpaid_order(p: Platform) -> tuple[flows.Shop, flows.Family, dict[str, Any]]:
    """An order of two lessons awaiting payment into its institution's supervised account."""
    shop = flows.open_shop(p)
    fam = flows.family(p)
    return shop, fam, flows.buy(p, shop, fam, lessons=2)


def paid_order(p: Platform, lessons: int
               ) -> tuple[flows.Shop, flows.Family, dict[str, Any]]:
    """An arts institution of county 440106 with one order paid into its supervised account."""
    shop = flows.open_shop(p)
    fam = flows.family(p)
    return shop, fam, flows.buy_and_pay(p, shop, fam, lessons=lessons)


def released_lesson(p: Platform, shop: flows.Shop, fam: flows.Family, order: dict[str, Any]
                    ) -> None:
    confirmed_and_settled(p, fam, flows.record_lesson(p, shop, [order["order_id"]]))


def forged_payment(p: Platform, order: dict[str, Any], payer: str, amount_fen: int,
                   bank_txn_id: str) -> int:
    """A payment notice signed with the bank's secret (a leaked secret, a bank's bug) for
    money the bank's books may not bear out."""
    body = json.dumps({
        "event_id": f"evt_forged_{bank_txn_id}", "type": "payment_received",
        "payment_reference": order["payment"]["reference"], "payer_account": payer,
        "payee_account": order["payment"]["account"], "amount_fen": amount_fen,
        "bank_txn_id": bank_txn_id, "occurred_at": p.clock.now().isoformat(),
    }).encode()
    headers = {"Content-Type": "application/json",
               "X-Bank-Signature": sign(BANK_SECRET, int(p.clock.now().timestamp()), body)}
    return p.deliver_to_platform(body, headers)


def test_a_clean_day_of_payments_and_releases_is_reconciled_to_the_fen(
        platform: Platform) -> None:
    p = platform
    shop, fam, order = paid_order(p, lessons=3)
    released_lesson(p, shop, fam, order)
    day = next_morning(p)
    result = reconciled(p, shop, day)
    assert (result.status, result.differences) == ("reconciled", ())
    assert result.matched == 2 and result.in_flight == 0
    held = order["amount_fen"] - shop.price_per_lesson_fen
    assert result.bank_closing_fen == result.ledger_closing_fen == held
    assert p.bank.balance(shop.supervised_account) == held
    p.check()


def test_a_fee_of_one_fen_the_platform_never_booked_is_missing_in_the_ledger(
        platform: Platform) -> None:
    p = platform
    shop, _, _ = paid_order(p, lessons=2)
    key = p.bank.book_foreign(shop.supervised_account, "BANK-FEES", 1, "账户管理费")
    result = reconciled(p, shop, next_morning(p))
    assert result.status == "differences"
    assert kinds(result) == [("closing_balance_differs", -1), ("missing_in_ledger", -1)]
    [missing] = [d for d in result.differences if d.kind == "missing_in_ledger"]
    assert (missing.key, missing.counterparty) == (key, "BANK-FEES")


def test_money_moved_to_the_general_account_at_the_counter_is_missing_in_the_ledger(
        platform: Platform) -> None:
    """The institution takes parents' money out early, around the platform: found the next
    morning, and still a gap on every day after until it is put back."""
    p = platform
    shop, _, order = paid_order(p, lessons=2)
    p.bank.book_foreign(shop.supervised_account, shop.general_account, order["amount_fen"])
    first = reconciled(p, shop, next_morning(p))
    assert kinds(first) == [("closing_balance_differs", -order["amount_fen"]),
                            ("missing_in_ledger", -order["amount_fen"])]
    second = reconciled(p, shop, next_morning(p))
    assert kinds(second) == [("closing_balance_differs", -order["amount_fen"])]


def test_a_payment_notice_the_banks_books_do_not_bear_out_is_missing_in_the_bank(
        platform: Platform) -> None:
    p = platform
    shop, fam, order = unpaid_order(p)
    assert forged_payment(p, order, fam.payer_account, order["amount_fen"], "btx_forged1") == 200
    assert flows.order_of(p, fam.parent, order["order_id"])["status"] == "paid"
    result = reconciled(p, shop, next_morning(p))
    assert kinds(result) == [("closing_balance_differs", -order["amount_fen"]),
                             ("missing_in_bank", -order["amount_fen"])]
    assert [d.key for d in result.differences if d.kind == "missing_in_bank"] == ["btx_forged1"]


def test_a_payment_the_bank_booked_one_fen_short_of_its_notice_differs_by_one_fen(
        platform: Platform) -> None:
    p = platform
    shop, fam, order = unpaid_order(p)
    p.bank.hold_callbacks()  # the bank's own notice never comes: a forged one does
    txn = p.bank.pay(fam.payer_account, shop.supervised_account,
                     order["payment"]["reference"], order["amount_fen"] - 1)
    assert forged_payment(p, order, fam.payer_account, order["amount_fen"], txn) == 200
    result = reconciled(p, shop, next_morning(p))
    assert kinds(result) == [("amount_differs", -1), ("closing_balance_differs", -1)]


def test_transfers_in_flight_across_midnight_are_never_a_difference(
        platform: Platform) -> None:
    """A release the bank executes before midnight but answers after the day's run, and a
    release reserved before midnight that the bank executes after it."""
    p = platform
    shop, fam, order = paid_order(p, lessons=3)
    day = today(p)
    first_lesson = flows.record_lesson(p, shop, [order["order_id"]])
    at(p, day, hours=23, minutes=50)
    p.bank.hold_callbacks()
    confirmed_and_settled(p, fam, first_lesson)  # executed at the bank, not yet answered
    next_morning(p)
    first = reconciled(p, shop, day)
    assert (first.status, first.in_flight, first.matched) == ("reconciled", 1, 1)
    p.bank.release_callbacks()
    p.bank.deliver_pending()
    second_day = today(p)
    at(p, second_day, hours=10, minutes=0)
    second_lesson = flows.record_lesson(p, shop, [order["order_id"]])
    at(p, second_day, hours=23, minutes=50)
    p.bank.set_unavailable(True)  # reserved before midnight, executed after it
    confirmed_and_settled(p, fam, second_lesson)
    p.advance(minutes=30)
    p.bank.set_unavailable(False)
    p.run_schedule("settlement_sweeper")
    p.settle_everything()
    assert today(p) == second_day + timedelta(days=1)
    next_morning(p)
    for each in (second_day, second_day + timedelta(days=1)):
        result = reconciled(p, shop, each)
        assert (result.status, result.differences) == ("reconciled", ()), each
    assert result.bank_closing_fen == order["amount_fen"] - 2 * shop.price_per_lesson_fen
    p.check()


def at(p: Platform, day: date, *, hours: int, minutes: int) -> None:
    moment = datetime.combine(day, datetime.min.time(), SHANGHAI) + timedelta(
        hours=hours, minutes=minutes)
    p.advance(seconds=(moment - p.clock.now()).total_seconds())


def confirmed_and_settled(p: Platform, fam: flows.Family, recorded: dict[str, Any]) -> None:
    flows.confirm(p, fam, recorded["consumptions"][0]["consumption_id"])
    p.settle_everything()


def test_days_never_reconciled_are_reconciled_first_in_order(platform: Platform) -> None:
    p = platform
    shop, _, order = paid_order(p, lessons=2)
    paid_on = today(p)
    p.advance(days=3)
    result = reconciled(p, shop, today(p) - timedelta(days=1))
    store = bootstrap.context().store
    days = [store.reconciliation(shop.supervised_account, paid_on + timedelta(days=n))
            for n in range(3)]
    assert [d.status if d else None for d in days] == ["reconciled"] * 3
    assert days[0] is not None and days[0].bank_closing_fen == order["amount_fen"]
    assert result.ledger_closing_fen == order["amount_fen"] and result.status == "reconciled"


def test_a_day_not_yet_over_has_no_statement(platform: Platform) -> None:
    p = platform
    shop = flows.open_shop(p)
    ctx = bootstrap.context()
    institution = ctx.store.institution(shop.institution_id)
    assert institution is not None
    with pytest.raises(BankUnavailable, match="not ready"):
        reconciliations.reconcile_account(ctx, institution, today(p))
    assert ctx.store.reconciliation(shop.supervised_account, today(p)) is None



def test_regulators_read_the_days_reconciliations_of_their_jurisdiction_and_department_only(
        platform: Platform) -> None:
    p = platform
    shop = flows.open_shop(p)  # an arts institution of county 440106
    fam = flows.family(p)
    order = flows.buy_and_pay(p, shop, fam, lessons=2)
    p.bank.book_foreign(shop.supervised_account, shop.general_account, 100)
    day = next_morning(p)
    reconciled(p, shop, day)
    path = f"/v1/regulator/reconciliations?date={day.isoformat()}"
    for reader in ({"region": "440106", "department": "culture"},
                   {"region": "440100", "department": "culture"},
                   {"region": "440106", "department": "education"}):
        seen = p.get(path, flows.regulator(p, sub="reader", **reader))
        assert seen.status == 200, seen.body
        [item] = seen.body["items"]
        assert (item["institution_id"], item["status"]) == (shop.institution_id, "differences")
        assert item["bank_closing_fen"] == order["amount_fen"] - 100
        assert item["account_masked"].endswith(shop.supervised_account[-4:])
        assert shop.supervised_account not in str(item), "accounts are masked"
    for stranger in ({"region": "440105", "department": "culture"},
                     {"region": "440106", "department": "sports"}):
        seen = p.get(path, flows.regulator(p, sub="stranger", **stranger))
        assert (seen.status, seen.body["items"]) == (200, []), stranger
        mine = p.get(f"/v1/regulator/institutions/{shop.institution_id}/reconciliations",
                     flows.regulator(p, sub="stranger", **stranger))
        assert (mine.status, mine.code) == (404, "institution_not_found")
    own = p.get(f"/v1/regulator/institutions/{shop.institution_id}/reconciliations",
                flows.competent(p))
    assert [i["day"] for i in own.body["items"]] == [day.isoformat()]
    assert p.get(path, shop.staff).status == 403
    assert p.get(path, fam.parent).status == 403


def test_a_day_is_asked_for_as_a_date(platform: Platform) -> None:
    p = platform
    for query in ("", "?date=yesterday", "?date=2026-02-30"):
        refused = p.get(f"/v1/regulator/reconciliations{query}", flows.competent(p))
        assert (refused.status, refused.code) == (400, "validation_error"), query


@pytest.mark.parametrize("platform", ["moto"], indirect=True)
def test_ops_reconcile_a_day_at_once_and_see_each_difference(
        platform: Platform, monkeypatch: pytest.MonkeyPatch) -> None:
    p = platform
    shop, _, _ = paid_order(p, lessons=2)
    p.bank.book_foreign(shop.supervised_account, "BANK-FEES", 7)
    day = next_morning(p)
    real_target = supervision_cli.target_of
    monkeypatch.setattr(supervision_cli, "target_of", lambda *a: dataclasses.replace(
        real_target(*a), platform_clock=p.clock))
    with served(p.bank) as bank_url:
        run = CliRunner().invoke(cli, ["reconcile", "--date", day.isoformat(),
                                       "--stage", "test", "--bank-url", bank_url])
        assert run.exit_code == 0, run.output
        assert "missing_in_ledger -7 fen" in run.output
        assert "closing_balance_differs -7 fen" in run.output
        assert "0 reconciled, 1 differences, 0 no statement" in run.output
        not_over = CliRunner().invoke(cli, ["reconcile", "--date", today(p).isoformat(),
                                            "--stage", "test", "--bank-url", bank_url])
        assert not_over.exit_code == 2 and "not over yet" in not_over.output
    unreachable = CliRunner().invoke(cli, ["reconcile", "--date", day.isoformat(),
                                           "--stage", "test", "--bank-url",
                                           "http://127.0.0.1:9"])
    assert unreachable.exit_code == 1
    assert "1 no statement" in unreachable.output


def test_the_nightly_run_reconciles_yesterday_once_from_two_oclock(platform: Platform) -> None:
    p = platform
    shop, _, _ = paid_order(p, lessons=2)
    day = today(p)
    at(p, day + timedelta(days=1), hours=1, minutes=59)
    assert p.run_schedule("reconcile") == 0  # the bank's statements may not be written yet
    p.advance(minutes=1)
    assert p.run_schedule("reconcile") == 1
    store = bootstrap.context().store
    first = store.reconciliation(shop.supervised_account, day)
    assert first is not None and first.status == "reconciled"
    p.advance(hours=1)
    assert p.run_schedule("reconcile") == 0  # done for the day
    assert store.reconciliation(shop.supervised_account, day) == first


def test_a_nightly_run_the_bank_could_not_serve_is_run_again_the_next_hour(
        platform: Platform) -> None:
    p = platform
    shop = flows.open_shop(p)
    day = today(p)
    at(p, day + timedelta(days=1), hours=2, minutes=0)
    p.bank.set_unavailable(True)
    assert p.run_schedule("reconcile") == 0
    assert bootstrap.context().store.reconciliation(shop.supervised_account, day) is None
    p.bank.set_unavailable(False)
    p.advance(hours=1)
    assert p.run_schedule("reconcile") == 1
    assert p.run_schedule("reconcile") == 0


def test_a_payment_whose_notice_named_no_account_is_placed_where_the_statement_shows_it(
        platform: Platform) -> None:
    """The platform recorded the money without knowing where it was; the statement says:
    matched there, and counted in that account's balance until it is returned from it."""
    p = platform
    shop = flows.open_shop(p)
    fam = flows.family(p)
    p.bank.omit_accounts_next_payments(1)
    p.bank.pay(fam.payer_account, shop.supervised_account, "P" + "8" * 26, 700)
    assert p.bank.deliver_pending() == 1
    first = reconciled(p, shop, next_morning(p))
    assert (first.status, first.matched, first.ledger_closing_fen) == ("reconciled", 1, 700)
    [kept] = unmatched_payments(p)
    ctx = bootstrap.context()
    unmatched_returns.retry_parked(ctx, kept.unmatched_id, payer_account=fam.payer_account,
                                   received_account=shop.supervised_account)
    p.run_schedule("settlement_sweeper")
    p.bank.deliver_pending()
    second = reconciled(p, shop, next_morning(p))
    assert (second.status, second.matched, second.ledger_closing_fen) == ("reconciled", 1, 0)
    assert second.bank_closing_fen == 0


def unmatched_payments(p: Platform) -> list[UnmatchedPayment]:
    store = bootstrap.context().store
    found = [store.unmatched(i["pk"]) for i in scan(p.dynamodb, p.plane.platform_table)
             if i["sk"] == "#unmatched_payment"]
    return [u for u in found if u is not None]


def test_one_bank_payment_told_twice_under_two_event_ids_is_booked_once(
        platform: Platform) -> None:
    """A bank that re-sends a payment under a new event id: the second notice is the same
    money (its bank transaction id), a duplicate; nothing is returned from the supervised
    account for it, which would pay other parents' money out."""
    p = platform
    shop, fam, order = unpaid_order(p)
    p.bank.hold_callbacks()
    txn = p.bank.pay(fam.payer_account, shop.supervised_account,
                     order["payment"]["reference"], order["amount_fen"])
    [(_, _, body)] = p.bank.notifications()
    p.bank.release_callbacks()
    assert p.bank.deliver_pending() == 1
    again = json.loads(body)
    again["event_id"] = "evt_resent_" + txn
    body2 = json.dumps(again).encode()
    headers = {"Content-Type": "application/json",
               "X-Bank-Signature": sign(BANK_SECRET, int(p.clock.now().timestamp()), body2)}
    assert p.deliver_to_platform(body2, headers) == 200
    assert unmatched_payments(p) == []
    assert flows.order_of(p, fam.parent, order["order_id"])["held_fen"] == order["amount_fen"]
    assert p.bank.balance(shop.supervised_account) == order["amount_fen"]
    result = reconciled(p, shop, next_morning(p))
    assert (result.status, result.matched) == ("reconciled", 1)
    p.check()
