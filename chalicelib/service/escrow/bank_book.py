"""Entering the bank's movements in the platform's bank book, inside the transaction that
books each (chalicelib/domain/escrow/bank_book.py): the side of the ledger the bank's
statements are reconciled with."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from chalicelib.domain.escrow import bank_book
from chalicelib.domain.escrow.bank import BankInstruction, InstructionStatus
from chalicelib.service.store import AtomicWrite

LABEL = "bank_entry"
"""A write refused on this label met the same bank movement booked already (another notice
of it): a duplicate."""


def answered(write: AtomicWrite, instruction: BankInstruction, outcome: InstructionStatus,
             executed_at: datetime) -> AtomicWrite:
    """Add the bank's answer to `instruction` to `write`; an execution also enters its debit
    (at the bank's time of it, `executed_at`)."""
    write.replace(instruction, replace(instruction, status=outcome), "instruction")
    if outcome is InstructionStatus.SUCCEEDED:
        write.create(bank_book.executed(instruction, executed_at), LABEL)
    return write


def received(write: AtomicWrite, entry: bank_book.BankEntry) -> AtomicWrite:
    """Add a payment the bank reported (applied to an order or not) to `write`."""
    return write.create(entry, LABEL)
