"""Errors raised by the custodian-bank adapters (re-exported by the service layer)."""

from __future__ import annotations

from chalicelib.service.ports import BankRefused, BankUnavailable

__all__ = ["BankRequestRejected", "BankUnavailable", "InstructionConflict"]


class BankRequestRejected(BankRefused):
    """The bank rejected a request as invalid (4xx): resending it unchanged will not help."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class InstructionConflict(BankRequestRejected):
    """An instruction id was resent with different contents; the bank executed the first one."""

    def __init__(self, instruction_id: str) -> None:
        super().__init__(f"instruction {instruction_id!r} was resent with different contents", 409)
        self.instruction_id = instruction_id
