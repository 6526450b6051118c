"""An order's journal, down to the entry, its chain verified on every read."""

from __future__ import annotations

from chalice.app import Blueprint

from chalicelib.api import schemas
from chalicelib.api.routing import Call, Result, route
from chalicelib.api.views import fields
from chalicelib.service.supervision import journals as service
from chalicelib.service.supervision.journals import VerifiedJournal

journals = Blueprint(__name__)


@route(journals, "GET", "/v1/regulator/orders/{order_id}/journal",
       summary="An order's journal entries with their hashes, the chain verified on the read "
               "(a break reported with its first bad entry)", tag="supervision",
       response=schemas.JournalView)
def journal(call: Call) -> Result:
    return 200, _view(service.of_order(call.ctx, call.who, call.params["order_id"]))


def _view(verified: VerifiedJournal) -> schemas.JournalView:
    broken = verified.broken
    return schemas.JournalView(
        order_id=verified.order.order_id, institution_id=verified.order.institution_id,
        verified=broken is None, head_hash=verified.order.journal_head,
        broken=None if broken is None else schemas.ChainBreakView(seq=broken.seq,
                                                                  reason=broken.reason),
        entries=[schemas.JournalEntryView.model_validate(fields(e)) for e in verified.entries])
