"""The invariants of the money model as code. Tests assert them after every step.

Per order:   paid = held + releasing + released + refunding + refunded, all >= 0;
             purchased = remaining + pending_confirmation + confirmed_unreleased
                         + released + refunded, all >= 0.
Per order's journal: the chain verifies; posted supervised balance = held + releasing +
             refunding; posted general balance = released; unresolved pending = releasing +
             refunding.
Global:      debits equal credits (the payer's balance is minus the sum of all others).
"""

from __future__ import annotations

from collections.abc import Iterable

from chalicelib.domain import ledger
from chalicelib.domain.order import COUNTERS, MONEY_BUCKETS, Order


class InvariantViolated(AssertionError):
    pass


def check_order(order: Order) -> None:
    negative = {name: getattr(order, name) for name in COUNTERS if getattr(order, name) < 0}
    if negative:
        raise InvariantViolated(f"{order.order_id}: negative counters {negative}")
    buckets = sum(getattr(order, name) for name in MONEY_BUCKETS)
    if order.paid_fen != buckets:
        raise InvariantViolated(f"{order.order_id}: paid {order.paid_fen} != buckets {buckets}")
    if order.paid_fen not in (0, order.amount_fen):
        raise InvariantViolated(f"{order.order_id}: paid {order.paid_fen} of {order.amount_fen}")
    lessons = (
        order.lessons_remaining
        + order.lessons_pending_confirmation
        + order.lessons_confirmed_unreleased
        + order.lessons_released
        + order.lessons_refunded
    )
    if lessons != order.lessons:
        raise InvariantViolated(f"{order.order_id}: lessons {lessons} != {order.lessons}")


def check_journal(order: Order, entries: Iterable[ledger.JournalEntry]) -> None:
    entries = list(entries)
    if any(e.order_id != order.order_id for e in entries):
        raise InvariantViolated(f"{order.order_id}: journal holds another order's entry")
    try:
        head = ledger.verify_chain(entries)
    except ledger.ChainBroken as broken:
        raise InvariantViolated(str(broken)) from broken
    if len(entries) != order.journal_seq or (entries and head != order.journal_head):
        raise InvariantViolated(f"{order.order_id}: order does not point at its chain head")
    balances = ledger.posted_balances(entries)
    supervised = balances.get(ledger.supervised_account(order.institution_id), 0)
    general = balances.get(ledger.general_account(order.institution_id), 0)
    if supervised != order.held_fen + order.releasing_fen + order.refunding_fen:
        raise InvariantViolated(f"{order.order_id}: supervised ledger {supervised} != order")
    if general != order.released_fen:
        raise InvariantViolated(f"{order.order_id}: general ledger {general} != released")
    if ledger.pending_amount(entries) != order.releasing_fen + order.refunding_fen:
        raise InvariantViolated(f"{order.order_id}: pending entries != releasing + refunding")


def check_double_entry(entries: Iterable[ledger.JournalEntry]) -> None:
    balances = ledger.posted_balances(entries)
    if sum(balances.values()) != 0:
        raise InvariantViolated(f"journal debits != credits: {balances}")
