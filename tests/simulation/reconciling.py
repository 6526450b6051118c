"""The bank's statements against the platform's books: the bank books money the platform
never hears of (a deposit at the counter into a supervised account, or into a general
account, which is not reconciled), and the day's reconciliation must report exactly that.

During the run, a reconciliation of yesterday must name every unannounced deposit of that
day on its account, with its key and amount (what else it finds may be a notice still in
flight: the run loses and holds callbacks). At the end, every notice delivered, every day
of every account is reconciled again, in order, and must report exactly the deposits: each
`missing_in_ledger` on its day, and the account's closing balance differing by what was
deposited so far on every day from the first; nothing else, anywhere."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from chalicelib import bootstrap
from chalicelib.domain.calendar import business_date
from chalicelib.domain.escrow.bank import account_number
from chalicelib.domain.supervision.reconciliation import DifferenceKind, Reconciliation
from chalicelib.service.supervision import reconciliations
from tests.simulation.model import Violation
from tests.simulation.world import World

DEPOSITOR = "FOREIGN-DEPOSITOR"


@dataclass(frozen=True)
class Deposit:
    account: str
    day: date
    key: str
    amount: int


def deposit(w: World, shop: int, amount: int, where: int) -> str:
    """Money booked at the bank without a notice: into a supervised account (two in three)
    or a general account."""
    sh = w.pick(w.shops, shop)
    if sh is None:
        return "no shop"
    institution = bootstrap.context().store.institution(sh.institution_id)
    assert institution is not None
    fen = 1 + amount % 5_000
    if where % 3 == 2:
        account = (institution.approved_custodian or institution.custodian).general_account
        w.p.bank.book_foreign(DEPOSITOR, account, fen, "柜台存入")
        return f"{fen} fen deposited unannounced into general account {account}"
    account = reconciliations.supervised_account(institution)
    key = w.p.bank.book_foreign(DEPOSITOR, account, fen, "柜台存入")
    w.deposits.append(Deposit(account_number(account), business_date(w.now), key, fen))
    return f"{fen} fen deposited unannounced into {account} ({key})"


def reconcile(w: World) -> str:
    """Yesterday, every account, as `infra.cli reconcile` runs it."""
    day = business_date(w.now) - timedelta(days=1)
    results = [r for _, r in reconciliations.reconcile_day(bootstrap.context(), day)
               if r is not None]
    for result in results:
        found = {(d.key, d.amount_fen) for d in result.differences
                 if d.kind is DifferenceKind.MISSING_IN_LEDGER}
        for d in w.deposits:
            if (d.account, d.day) == (result.account, day) and (d.key, d.amount) not in found:
                raise Violation(f"the reconciliation of {d.account} for {day} missed the "
                                f"unannounced deposit {d.key} of {d.amount} fen: {result}")
    differing = sum(r.status == "differences" for r in results)
    return f"reconciled {day}: {len(results)} account(s), {differing} with differences"


def at_the_end(w: World) -> None:
    """Every day of every account again, in order: exactly the deposits."""
    ctx = bootstrap.context()
    yesterday = business_date(w.now) - timedelta(days=1)
    for institution in reconciliations.supervised_institutions(ctx):
        day = business_date(institution.created_at)
        deposited = 0
        while day <= yesterday:
            result = reconciliations.reconcile_account(ctx, institution, day)
            deposited += sum(d.amount for d in _on(w, result.account, day))
            _exactly_the_deposits(w, result, deposited)
            day += timedelta(days=1)


def _exactly_the_deposits(w: World, result: Reconciliation, deposited: int) -> None:
    found = Counter((str(d.kind), d.key, d.amount_fen) for d in result.differences)
    expected = Counter(("missing_in_ledger", d.key, d.amount)
                       for d in _on(w, result.account, result.day))
    if deposited:
        expected[("closing_balance_differs", "", deposited)] += 1
    if found != expected:
        raise Violation(f"the reconciliation of {result.account} for {result.day} found "
                        f"{dict(found)}, the bank was given {dict(expected)}")


def _on(w: World, account: str, day: date) -> list[Deposit]:
    by_day: defaultdict[tuple[str, date], list[Deposit]] = defaultdict(list)
    for d in w.deposits:
        by_day[(d.account, d.day)].append(d)
    return by_day[(account, day)]
