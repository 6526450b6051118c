"""The custodian bank's signed callbacks. Authenticated by signature, not by token."""

from __future__ import annotations

from chalice.app import Blueprint, Request

from chalicelib import bootstrap
from chalicelib.api import schemas
from chalicelib.api.routing import Call, Result, route
from chalicelib.domain.errors import Unauthenticated
from chalicelib.domain.escrow.bank_signature import InvalidSignature, verify
from chalicelib.service.context import Context
from chalicelib.service.escrow import bank_events

bank = Blueprint(__name__)

SIGNATURE_HEADER = "x-bank-signature"


@route(bank, "POST", "/v1/bank/notifications", summary="Custodian bank notification",
       tag="bank", request=schemas.BankNotification, response=schemas.BankAck, public=True,
       guard=lambda request, ctx: _verify_signature(request, ctx), signed=True)
def notification(call: Call) -> Result:
    event = call.body.root
    if isinstance(event, schemas.PaymentReceived):
        outcome = bank_events.payment_received(
            call.ctx, event_id=event.event_id, payment_reference=event.payment_reference,
            amount_fen=event.amount_fen, bank_txn_id=event.bank_txn_id,
            occurred_at=event.occurred_at, payer_account=event.payer_account or "",
            payee_account=event.payee_account or "",
        )
    else:
        outcome = bank_events.transfer_outcome(
            call.ctx, event_id=event.event_id, instruction_id=event.instruction_id,
            amount_fen=event.amount_fen, succeeded=event.type == "transfer_succeeded",
            reason=event.reason or "", occurred_at=event.occurred_at,
        )
    return 200, schemas.BankAck(event_id=event.event_id, result=outcome)


def _verify_signature(request: Request, ctx: Context) -> None:
    try:
        verify(
            bootstrap.settings().bank_webhook_secret,
            request.headers.get(SIGNATURE_HEADER),
            _raw_bytes(request),
            int(ctx.now().timestamp()),
        )
    except InvalidSignature as invalid:
        raise Unauthenticated(
            "银行通知签名无效", code="invalid_signature", reason=invalid.reason
        ) from invalid


def _raw_bytes(request: Request) -> bytes:
    raw = request.raw_body or b""
    return raw.encode() if isinstance(raw, str) else raw
