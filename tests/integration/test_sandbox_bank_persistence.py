"""SandboxBank with a JsonFileStore: a restarted bank has the same money, outcomes and
undelivered callbacks as the one that stopped, and the state file is never half written."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from chalicelib.adapters.bank.errors import InstructionConflict
from chalicelib.domain.escrow.bank_signature import verify
from chalicelib.service.ports import TransferInstruction
from sandbox.bank import SandboxBank
from sandbox.bank_store import JsonFileStore, SandboxStateError

SECRET = "whsec_sandbox_persistence"
PAYER, SUPERVISED, GENERAL = "payer-001", "sup-inst-1", "gen-inst-1"
MOMENT = datetime(2026, 9, 5, 8, 0, tzinfo=UTC)


class Platform:
    """Stands in for POST /v1/bank/notifications: checks signatures, acknowledges everything."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def __call__(self, body: bytes, headers: dict[str, str]) -> int:
        verify(SECRET, headers["X-Bank-Signature"], body, now=int(MOMENT.timestamp()))
        self.events.append(json.loads(body))
        return 200


def move(instruction_id: str, amount_fen: int) -> TransferInstruction:
    return TransferInstruction(instruction_id, SUPERVISED, GENERAL, amount_fen)


@pytest.fixture
def state_file(tmp_path: Path) -> Path:
    return tmp_path / "bank" / "state.json"


def bank_at(state_file: Path, platform: Platform | None = None) -> SandboxBank:
    return SandboxBank(SECRET, platform or Platform(), now=lambda: MOMENT,
                       store=JsonFileStore(state_file))


def test_a_restarted_bank_keeps_balances_and_executes_an_instruction_at_most_once(
    state_file: Path,
) -> None:
    before = bank_at(state_file)
    before.pay(PAYER, SUPERVISED, "order-1", 10_000)
    before.instruct_transfer(move("ins-1", 3_000))
    before.deliver_pending()

    platform = Platform()
    after = bank_at(state_file, platform)
    after.instruct_transfer(move("ins-1", 3_000))

    assert (after.balance(PAYER), after.balance(SUPERVISED), after.balance(GENERAL)) == (
        -10_000, 7_000, 3_000)
    assert after.instructions_executed() == 1
    outcome = after.executed_instruction("ins-1")
    assert outcome is not None and outcome.succeeded and outcome.occurred_at == MOMENT
    assert after.deliver_pending() == 1
    assert [e["event_id"] for e in platform.events] == ["evt_ins-1_ok"]
    with pytest.raises(InstructionConflict):
        after.instruct_transfer(move("ins-1", 4_000))


def test_callbacks_held_when_the_bank_stopped_are_delivered_after_the_restart(
    state_file: Path,
) -> None:
    before = bank_at(state_file)
    before.hold_callbacks()
    before.pay(PAYER, SUPERVISED, "order-1", 10_000)
    before.instruct_transfer(move("ins-1", 3_000))
    assert before.deliver_pending() == 0

    platform = Platform()
    after = bank_at(state_file, platform)
    assert after.pending_notifications() == 2
    assert after.in_flight(GENERAL) == 3_000
    assert after.deliver_pending() == 2
    assert [e["type"] for e in platform.events] == ["payment_received", "transfer_succeeded"]
    assert after.in_flight(GENERAL) == after.in_flight(SUPERVISED) == 0

    after.pay(PAYER, SUPERVISED, "order-2", 500)
    again = bank_at(state_file, Platform())
    assert again.pending_notifications() == 1
    assert again.balance(SUPERVISED) == 7_500


def test_acknowledged_callbacks_are_not_sent_again_after_a_restart(state_file: Path) -> None:
    before = bank_at(state_file)
    before.pay(PAYER, SUPERVISED, "order-1", 10_000)
    assert before.deliver_pending() == 1

    platform = Platform()
    assert bank_at(state_file, platform).deliver_pending() == 0
    assert platform.events == []


def test_fault_knobs_are_not_kept_a_restarted_bank_is_healthy(state_file: Path) -> None:
    before = bank_at(state_file)
    before.pay(PAYER, SUPERVISED, "order-1", 10_000)
    before.set_unavailable(True)
    before.fail_next_transfers(3)

    after = bank_at(state_file)
    after.instruct_transfer(move("ins-1", 1_000))
    outcome = after.executed_instruction("ins-1")
    assert outcome is not None and outcome.succeeded


def test_a_failed_outcome_survives_with_its_reason(state_file: Path) -> None:
    before = bank_at(state_file)
    before.instruct_transfer(move("ins-1", 1_000))

    outcome = bank_at(state_file).executed_instruction("ins-1")
    assert outcome is not None
    assert (outcome.succeeded, outcome.reason, outcome.event_id) == (
        False, "insufficient_funds", "evt_ins-1_fail")


def test_every_save_replaces_the_file_whole_and_leaves_no_temporary_files(
    state_file: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    bank = bank_at(state_file)
    bank.pay(PAYER, SUPERVISED, "order-1", 10_000)
    saved = state_file.read_text(encoding="utf-8")

    def interrupted(source: str, target: str) -> None:
        raise OSError("disk went away")

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(OSError, match="disk went away"):
        bank.pay(PAYER, SUPERVISED, "order-2", 1)
    monkeypatch.undo()

    assert state_file.read_text(encoding="utf-8") == saved
    assert [p.name for p in state_file.parent.iterdir()] == [state_file.name]
    assert bank_at(state_file).balance(SUPERVISED) == 10_000


def test_an_unreadable_state_file_is_refused_rather_than_starting_empty(
    state_file: Path,
) -> None:
    state_file.parent.mkdir(parents=True)
    for content in ("{not json", '{"version": 99}', '{"version": 1, "balances": {}}'):
        state_file.write_text(content, encoding="utf-8")
        with pytest.raises(SandboxStateError, match=str(state_file.name)):
            bank_at(state_file)


def test_without_a_store_nothing_is_written(tmp_path: Path) -> None:
    bank = SandboxBank(SECRET, Platform(), now=lambda: MOMENT)
    bank.pay(PAYER, SUPERVISED, "order-1", 100)
    assert list(tmp_path.iterdir()) == []
