"""The invariants of the money model as code. Tests assert them after every step.

Per order:   paid = held + releasing + released + refunding + refunded, all >= 0;
             purchased = remaining + pending_confirmation + confirmed_unreleased
                         + released + refunded, all >= 0.
Per order's journal: the chain verifies; posted supervised balance = held + releasing +
             refunding; posted general balance = released; unresolved pending = releasing +
             refunding.
Per order's lessons: its consumptions and taken refunds account for every lesson counter,
             the remainder is carried at most once (and once nothing remains, once), and
             their prices plus what the remaining lessons would cost is exactly its amount.
Global:      debits equal credits (the payer's balance is minus the sum of all others).
Per liquidation: its progress counts each order's record once (orders, lessons, fen to
             refund), each record names the refund its order names, for what that refund
             takes, and no more is counted as paid back than its paid refunds.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from chalicelib.domain import ledger
from chalicelib.domain.escrow.consumption import Consumption, ConsumptionStatus
from chalicelib.domain.escrow.order import COUNTERS, MONEY_BUCKETS, Order
from chalicelib.domain.institutions.liquidation import OrderLiquidated, Progress
from chalicelib.domain.refunds.refund import RefundRequest, RefundStatus

TAKEN = frozenset({RefundStatus.APPROVED, RefundStatus.REFUNDING, RefundStatus.REFUNDED,
                   RefundStatus.NEEDS_REVIEW})
"""A refund in these states has taken its lessons (and their price) from the order."""


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


def check_lessons(order: Order, consumptions: Iterable[Consumption],
                  refunds: Iterable[RefundRequest]) -> None:
    """`order`'s own consumptions and refund requests against its counters and its price."""
    mine = [c for c in consumptions if c.order_id == order.order_id]
    taken = [r for r in refunds if r.order_id == order.order_id and r.status in TAKEN]
    count = Counter(c.status for c in mine)
    status = ConsumptionStatus
    expected = {
        "lessons_pending_confirmation": count[status.PENDING_CONFIRMATION] + count[status.DISPUTED],
        "open_disputes": count[status.DISPUTED],
        "lessons_confirmed_unreleased": (count[status.CONFIRMED] + count[status.RELEASING]
                                         + count[status.NEEDS_REVIEW]),
        "lessons_released": count[status.RELEASED],
        "lessons_withdrawn": count[status.WITHDRAWN],
        "lessons_refunded": sum(r.lessons for r in taken),
    }
    live = [c for c in mine if c.status is not status.WITHDRAWN]
    expected["remainder_carried"] = (sum(c.carries_remainder for c in live)
                                     + sum(r.carries_remainder for r in taken))
    found = {name: getattr(order, name) for name in expected}
    if found != expected:
        raise InvariantViolated(f"{order.order_id}: counters {found} != its lessons {expected}")
    base = order.amount_fen // order.lessons
    remainder = order.amount_fen - base * order.lessons
    if order.lessons_remaining == 0 and remainder and not order.remainder_carried:
        raise InvariantViolated(f"{order.order_id}: nothing remains, the remainder is uncharged")
    priced = (sum(c.amount_fen for c in live) + sum(r.amount_fen for r in taken)
              + base * order.lessons_remaining + (0 if order.remainder_carried else remainder))
    if priced != order.amount_fen:
        raise InvariantViolated(f"{order.order_id}: its lessons are priced {priced} fen, "
                                f"it costs {order.amount_fen}")


def check_liquidation(institution_id: str, progress: Progress,
                      records: Iterable[OrderLiquidated], orders: dict[str, Order],
                      refunds: dict[str, RefundRequest]) -> None:
    mine = [r for r in records if r.institution_id == institution_id]
    counted = Progress(
        orders_done=len(mine), lessons_refunded=sum(r.lessons for r in mine),
        fen_to_refund=sum(r.amount_fen for r in mine), fen_refunded=progress.fen_refunded)
    if progress != counted:
        raise InvariantViolated(f"{institution_id}: progress {progress}, its orders' records "
                                f"{counted}")
    paid = 0
    for record in mine:
        order = orders[record.order_id]
        if order.liquidated_at is None or order.liquidation_refund_id != record.refund_id:
            raise InvariantViolated(f"{record.order_id}: liquidated with {record.refund_id!r}, "
                                    f"the order says {order.liquidation_refund_id!r}")
        refund = refunds.get(record.refund_id)
        if record.refund_id and (refund is None or (refund.lessons, refund.amount_fen) != (
                record.lessons, record.amount_fen)):
            raise InvariantViolated(f"{record.order_id}: its record refunds {record.lessons} "
                                    f"lessons, {record.amount_fen} fen; its refund {refund}")
        if refund is not None and refund.status is RefundStatus.REFUNDED:
            paid += refund.amount_fen
    if not 0 <= progress.fen_refunded <= paid:
        raise InvariantViolated(f"{institution_id}: counted {progress.fen_refunded} fen paid "
                                f"back, its refunds paid {paid}")
