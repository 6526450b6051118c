"""What a liquidation finds still in its institution's escrow once every order is done
(chalicelib/domain/institutions/liquidation.py `Outstanding`). A liquidation completes only when it
is empty: its orders' held + releasing + refunding (counted by the listing pass that found
every order done, from the orders it pages through anyway) all zero, and nothing its
supervised accounts received for no order still to go back. What holds the money is named
by kind from the institution's own listings (parked releases, refunds in flight) and each
supervised account's unmatched payments, so a regulator and ops see what to clear."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

from chalicelib.domain.escrow.consumption import Consumption, ConsumptionStatus
from chalicelib.domain.institutions.liquidation import Held, Outstanding
from chalicelib.domain.refunds.refund import IN_FLIGHT, RefundRequest
from chalicelib.service.context import Context
from chalicelib.service.escrow import escrow
from chalicelib.service.ports import Page, every_page

PAGE = 100


def outstanding(ctx: Context, institution_id: str, orders: Held, accounts: Iterable[str]
                ) -> Outstanding:
    """`orders` holding money, as the pass counted them, and what else the escrow holds:
    its releases parked, its refunds in flight, the returns awaited from `accounts` (its
    orders' supervised accounts) and from the institution's own."""
    parked = Held()
    for lesson in every_page(partial(_parked, ctx, institution_id)):
        parked = parked.with_one(lesson.consumption_id, lesson.amount_fen)
    refunds = Held()
    for status in sorted(IN_FLIGHT):
        for refund in every_page(partial(_refunds, ctx, institution_id, status)):
            refunds = refunds.with_one(refund.refund_id, refund.amount_fen)
    returns = Held()
    for payment in escrow.awaiting_return(ctx, {*accounts, *_own(ctx, institution_id)}):
        returns = returns.with_one(payment.unmatched_id, payment.amount_fen)
    return Outstanding(orders, parked, refunds, returns)


def _own(ctx: Context, institution_id: str) -> set[str]:
    institution = ctx.store.institution(institution_id)
    if institution is None:
        return set()
    approved = institution.approved_custodian
    return {institution.custodian.supervised_account,
            *([approved.supervised_account] if approved else [])}


def _parked(ctx: Context, institution_id: str, cursor: str | None) -> Page[Consumption]:
    return ctx.store.consumptions_of_institution(institution_id, ConsumptionStatus.NEEDS_REVIEW,
                                                 PAGE, cursor)


def _refunds(ctx: Context, institution_id: str, status: str, cursor: str | None
             ) -> Page[RefundRequest]:
    return ctx.store.refunds_of_institution(institution_id, status, PAGE, cursor)
