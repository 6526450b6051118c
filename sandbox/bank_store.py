"""A JSON file holding a SandboxBank's state, so the local stack's bank survives restarts.

`JsonFileStore(path)` is the bank's StateStore: each save writes a temporary file next to
`path`, flushes it to disk and renames it over `path` (os.replace is atomic), so a stop at any
moment leaves either the previous state or the new one, never half a file. A file that cannot
be read as a bank state raises SandboxStateError rather than starting from empty: these
balances are money the platform has booked.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chalicelib.service.ports import TransferInstruction
from sandbox.bank import BankState, TransferOutcome
from sandbox.bank_books import Movement

FORMAT_VERSION = 2
"""2 keeps every booking (statements are read off them); 1 kept balances only and is read
as one opening booking per account, dated before any statement."""

OPENED = datetime(2000, 1, 1, tzinfo=UTC)


class SandboxStateError(RuntimeError):
    """The state file exists but is not a sandbox bank state this code can read."""


class JsonFileStore:
    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> BankState | None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        try:
            return decode(json.loads(text))
        except (ValueError, KeyError, TypeError) as error:
            raise SandboxStateError(
                f"{self.path}: not a sandbox bank state ({error!r}); move it away to start "
                "the bank empty"
            ) from None

    def save(self, state: BankState) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = json.dumps(encode(state), ensure_ascii=False, separators=(",", ":"))
        handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as sink:
                sink.write(data)
                sink.flush()
                os.fsync(sink.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


def encode(state: BankState) -> dict[str, Any]:
    return {
        "version": FORMAT_VERSION,
        "serial": state.serial,
        "movements": [
            {"serial": m.serial, "account": m.account, "counterparty": m.counterparty,
             "amount_fen": m.amount_fen, "key": m.key, "booked_at": m.booked_at.isoformat(),
             "reference": m.reference}
            for m in state.movements
        ],
        "seq": state.seq,
        "outcomes": [
            {
                "instruction": {
                    "instruction_id": o.instruction.instruction_id,
                    "from_account": o.instruction.from_account,
                    "to_account": o.instruction.to_account,
                    "amount_fen": o.instruction.amount_fen,
                },
                "succeeded": o.succeeded,
                "reason": o.reason,
                "event_id": o.event_id,
                "occurred_at": o.occurred_at.isoformat(),
                "body": state.outcome_bodies[o.event_id].decode("utf-8"),
            }
            for o in state.outcomes.values()
        ],
        "queue": [
            {"seq": seq, "event_id": event_id, "body": body.decode("utf-8")}
            for seq, event_id, body in state.queue
        ],
        "unacked": {
            event_id: [[account, delta] for account, delta in moves]
            for event_id, moves in state.unacked.items()
        },
    }


def decode(data: Any) -> BankState:
    if not isinstance(data, dict) or data.get("version") not in (1, FORMAT_VERSION):
        raise ValueError(f"expected a version {FORMAT_VERSION} object")
    if data["version"] == 1:
        movements, serial = _opening_bookings(data["balances"]), 0
    else:
        movements, serial = tuple(_movement(m) for m in data["movements"]), data["serial"]
    outcomes = {
        o["instruction"]["instruction_id"]: TransferOutcome(
            instruction=TransferInstruction(
                instruction_id=str(o["instruction"]["instruction_id"]),
                from_account=str(o["instruction"]["from_account"]),
                to_account=str(o["instruction"]["to_account"]),
                amount_fen=_integer(o["instruction"]["amount_fen"]),
            ),
            succeeded=bool(o["succeeded"]),
            reason=None if o["reason"] is None else str(o["reason"]),
            event_id=str(o["event_id"]),
            occurred_at=datetime.fromisoformat(o["occurred_at"]),
        )
        for o in data["outcomes"]
    }
    return BankState(
        movements=movements,
        serial=_integer(serial),
        outcomes=outcomes,
        outcome_bodies={str(o["event_id"]): str(o["body"]).encode() for o in data["outcomes"]},
        queue=tuple(
            (_integer(q["seq"]), str(q["event_id"]), str(q["body"]).encode())
            for q in data["queue"]
        ),
        seq=_integer(data["seq"]),
        unacked={
            str(event_id): tuple((str(account), _integer(delta)) for account, delta in moves)
            for event_id, moves in data["unacked"].items()
        },
    )


def _movement(data: Any) -> Movement:
    return Movement(serial=str(data["serial"]), account=str(data["account"]),
                    counterparty=str(data["counterparty"]),
                    amount_fen=_integer(data["amount_fen"]), key=str(data["key"]),
                    booked_at=datetime.fromisoformat(data["booked_at"]),
                    reference=str(data["reference"]))


def _opening_bookings(balances: dict[str, Any]) -> tuple[Movement, ...]:
    """A version 1 file's balances, each as an opening booking from outside the bank."""
    return tuple(
        Movement(serial="S0000000000", account=str(account), counterparty="OPENING",
                 amount_fen=_integer(fen), key="opening", booked_at=OPENED)
        for account, fen in balances.items() if _integer(fen)
    )


def _integer(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected an integer, got {value!r}")
    return value
