"""SandboxBank: an in-process custodian bank simulator implementing BankGateway.

It keeps real books (every movement, both sides: sandbox/bank_books.py), executes each
instruction id at most once, sends signed notifications through a `deliver` callback, and
writes each account's statement of a closed business day in MT940 (sandbox/statements.py),
with knobs to inject the faults a real bank shows (rejections, late, duplicated and
undeliverable callbacks, outages, movements the platform never instructed).

Notifications are signed at each delivery attempt, so held callbacks are not stale on release.
The callback runs outside the lock: the platform may call back into the bank while handling it.

With a `store` (sandbox_store.JsonFileStore) its state survives restarts: its books, executed
instructions and their outcomes, and undelivered notifications are saved after every change and
loaded at construction. Fault knobs are not kept: a restarted bank is healthy.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Protocol

from chalicelib.adapters.bank import mt940_statements
from chalicelib.adapters.bank.errors import (
    BankRequestRejected,
    BankUnavailable,
    InstructionConflict,
)
from chalicelib.domain.calendar import business_date
from chalicelib.domain.escrow.bank_signature import sign
from chalicelib.domain.supervision.statement import Statement
from chalicelib.service.ports import BankRecord, TransferInstruction
from sandbox.bank_books import BankBooks, Movement
from sandbox.statements import mt940

logger = logging.getLogger(__name__)

Deliver = Callable[[bytes, dict[str, str]], int]
"""Send one notification (body, headers); return the HTTP status the platform answered."""

INSUFFICIENT_FUNDS = "insufficient_funds"
UNANNOUNCED = "bfx_"
"""The prefix of the bank's ids of the movements it booked without telling the platform."""


@dataclass(frozen=True)
class TransferOutcome:
    """What the bank did with an instruction id (fixed at its first execution)."""

    instruction: TransferInstruction
    succeeded: bool
    reason: str | None
    event_id: str
    occurred_at: datetime


@dataclass(frozen=True)
class Payment:
    """Money a payer sent into an account (inspection for tests; not kept across restarts)."""

    bank_txn_id: str
    payer_account: str
    to_account: str
    amount_fen: int


@dataclass(frozen=True)
class _Queued:
    seq: int
    event_id: str
    body: bytes


@dataclass(frozen=True)
class BankState:
    """What the bank keeps across restarts."""

    movements: tuple[Movement, ...]
    """Every booking, both sides, in order (the balances are their sums)."""
    serial: int
    outcomes: dict[str, TransferOutcome]
    """instruction id -> its outcome."""
    outcome_bodies: dict[str, bytes]
    """event id -> the outcome notification (re-sent when an instruction is re-sent)."""
    queue: tuple[tuple[int, str, bytes], ...]
    """Undelivered notifications in order: (seq, event id, body)."""
    seq: int
    unacked: dict[str, tuple[tuple[str, int], ...]]
    """event id -> money it moved, (account, delta) pairs, until the platform acknowledges."""


