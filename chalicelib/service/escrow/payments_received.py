"""A payment the bank reports: applied to the order its reference names only where the money
is, recorded against the account it reached otherwise.

A payment pays an order only if it was credited to that order's own supervised account,
from a payer that is not an institution's account
(chalicelib/service/institutions/bank_accounts.py), of the order's amount, while the order is
payable and its institution not frozen. Anything else (another account credited, an institution
paying, a notice without its accounts, an unknown reference, the wrong amount, an order no longer
payable) is recorded as an unmatched payment for follow-up, in the same transaction that marks the
bank event applied, never applied silently and never dropped; it goes back from the account it
reached (chalicelib/service/refunds/unmatched_returns.py). Those that went around the escrow are
raised to the institution's department.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from chalicelib.domain import ledger
from chalicelib.domain.escrow import order as order_rules
from chalicelib.domain.escrow.bank import (
    RAISED,
    NoticeOutcome,
    UnmatchedPayment,
    UnmatchedReason,
    account_number,
)
from chalicelib.domain.escrow.bank_book import BankEntry, EntryKind, credited
from chalicelib.domain.escrow.order import Order, OrderStatus
from chalicelib.domain.messages.notice import Event, Notice, regulator_inbox
from chalicelib.domain.money import yuan
from chalicelib.service import retry
from chalicelib.service.context import Context
from chalicelib.service.escrow import bank_book
from chalicelib.service.institutions import bank_accounts
from chalicelib.service.messages import notices
from chalicelib.service.ports import WriteRejected
from chalicelib.service.refunds import unmatched_returns
from chalicelib.service.store import AtomicWrite

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Arrival:
    """A payment as the bank told it."""

    event_id: str
    payment_reference: str
    amount_fen: int
    bank_txn_id: str
    payer_account: str
    payee_account: str
    occurred_at: datetime

    def entry(self, kind: EntryKind, subject_id: str, institution_id: str) -> BankEntry:
        """The payment in the bank book: on the account the bank says it reached."""
        return credited(key=self.bank_txn_id, account=self.payee_account,
                        payer=self.payer_account, amount_fen=self.amount_fen,
                        at=self.occurred_at, kind=kind, subject_id=subject_id,
                        institution_id=institution_id)


def payment_received(
    ctx: Context,
    *,
    event_id: str,
    payment_reference: str,
    amount_fen: int,
    bank_txn_id: str,
    occurred_at: datetime,
    payer_account: str = "",
    payee_account: str = "",
) -> NoticeOutcome:
    """Apply a payment to the order its reference names only if the money is where the
    order needs it: credited to the order's own supervised account, from a payer that is
    not an institution's account, of the order's amount, while the order is payable.
    Anything else is recorded against the account the money really reached."""
    arrived = _Arrival(event_id, payment_reference, amount_fen, bank_txn_id, payer_account,
                       payee_account, occurred_at)

    def attempt() -> NoticeOutcome:
        order_id = order_rules.order_id_for_reference(payment_reference)
        order = ctx.store.order(order_id) if order_id else None
        reason = _unpayable(ctx, order, arrived)
        if reason is not None:
            return _record_unmatched(ctx, order, reason, arrived)
        assert order is not None
        _apply_payment(ctx, order, arrived)
        return NoticeOutcome.APPLIED

    try:
        return retry.on_conflict(attempt, retry_when=retry.order_changed)
    except WriteRejected as rejected:
        if rejected.failed & {"bank_event", bank_book.LABEL}:  # this notice, or this money
            return NoticeOutcome.DUPLICATE
        if "journal" in rejected.failed:  # another event paid this order first
            order = ctx.store.order(order_rules.order_id_for_reference(payment_reference) or "")
            return _record_unmatched(ctx, order, UnmatchedReason.ORDER_NOT_PAYABLE, arrived)
        raise


def _unpayable(ctx: Context, order: Order | None, arrived: _Arrival
               ) -> UnmatchedReason | None:
    """Why this money cannot pay `order`, or None. The accounts come first: money that is
    not in the order's supervised account, or is an institution's own, never pays it,
    whatever else it matches."""
    if not (arrived.payee_account and arrived.payer_account):
        return UnmatchedReason.ACCOUNT_MISSING
    if order is None:
        return UnmatchedReason.UNKNOWN_REFERENCE
    if account_number(arrived.payee_account) != account_number(order.supervised_bank_account):
        return UnmatchedReason.WRONG_ACCOUNT
    if bank_accounts.is_institutions(ctx, arrived.payer_account):
        return UnmatchedReason.PAYER_IS_INSTITUTION
    if order.status is not OrderStatus.PENDING_PAYMENT:
        return UnmatchedReason.ORDER_NOT_PAYABLE
    if arrived.amount_fen != order.amount_fen:
        return UnmatchedReason.AMOUNT_MISMATCH
    if order.frozen:
        return UnmatchedReason.INSTITUTION_FROZEN
    return None


def _apply_payment(ctx: Context, order: Order, arrived: _Arrival) -> None:
    """The journal entry and the bank book carry the bank's time of the payment; the order
    when it was told."""
    now = ctx.now()
    entry = ledger.next_entry(
        order_id=order.order_id,
        after_seq=order.journal_seq,
        after_hash=order.journal_head,
        transfer_id=ledger.payment_transfer_id(order.order_id),
        phase=ledger.Phase.SINGLE,
        debit_account=ledger.PAYER,
        credit_account=ledger.supervised_account(order.institution_id),
        amount_fen=order.amount_fen,
        occurred_at=arrived.occurred_at.isoformat(),
        cause=arrived.bank_txn_id,
    )
    write = ctx.store.write().move_order(
        order, order_rules.payment(order), entry=entry, expect={"frozen": 0},
        set_fields={"paid_at": now, "payer_bank_account": arrived.payer_account},
    )
    bank_book.received(write, arrived.entry(EntryKind.PAYMENT, order.order_id,
                                            order.institution_id))
    write.mark_bank_event(arrived.event_id, "payment_received", now).commit()


def _record_unmatched(
    ctx: Context, order: Order | None, reason: UnmatchedReason, arrived: _Arrival
) -> NoticeOutcome:
    """Record the payment against the account the bank says it reached, and send it back
    from there once that is committed (a notice that names no account is kept for ops:
    nothing is returned from an account guessed). A payment that tried to go around the
    escrow is also raised to the institution's department, in the same write."""
    now = ctx.now()
    unmatched = UnmatchedPayment(
        unmatched_id=ctx.derived_id("ump", now, arrived.event_id),
        event_id=arrived.event_id,
        bank_txn_id=arrived.bank_txn_id,
        payment_reference=arrived.payment_reference,
        amount_fen=arrived.amount_fen,
        reason=reason,
        received_at=now,
        order_id=order.order_id if order else "",
        expected_fen=order.amount_fen if order else 0,
        region_code=order.region_code if order else "",
        payer_account=arrived.payer_account,
        received_account=arrived.payee_account,
    )
    write = ctx.store.write()
    instruction = unmatched_returns.start(ctx, write, unmatched)
    told = _raise(ctx, write, order, unmatched)
    bank_book.received(write, arrived.entry(EntryKind.UNMATCHED_PAYMENT, unmatched.unmatched_id,
                                            order.institution_id if order else ""))
    try:
        write.mark_bank_event(arrived.event_id, "payment_received", now).commit()
    except WriteRejected as rejected:
        if rejected.failed & {"bank_event", "unmatched", bank_book.LABEL}:
            return NoticeOutcome.DUPLICATE
        raise
    notices.push_now(ctx, told)
    if instruction is not None:
        try:  # recorded: the `returnpayment` job sends what fails now (issue 22, point 14)
            unmatched_returns.instruct(ctx, instruction)
        except Exception:
            log.exception("return %s not sent now; its job sends it",
                          instruction.instruction_id)
    return NoticeOutcome.RECORDED_FOR_REVIEW


def _raise(ctx: Context, write: AtomicWrite, order: Order | None, payment: UnmatchedPayment
           ) -> list[Notice]:
    """Tell the competent department of the order's institution, when the reason says the
    money went around the escrow (or the bank's notice cannot say where it is)."""
    if payment.reason not in RAISED:
        return []
    log.warning("payment %s for %s raised: %s (received %s from %s)", payment.bank_txn_id,
                payment.payment_reference, payment.reason, payment.received_account,
                payment.payer_account)
    institution = ctx.store.institution(order.institution_id) if order else None
    if institution is None:
        return []
    inbox = regulator_inbox(institution.department, institution.jurisdiction_code)
    title = (f"机构订单的付款 {yuan(payment.amount_fen)} 元未按规定进入其监管账户"
             f"（{payment.reason}），已记录并原路退回")
    return [notices.tell(ctx, write, inbox, Event.PAYMENT_RAISED, payment.unmatched_id, title)]
