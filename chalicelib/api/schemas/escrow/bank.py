"""The custodian bank's signed notifications (DESIGN.md §5)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, RootModel

from chalicelib.api.schemas.common import PositiveFen, Strict, Time

EventId = Annotated[str, Field(min_length=1, max_length=128)]


class PaymentReceived(Strict):
    event_id: EventId
    type: Literal["payment_received"]
    payment_reference: Annotated[str, Field(min_length=1, max_length=64)]
    amount_fen: PositiveFen
    bank_txn_id: Annotated[str, Field(min_length=1, max_length=128)]
    occurred_at: Time
    payer_account: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    """Where the money came from: where a refund is paid back to (the original route)."""
    payee_account: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    """The supervised account the money reached: where money that matched no order is
    returned from."""


class TransferOutcome(Strict):
    event_id: EventId
    type: Literal["transfer_succeeded", "transfer_failed"]
    instruction_id: Annotated[str, Field(min_length=1, max_length=128)]
    amount_fen: PositiveFen
    occurred_at: Time
    reason: str | None = Field(default=None, max_length=500)


class BankNotification(
    RootModel[Annotated[PaymentReceived | TransferOutcome, Field(discriminator="type")]]
):
    """One of the custodian bank's signed notifications (DESIGN.md §5), by `type`."""


class BankAck(BaseModel):
    event_id: str
    result: str
