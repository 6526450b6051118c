"""The journal: an immutable, double-entry record of every money movement.

Each entry is one transfer of `amount_fen` > 0 from `debit_account` to `credit_account`
(TigerBeetle's naming: the debited account gives, the credited one receives), so debits equal
credits by construction. Entries are never changed or deleted; corrections are new entries.

Anything the bank must do runs in two phases: a `pending` entry reserves the amount, then a
`post` entry (the bank confirmed) or a `void` entry (the bank failed) resolves it. Posted
balances count `single` and `post` entries only.

Every entry's `transfer_id` is deterministic (derived from what caused it), and the storage
adapter writes it with `attribute_not_exists`: that is the idempotency of money. The entries
of one order form a hash chain: each stores the hash of its predecessor, so a changed or
missing entry is detectable.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from enum import StrEnum

PAYER = "payer"
UNMATCHED = "unmatched"
"""Money in a supervised account that matched no order: outside every order's journal."""
GENESIS_HASH = "0" * 64


class Phase(StrEnum):
    SINGLE = "single"
    PENDING = "pending"
    POST = "post"
    VOID = "void"


def supervised_account(institution_id: str) -> str:
    return f"{institution_id}/supervised"


def general_account(institution_id: str) -> str:
    return f"{institution_id}/general"


def payment_transfer_id(order_id: str) -> str:
    return f"{order_id}:payment"


def release_transfer_id(consumption_id: str, attempt: int) -> str:
    return f"{consumption_id}:release:{attempt}"


def refund_transfer_id(refund_id: str, attempt: int) -> str:
    return f"{refund_id}:refund:{attempt}"


def resolution_transfer_id(pending_id: str, phase: Phase) -> str:
    return f"{pending_id}:{phase}"


def late_transfer_id(pending_id: str) -> str:
    """The transfer that books what the bank executed after its reservation was voided."""
    return f"{pending_id}:late"


@dataclass(frozen=True)
class JournalEntry:
    order_id: str
    transfer_id: str
    seq: int
    phase: Phase
    debit_account: str
    credit_account: str
    amount_fen: int
    occurred_at: str
    prev_hash: str
    hash: str
    pending_id: str = ""
    cause: str = ""

    def body(self) -> dict[str, object]:
        data = asdict(self)
        del data["hash"]
        return data


def chain_hash(body: dict[str, object]) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def next_entry(
    *,
    order_id: str,
    after_seq: int,
    after_hash: str,
    transfer_id: str,
    phase: Phase,
    debit_account: str,
    credit_account: str,
    amount_fen: int,
    occurred_at: str,
    pending_id: str = "",
    cause: str = "",
) -> JournalEntry:
    """The entry that follows the order's chain head (`after_seq`, `after_hash`)."""
    if type(amount_fen) is not int or amount_fen <= 0:
        raise ValueError(f"a transfer moves a positive integer amount of fen, not {amount_fen!r}")
    if debit_account == credit_account:
        raise ValueError("a transfer moves money between two different accounts")
    if (phase in (Phase.POST, Phase.VOID)) != bool(pending_id):
        raise ValueError("post and void entries, and only they, name the pending transfer")
    unsigned = JournalEntry(
        order_id=order_id,
        transfer_id=transfer_id,
        seq=after_seq + 1,
        phase=phase,
        debit_account=debit_account,
        credit_account=credit_account,
        amount_fen=amount_fen,
        occurred_at=occurred_at,
        prev_hash=after_hash or GENESIS_HASH,
        hash="",
        pending_id=pending_id,
        cause=cause,
    )
    return JournalEntry(**{**asdict(unsigned), "hash": chain_hash(unsigned.body())})


class ChainBroken(Exception):
    """The journal of an order was altered: an entry is missing, reordered or changed."""


@dataclass(frozen=True)
class Break:
    """Where an order's chain first fails: the entry at `seq` is missing, or altered (its
    hash is not of its body, or it does not follow the entry before it)."""

    seq: int
    reason: str


def first_break(entries: Iterable[JournalEntry], *, head_seq: int | None = None,
                head_hash: str | None = None) -> Break | None:
    """The first place an order's chain fails, in `seq` order, or None. With the order's
    own head (`head_seq`, `head_hash`), entries cut off its end are found too."""
    head, last = GENESIS_HASH, 0
    for expected_seq, entry in enumerate(sorted(entries, key=lambda e: e.seq), start=1):
        if entry.seq != expected_seq:
            return Break(expected_seq, "missing")
        if entry.prev_hash != head or chain_hash(entry.body()) != entry.hash:
            return Break(entry.seq, "altered")
        head, last = entry.hash, entry.seq
    if head_seq is not None and head_seq > last:
        return Break(last + 1, "missing")
    if head_hash is not None and head_seq == last and head_hash != head and last:
        return Break(last, "altered")
    return None


def verify_chain(entries: Iterable[JournalEntry]) -> str:
    """Check an order's chain in `seq` order and return its head hash."""
    entries = sorted(entries, key=lambda e: e.seq)
    broken = first_break(entries)
    if broken is not None:
        order_id = entries[0].order_id if entries else ""
        what = "is missing" if broken.reason == "missing" else "does not match its chain"
        raise ChainBroken(f"{order_id}: entry {broken.seq} {what}")
    return entries[-1].hash if entries else GENESIS_HASH


def posted_balances(entries: Iterable[JournalEntry]) -> dict[str, int]:
    """Posted balance per account: credits minus debits of single and post entries."""
    balances: dict[str, int] = defaultdict(int)
    for entry in entries:
        if entry.phase in (Phase.SINGLE, Phase.POST):
            balances[entry.debit_account] -= entry.amount_fen
            balances[entry.credit_account] += entry.amount_fen
    return dict(balances)


def pending_amount(entries: Iterable[JournalEntry]) -> int:
    """Money reserved by pending entries that no post or void has resolved yet."""
    entries = list(entries)
    resolved = {e.pending_id for e in entries if e.phase in (Phase.POST, Phase.VOID)}
    return sum(
        e.amount_fen for e in entries if e.phase is Phase.PENDING and e.transfer_id not in resolved
    )