class StateStore(Protocol):
    def load(self) -> BankState | None:
        """The saved state, or None if nothing was saved yet."""

    def save(self, state: BankState) -> None:
        """Replace the saved state (atomically)."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _check_amount(amount_fen: int) -> None:
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or amount_fen <= 0:
        raise BankRequestRejected(f"amount_fen must be a positive integer, got {amount_fen!r}")


class SandboxBank:
    """Thread-safe (one lock) custodian bank with fault injection and invariant inspection."""

    def __init__(
        self,
        secret: str,
        deliver: Deliver,
        *,
        now: Callable[[], datetime] = _utc_now,
        auto_deliver: bool = False,
        store: StateStore | None = None,
        new_token: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        if not secret:
            raise ValueError("secret must not be empty")
        self._secret = secret
        self._deliver = deliver
        self._now = now
        self._new_token = new_token
        self._auto_deliver = auto_deliver
        self._lock = threading.Lock()
        self._books = BankBooks()
        self._outcomes: dict[str, TransferOutcome] = {}
        self._outcome_bodies: dict[str, bytes] = {}
        self._queue: list[_Queued] = []
        self._seq = 0
        # Money moved for events the platform has not acknowledged: event_id -> (account, delta).
        self._unacked: dict[str, tuple[tuple[str, int], ...]] = {}
        self._fail_next = 0
        self._fail_reason = "bank_rejected"
        self._held = False
        self._copies = 1
        self._unavailable = False
        self._closed: set[str] = set()
        self._unplaced = 0
        self._payments: list[Payment] = []
        self._delivering = False
        self._store = store
        saved = store.load() if store is not None else None
        if saved is not None:
            self._restore(saved)

    # ----------------------------------------------------------------- money movement

    def pay(
        self, payer_account: str, to_account: str, payment_reference: str, amount_fen: int
    ) -> str:
        """A parent pays into a supervised account; returns the bank_txn_id.

        Payer accounts stand for money arriving from outside and may go negative.
        """
        _check_amount(amount_fen)
        if not (payer_account and to_account and payment_reference):
            raise BankRequestRejected("payer_account, to_account and payment_reference required")
        if payer_account == to_account:
            raise BankRequestRejected("payer and payee accounts must differ")
        bank_txn_id = f"btx_{self._new_token()}"
        event_id = f"evt_{self._new_token()}"
        with self._lock:
            occurred_at = self._timestamp()
            self._books.book(payer_account, to_account, amount_fen, bank_txn_id, occurred_at,
                             payment_reference)
            self._payments.append(Payment(bank_txn_id, payer_account, to_account, amount_fen))
            payload: dict[str, object] = {
                "event_id": event_id,
                "type": "payment_received",
                "payment_reference": payment_reference,
                "payer_account": payer_account,
                "payee_account": to_account,
                "amount_fen": amount_fen,
                "bank_txn_id": bank_txn_id,
                "occurred_at": occurred_at.isoformat(),
            }
            if self._unplaced > 0:
                self._unplaced -= 1
                del payload["payer_account"], payload["payee_account"]
            body = self._body(payload)
            self._unacked[event_id] = ((payer_account, -amount_fen), (to_account, amount_fen))
            self._enqueue(event_id, body)
            self._save()
        logger.info("sandbox bank: payment %s of %d fen to %s", bank_txn_id, amount_fen, to_account)
        self._maybe_deliver()
        return bank_txn_id

    def instruct_transfer(self, instruction: TransferInstruction) -> None:
        """Execute `instruction` once; a resend re-queues the original outcome notification."""
        self._validate(instruction)
        with self._lock:
            if self._unavailable:
                raise BankUnavailable("sandbox bank is unavailable")
            closed = self._closed & {instruction.from_account, instruction.to_account}
            if closed:
                raise BankRequestRejected(f"account_closed: {', '.join(sorted(closed))}", 422)
            known = self._outcomes.get(instruction.instruction_id)
            if known is not None:
                if known.instruction != instruction:
                    raise InstructionConflict(instruction.instruction_id)
                self._enqueue(known.event_id, self._outcome_bodies[known.event_id])
                logger.info(
                    "sandbox bank: resend of %s, outcome re-queued", instruction.instruction_id
                )
            else:
                self._execute(instruction)
            self._save()
        self._maybe_deliver()

    @staticmethod
    def _validate(instruction: TransferInstruction) -> None:
        _check_amount(instruction.amount_fen)
        if not (instruction.instruction_id and instruction.from_account and instruction.to_account):
            raise BankRequestRejected("instruction_id, from_account and to_account required")
        if instruction.from_account == instruction.to_account:
            raise BankRequestRejected("from_account and to_account must differ")

    def _execute(self, instruction: TransferInstruction) -> None:
        """Run a new instruction. Caller holds the lock."""
        occurred_at = self._timestamp()
        reason: str | None = None
        if self._fail_next > 0:
            self._fail_next -= 1
            reason = self._fail_reason
        elif self._books.balance(instruction.from_account) < instruction.amount_fen:
            reason = INSUFFICIENT_FUNDS
        succeeded = reason is None
        event_id = f"evt_{instruction.instruction_id}_{'ok' if succeeded else 'fail'}"
        outcome = TransferOutcome(instruction, succeeded, reason, event_id, occurred_at)
        payload: dict[str, object] = {
            "event_id": event_id,
            "type": "transfer_succeeded" if succeeded else "transfer_failed",
            "instruction_id": instruction.instruction_id,
            "amount_fen": instruction.amount_fen,
            "occurred_at": outcome.occurred_at.isoformat(),
        }
        if succeeded:
            self._books.book(instruction.from_account, instruction.to_account,
                             instruction.amount_fen, instruction.instruction_id, occurred_at)
            self._unacked[event_id] = (
                (instruction.from_account, -instruction.amount_fen),
                (instruction.to_account, instruction.amount_fen),
            )
        else:
            payload["reason"] = reason
        body = self._body(payload)
        self._outcomes[instruction.instruction_id] = outcome
        self._outcome_bodies[event_id] = body
        self._enqueue(event_id, body)
        logger.info(
            "sandbox bank: instruction %s %s",
            instruction.instruction_id,
            "succeeded" if succeeded else f"failed ({reason})",
        )

    # ----------------------------------------------------------------- notifications

    def _timestamp(self) -> datetime:
        moment = self._now()
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError("the bank clock must return timezone-aware datetimes")
        return moment

    @staticmethod
    def _body(payload: dict[str, object]) -> bytes:
        return json.dumps(payload, separators=(",", ":")).encode("utf-8")

    def _enqueue(self, event_id: str, body: bytes) -> None:
        """Caller holds the lock."""
        self._seq += 1
        self._queue.append(_Queued(self._seq, event_id, body))

    def _maybe_deliver(self) -> None:
        if self._auto_deliver:
            self.deliver_pending()

    def deliver_pending(self) -> int:
        """Deliver queued notifications in order; return how many were acknowledged (2xx).

        Each notification is sent `duplicate_callbacks` times and counts once if any copy is
        acknowledged. Unacknowledged ones (non-2xx or the callback raised) stay queued for the
        next call. Nothing is sent while callbacks are held. A call made while another delivery
        is running returns 0 at once; the running one also sends what was queued meanwhile.
        """
        acknowledged = 0
        attempted: set[int] = set()
        with self._lock:
            if self._delivering:
                return 0
            self._delivering = True
        try:
            while True:
                with self._lock:
                    batch = [q for q in self._queue if q.seq not in attempted]
                    if self._held or not batch:
                        self._delivering = False
                        return acknowledged
                    copies = self._copies
                for item in batch:
                    attempted.add(item.seq)
                    if self._send(item, copies):
                        self._acknowledge(item)
                        acknowledged += 1
                    with self._lock:
                        if self._held:
                            break
        except BaseException:
            with self._lock:
                self._delivering = False
            raise

    def notifications(self) -> list[tuple[int, str, bytes]]:
        """The queued notifications, in order: (seq, event id, body). A simulation picks which
        to deliver, and when, with deliver_one() and drop_notification()."""
        with self._lock:
            return [(q.seq, q.event_id, q.body) for q in self._queue]

    def deliver_one(self, seq: int, copies: int = 1) -> bool:
        """Send one queued notification `copies` times, out of turn; True if acknowledged
        (it leaves the queue), False if refused or unknown (it stays, as deliver_pending)."""
        with self._lock:
            item = next((q for q in self._queue if q.seq == seq), None)
        if item is None or not self._send(item, copies):
            return False
        self._acknowledge(item)
        return True

    def drop_notification(self, seq: int) -> None:
        """The bank gives up on one notification (a callback lost for good). Its money stays
        counted by in_flight(): the platform has not been told."""
        with self._lock:
            self._queue = [q for q in self._queue if q.seq != seq]
            self._save()

    def payments(self) -> list[Payment]:
        """Every payment into an account since this bank object was made."""
        with self._lock:
            return list(self._payments)

    def outcomes(self) -> list[TransferOutcome]:
        """Every instruction the bank has executed, with its outcome."""
        with self._lock:
            return list(self._outcomes.values())

    def _send(self, item: _Queued, copies: int) -> bool:
        ok = False
        for _ in range(copies):
            headers = {
                "Content-Type": "application/json",
                "X-Bank-Signature": sign(
                    self._secret, int(self._timestamp().timestamp()), item.body
                ),
            }
            try:
                status = self._deliver(item.body, headers)
            except Exception:
                logger.warning(
                    "sandbox bank: delivery of %s raised; kept for retry",
                    item.event_id,
                    exc_info=True,
                )
                continue
            if 200 <= status < 300:
                ok = True
            else:
                logger.warning("sandbox bank: delivery of %s got HTTP %d", item.event_id, status)
        return ok

    def _acknowledge(self, item: _Queued) -> None:
        with self._lock:
            self._queue = [q for q in self._queue if q.seq != item.seq]
            self._unacked.pop(item.event_id, None)
            self._save()

    # ----------------------------------------------------------------- persistence

    def _save(self) -> None:
        """Caller holds the lock."""
        if self._store is not None:
            self._store.save(
                BankState(
                    movements=self._books.movements,
                    serial=self._books.serial,
                    outcomes=dict(self._outcomes),
                    outcome_bodies=dict(self._outcome_bodies),
                    queue=tuple((q.seq, q.event_id, q.body) for q in self._queue),
                    seq=self._seq,
                    unacked=dict(self._unacked),
                )
            )

    def _restore(self, state: BankState) -> None:
        self._books = BankBooks(state.movements, state.serial)
        self._outcomes.update(state.outcomes)
        self._outcome_bodies.update(state.outcome_bodies)
        self._queue = [_Queued(seq, event_id, body) for seq, event_id, body in state.queue]
        self._seq = state.seq
        self._unacked.update(state.unacked)

    # ----------------------------------------------------------------- fault injection

    def fail_next_transfers(self, n: int, reason: str = "bank_rejected") -> None:
        """The next `n` new instructions fail with `reason`; no money moves."""
        if n < 0:
            raise ValueError("n must not be negative")
        with self._lock:
            self._fail_next = n
            self._fail_reason = reason

    def omit_accounts_next_payments(self, n: int) -> None:
        """The next `n` payment notices name neither the payer's account nor the account
        credited (a defective notice: the money moved all the same)."""
        if n < 0:
            raise ValueError("n must not be negative")
        with self._lock:
            self._unplaced = n

    def hold_callbacks(self) -> None:
        """Queue notifications without delivering them until release_callbacks()."""
        with self._lock:
            self._held = True

    def release_callbacks(self) -> None:
        """Resume delivery (at once in auto_deliver mode, else on the next deliver_pending)."""
        with self._lock:
            self._held = False
        self._maybe_deliver()

    def duplicate_callbacks(self, times: int) -> None:
        """Deliver each notification `times` times (1 restores normal delivery)."""
        if times < 1:
            raise ValueError("times must be at least 1")
        with self._lock:
            self._copies = times

    def open_account(self, account: str, balance_fen: int) -> None:
        """An account that already holds money (an opening balance, booked from outside the
        bank: benchmarks that load a province's paid orders without paying each one). Not
        unannounced: it stands for payments the loaded ledger already books."""
        _check_amount(balance_fen)
        with self._lock:
            self._books.book("OPENING", account, balance_fen, f"opening_{self._new_token()}",
                             self._timestamp())
            self._save()

    def book_foreign(self, from_account: str, to_account: str, amount_fen: int,
                     reference: str = "") -> str:
        """Book a movement the platform never instructed nor was told of (a fee, a debit
        by another party, money moved from a supervised account to the general account at
        the counter): no notification is sent. Returns the bank's id of it (`bfx_…`), the
        key its statement line carries."""
        _check_amount(amount_fen)
        if from_account == to_account:
            raise BankRequestRejected("from_account and to_account must differ")
        key = f"{UNANNOUNCED}{self._new_token()}"
        with self._lock:
            self._books.book(from_account, to_account, amount_fen, key, self._timestamp(),
                             reference)
            self._save()
        logger.info("sandbox bank: %d fen booked from %s to %s unannounced (%s)", amount_fen,
                    from_account, to_account, key)
        return key

    def close_account(self, account: str) -> None:
        """Refuse (a 4xx, executing nothing) every instruction to or from `account` until
        reopen_account(): a closed or invalid account, as a bank refuses one for good."""
        with self._lock:
            self._closed.add(account)

    def reopen_account(self, account: str) -> None:
        with self._lock:
            self._closed.discard(account)

    def set_unavailable(self, unavailable: bool) -> None:
        """While unavailable, instruct_transfer raises BankUnavailable and executes nothing."""
        with self._lock:
            self._unavailable = unavailable

    @property
    def unavailable(self) -> bool:
        with self._lock:
            return self._unavailable

    # ----------------------------------------------------------------- inspection

    def balance(self, account: str) -> int:
        with self._lock:
            return self._books.balance(account)

    def balances(self) -> dict[str, int]:
        """Every account's balance that is not zero."""
        with self._lock:
            return self._books.balances()

    def statement_text(self, account: str, day: date) -> str:
        """The day's statement of `account`, MT940, once the day is over by the bank's clock
        (BankUnavailable before: a statement of a day still open would change)."""
        with self._lock:
            if self._unavailable:
                raise BankUnavailable("sandbox bank is unavailable")
            if day >= business_date(self._timestamp()):
                raise BankUnavailable(f"the statement of {day} is not ready: the day is open")
            opening, movements = self._books.of(account, day)
        return mt940(account, day, opening, movements)

    def statement(self, account: str, day: date) -> Statement:
        """The BankGateway's statement: the MT940 the bank writes, read as the platform
        reads a real bank's."""
        return mt940_statements.parse(self.statement_text(account, day), account, day)

    def unannounced(self, account: str) -> int:
        """Net money booked on `account` that the bank never told the platform of
        (book_foreign): what the platform's ledger can never show, and a reconciliation
        must."""
        with self._lock:
            return self._books.net(account, UNANNOUNCED)

    def in_flight(self, account: str) -> int:
        """Net money moved at the bank for `account` by notifications not yet acknowledged.

        `balance(a) - in_flight(a)` is what the platform should have booked for account `a`.
        """
        with self._lock:
            return sum(
                delta
                for effects in self._unacked.values()
                for acct, delta in effects
                if acct == account
            )

    def executed(self, instruction_id: str) -> BankRecord | None:
        """The BankGateway inquiry: what the bank did with an instruction id, if anything."""
        with self._lock:
            if self._unavailable:
                raise BankUnavailable("sandbox bank is unavailable")
            outcome = self._outcomes.get(instruction_id)
        if outcome is None:
            return None
        return BankRecord(outcome.succeeded, outcome.reason or "", outcome.occurred_at)

    def executed_instruction(self, instruction_id: str) -> TransferOutcome | None:
        with self._lock:
            return self._outcomes.get(instruction_id)

    def instructions_executed(self) -> int:
        """How many distinct instruction ids the bank has executed (succeeded or failed)."""
        with self._lock:
            return len(self._outcomes)

    def pending_notifications(self) -> int:
        """How many notifications are queued and not yet acknowledged."""
        with self._lock:
            return len(self._queue)
