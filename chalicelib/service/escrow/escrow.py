"""What an institution's escrow (its supervised account) still holds: its orders' held,
releasing and refunding money, orders whose parents were told to pay into it, and payments
that matched no order still to be returned from it.

A supervised account (or custodian bank) is changed only once it holds nothing: the money
of every order stays in the account it was paid into (each order keeps its account number,
and refunds leave from it), so an institution that moved banks with money held would close
an account that still holds parents' money. The check reads the institution's orders
through its orders index, page by page, and each supervised account's unmatched payments
awaiting return: a rare, regulated event, run when the institution submits the change and
again when its department approves it (docs/decisions.md, "Issue 22: accounts")."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import partial

from chalicelib.domain.errors import StateConflict
from chalicelib.domain.escrow.bank import UnmatchedPayment, UnmatchedStatus
from chalicelib.domain.institutions.catalog import Custodian, Institution
from chalicelib.service.context import Context
from chalicelib.service.ports import Page, every_page

PAGE = 100
NAMED = 10
"""How many of each kind an answer names (the counts are whole)."""
AWAITING_RETURN = (UnmatchedStatus.RETURNING, UnmatchedStatus.NEEDS_REVIEW)


@dataclass
class Holdings:
    """What the escrow holds, as one pass over the orders found it."""

    orders: list[str] = field(default_factory=list)
    """Orders holding money or awaiting payment."""
    fen: int = 0
    accounts: set[str] = field(default_factory=set)
    """Every supervised account its orders were paid into."""


def holdings(ctx: Context, institution_id: str) -> Holdings:
    found = Holdings()
    for order in every_page(lambda cursor: ctx.store.orders_of_institution(
            institution_id, PAGE, cursor)):
        found.accounts.add(order.supervised_bank_account)
        if order.holds_escrow:
            found.orders.append(order.order_id)
            found.fen += order.escrow_fen
    return found


def awaiting_return(ctx: Context, accounts: Iterable[str]) -> list[UnmatchedPayment]:
    """Unmatched payments these accounts received and have not paid back yet."""
    return [payment for account in sorted(set(accounts) - {""}) for status in AWAITING_RETURN
            for payment in every_page(partial(_received, ctx, account, status))]


def _received(ctx: Context, account: str, status: UnmatchedStatus, cursor: str | None
              ) -> Page[UnmatchedPayment]:
    return ctx.store.unmatched_at_account(account, status, PAGE, cursor)


def moves_escrow(institution: Institution, proposed: Custodian) -> bool:
    """`proposed` would take the parents' money somewhere else than the accounts its
    department approved (unknown approved accounts of an institution that held money
    count as a move: the check then decides)."""
    approved = institution.approved_custodian
    if approved is None:
        return institution.ever_whitelisted
    return not approved.same_escrow(proposed)


def require_empty(ctx: Context, institution: Institution, proposed: Custodian) -> None:
    """Refuse (409 `supervised_account_holds_money`) custodian accounts that move the escrow
    while it holds anything."""
    if not moves_escrow(institution, proposed):
        return
    held = holdings(ctx, institution.institution_id)
    approved = institution.approved_custodian
    accounts = held.accounts | ({approved.supervised_account} if approved else set())
    returns = awaiting_return(ctx, accounts)
    if held.orders or returns:
        raise StateConflict(
            "监管账户仍有资金（未消课的预收费、待支付订单或待退回的款项），不能变更；"
            "请待其全部划拨或退回后再申请", code="supervised_account_holds_money",
            orders=held.orders[:NAMED], orders_holding=len(held.orders), fen_held=held.fen,
            unmatched_payments=[p.unmatched_id for p in returns[:NAMED]],
            unmatched_fen=sum(p.amount_fen for p in returns),
        )
