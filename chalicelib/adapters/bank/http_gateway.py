"""HttpBankGateway: the BankGateway port over HTTP, talking to the sandbox bank server."""

from __future__ import annotations

import http.client
import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from datetime import date, datetime

from chalicelib.adapters.bank import mt940_statements
from chalicelib.adapters.bank.errors import (
    BankRequestRejected,
    BankUnavailable,
    InstructionConflict,
)
from chalicelib.domain.supervision.statement import Statement
from chalicelib.service.ports import BankRecord, TransferInstruction

logger = logging.getLogger(__name__)

COME_BACK_LATER = frozenset({408, 425, 429})
"""Refusals of the moment (timeout, too early, too many requests), not of the instruction."""


class HttpBankGateway:
    """POSTs instructions to `{base_url}/instructions`; 202 means accepted for execution.
    GETs `{base_url}/instructions/{id}` for the bank's record of one (404: never executed).

    Connection errors, timeouts, 5xx and the 4xx that only ask to come back later (408, 425,
    429) raise BankUnavailable (safe to resend: the bank keys on instruction_id); 409 raises
    InstructionConflict; other 4xx raise BankRequestRejected.
    """

    def __init__(self, base_url: str, timeout: float = 5.0) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError("base_url must be http(s)")
        self._base = base_url.rstrip("/")
        self._url = self._base + "/instructions"
        self._timeout = timeout

    def statement(self, account: str, day: date) -> Statement:
        """GETs `{base_url}/statements/{account}/{YYYY-MM-DD}`: the day's MT940. Unreachable,
        5xx (a day not yet closed), or unreadable: BankUnavailable (asked again later)."""
        path = f"{self._base}/statements/{urllib.parse.quote(account, safe='')}/{day.isoformat()}"
        try:
            with urllib.request.urlopen(urllib.request.Request(path, method="GET"),
                                        timeout=self._timeout) as response:
                text = response.read().decode("utf-8")
        except urllib.error.HTTPError as exc:
            with exc:
                raise BankUnavailable(f"no statement of {account} for {day}: "
                                      f"HTTP {exc.code}") from exc
        except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
            raise BankUnavailable(f"bank unreachable: {exc}") from exc
        except UnicodeDecodeError as exc:
            raise BankUnavailable(f"the statement of {account} for {day} is not text") from exc
        try:
            return mt940_statements.parse(text, account, day)
        except mt940_statements.StatementUnreadable as exc:
            raise BankUnavailable(f"the statement of {account} for {day} is unreadable: "
                                  f"{exc}") from exc

    def executed(self, instruction_id: str) -> BankRecord | None:
        request = urllib.request.Request(
            f"{self._url}/{urllib.parse.quote(instruction_id, safe='')}", method="GET"
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
                record = json.loads(response.read().decode("utf-8"))
                executed = record.get("occurred_at")
                return BankRecord(bool(record["succeeded"]), str(record.get("reason") or ""),
                                  datetime.fromisoformat(executed) if executed else None)
        except urllib.error.HTTPError as exc:
            with exc:
                if exc.code == 404:
                    return None
                raise BankUnavailable(f"bank could not say what it did with {instruction_id}: "
                                      f"HTTP {exc.code}") from exc
        except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
            raise BankUnavailable(f"bank unreachable: {exc}") from exc
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise BankUnavailable(f"bank's record of {instruction_id} unreadable") from exc

    def instruct_transfer(self, instruction: TransferInstruction) -> None:
        body = json.dumps(
            {
                "instruction_id": instruction.instruction_id,
                "from_account": instruction.from_account,
                "to_account": instruction.to_account,
                "amount_fen": instruction.amount_fen,
            }
        ).encode("utf-8")
        request = urllib.request.Request(
            self._url, data=body, headers={"Content-Type": "application/json"}, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
                response.read()
        except urllib.error.HTTPError as exc:
            with exc:
                detail = exc.read().decode("utf-8", "replace")
            self._raise_for(exc.code, instruction.instruction_id, detail)
        except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
            raise BankUnavailable(f"bank unreachable: {exc}") from exc
        logger.info("bank accepted instruction %s", instruction.instruction_id)

    @staticmethod
    def _raise_for(status: int, instruction_id: str, detail: str) -> None:
        if status >= 500 or status in COME_BACK_LATER:
            raise BankUnavailable(f"bank answered HTTP {status}: {detail}")
        if status == 409:
            raise InstructionConflict(instruction_id)
        raise BankRequestRejected(f"bank rejected instruction {instruction_id}: {detail}", status)
