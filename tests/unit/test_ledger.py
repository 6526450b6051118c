"""The journal: double entry, deterministic transfer ids, a per-order hash chain."""

from __future__ import annotations

from dataclasses import replace

import pytest

from chalicelib.domain import ledger
from chalicelib.domain.ledger import Phase

ORDER = "ord_01JNZ0000000000000000000AA"
SUPERVISED = ledger.supervised_account("ins_1")
GENERAL = ledger.general_account("ins_1")


def chain() -> list[ledger.JournalEntry]:
    entries: list[ledger.JournalEntry] = []

    def add(transfer_id: str, phase: Phase, debit: str, credit: str, amount: int,
            pending_id: str = "") -> None:
        head = entries[-1] if entries else None
        entries.append(ledger.next_entry(
            order_id=ORDER, after_seq=head.seq if head else 0,
            after_hash=head.hash if head else "", transfer_id=transfer_id, phase=phase,
            debit_account=debit, credit_account=credit, amount_fen=amount,
            occurred_at="2026-03-02T09:00:00+08:00", pending_id=pending_id,
        ))

    add(ledger.payment_transfer_id(ORDER), Phase.SINGLE, ledger.PAYER, SUPERVISED, 3_000)
    first = ledger.release_transfer_id("con_1", 1)
    add(first, Phase.PENDING, SUPERVISED, GENERAL, 1_000)
    add(ledger.resolution_transfer_id(first, Phase.VOID), Phase.VOID, SUPERVISED, GENERAL,
        1_000, first)
    second = ledger.release_transfer_id("con_1", 2)
    add(second, Phase.PENDING, SUPERVISED, GENERAL, 1_000)
    add(ledger.resolution_transfer_id(second, Phase.POST), Phase.POST, SUPERVISED, GENERAL,
        1_000, second)
    return entries


def test_posted_balances_count_single_and_posted_transfers_only() -> None:
    balances = ledger.posted_balances(chain())
    assert balances == {ledger.PAYER: -3_000, SUPERVISED: 2_000, GENERAL: 1_000}
    assert sum(balances.values()) == 0


def test_a_voided_or_posted_pending_transfer_no_longer_reserves_money() -> None:
    entries = chain()
    assert ledger.pending_amount(entries) == 0
    assert ledger.pending_amount(entries[:2]) == 1_000


def test_the_chain_verifies_and_returns_the_last_hash() -> None:
    entries = chain()
    assert ledger.verify_chain(entries) == entries[-1].hash


@pytest.mark.parametrize("tamper", ["amount", "drop", "swap", "account"])
def test_any_change_to_the_journal_breaks_the_chain(tamper: str) -> None:
    entries = chain()
    if tamper == "amount":
        entries[1] = replace(entries[1], amount_fen=999)
    elif tamper == "drop":
        del entries[2]
    elif tamper == "swap":
        entries[1], entries[2] = replace(entries[2], seq=2), replace(entries[1], seq=3)
    else:
        entries[4] = replace(entries[4], credit_account=ledger.PAYER)
    with pytest.raises(ledger.ChainBroken):
        ledger.verify_chain(entries)


@pytest.mark.parametrize(
    ("amount", "debit", "credit", "phase", "pending_id"),
    [
        (0, SUPERVISED, GENERAL, Phase.SINGLE, ""),
        (-5, SUPERVISED, GENERAL, Phase.SINGLE, ""),
        (10, SUPERVISED, SUPERVISED, Phase.SINGLE, ""),
        (10, SUPERVISED, GENERAL, Phase.POST, ""),
        (10, SUPERVISED, GENERAL, Phase.PENDING, "x"),
    ],
)
def test_a_malformed_transfer_is_refused(
    amount: int, debit: str, credit: str, phase: Phase, pending_id: str
) -> None:
    with pytest.raises(ValueError):
        ledger.next_entry(
            order_id=ORDER, after_seq=0, after_hash="", transfer_id="t", phase=phase,
            debit_account=debit, credit_account=credit, amount_fen=amount,
            occurred_at="2026-03-02T09:00:00+08:00", pending_id=pending_id,
        )


def test_transfer_ids_are_deterministic_so_a_retry_writes_the_same_id() -> None:
    assert ledger.release_transfer_id("con_1", 2) == ledger.release_transfer_id("con_1", 2)
    assert ledger.release_transfer_id("con_1", 2) != ledger.release_transfer_id("con_1", 3)
