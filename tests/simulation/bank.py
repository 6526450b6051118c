"""The bank as the platform's gateway sees it in the simulation: the sandbox bank, plus the
misbehaviours a real bank's link shows that the sandbox alone does not: an instruction
executed whose answer never came back (a timeout after the bank acted), a bank that calls
back before it answers the instruction (its callback wins the race), and an instruction the
bank took without answering and executes only later: its resends are refused for good (the
id is already being processed) while the bank has no record of it yet, so the platform
parks it. Ops retrying such a payout must find it executed, and book it, not pay it again."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from chalicelib.domain.supervision.statement import Statement
from chalicelib.service.ports import (
    BankRecord,
    BankRefused,
    BankUnavailable,
    TransferInstruction,
)
from sandbox.bank import SandboxBank

RELEASE, REFUND = "bki_", "bkr_"
"""The payouts the bank may take and execute late, by their instruction ids' prefix."""


class MisbehavingLink:
    def __init__(self, bank: SandboxBank) -> None:
        self.bank = bank
        self.time_out_next = 0
        self.answers_first = False
        self.on_callback: Callable[[], None] = lambda: None
        """Runs the callbacks sent before the answer (set by the world: deliver them)."""
        self.take_late: list[str] = []
        """The kinds (RELEASE, REFUND) of the next payouts the bank takes without answering."""
        self.taken: list[TransferInstruction] = []
        """Instructions the bank took without answering, to execute later."""

    def instruct_transfer(self, instruction: TransferInstruction) -> None:
        if instruction in self.taken:  # still in the bank's queue: a resend is refused
            raise BankRefused("simulated: instruction id already being processed")
        if (self.take_late and instruction.instruction_id.startswith(self.take_late[0])
                and self.bank.executed_instruction(instruction.instruction_id) is None):
            self.take_late.pop(0)
            self.taken.append(instruction)
            raise BankUnavailable("simulated: the bank took it without answering")
        self.bank.instruct_transfer(instruction)
        if self.answers_first:
            self.on_callback()
        if self.time_out_next > 0:
            self.time_out_next -= 1
            raise BankUnavailable("simulated: the bank executed it, its answer timed out")

    def executed(self, instruction_id: str) -> BankRecord | None:
        return self.bank.executed(instruction_id)

    def statement(self, account: str, day: date) -> Statement:
        return self.bank.statement(account, day)

    def execute_taken(self, still_awaited: Callable[[str], bool],
                      now: Callable[[str], bool]) -> list[str]:
        """The bank executes what it took: each taken instruction `now` picks (one it
        cannot execute yet, its account closed or the bank down, it keeps); one the
        platform no longer awaits (ops retried it under another attempt) it drops, never
        executed (what it said when asked). The ids it executed."""
        executed: list[str] = []
        kept: list[TransferInstruction] = []
        for instruction in self.taken:
            if not still_awaited(instruction.instruction_id):
                continue
            if not now(instruction.instruction_id):
                kept.append(instruction)
                continue
            try:
                self.bank.instruct_transfer(instruction)
            except (BankRefused, BankUnavailable):
                kept.append(instruction)  # it tries again later
                continue
            executed.append(instruction.instruction_id)
        self.taken = kept
        return executed
