"""The bank as the platform's gateway sees it in the simulation: the sandbox bank, plus two
misbehaviours a real bank's link shows that the sandbox alone does not: an instruction
executed whose answer never came back (a timeout after the bank acted), and a bank that
calls back before it answers the instruction (its callback wins the race)."""

from __future__ import annotations

from collections.abc import Callable

from chalicelib.adapters.bank.sandbox import SandboxBank
from chalicelib.service.ports import BankRecord, BankUnavailable, TransferInstruction


class MisbehavingLink:
    def __init__(self, bank: SandboxBank) -> None:
        self.bank = bank
        self.time_out_next = 0
        self.answers_first = False
        self.on_callback: Callable[[], None] = lambda: None
        """Runs the callbacks sent before the answer (set by the world: deliver them)."""

    def instruct_transfer(self, instruction: TransferInstruction) -> None:
        self.bank.instruct_transfer(instruction)
        if self.answers_first:
            self.on_callback()
        if self.time_out_next > 0:
            self.time_out_next -= 1
            raise BankUnavailable("simulated: the bank executed it, its answer timed out")

    def executed(self, instruction_id: str) -> BankRecord | None:
        return self.bank.executed(instruction_id)
