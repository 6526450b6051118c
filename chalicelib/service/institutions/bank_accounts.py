"""The bank accounts institutions registered, and what that makes them: never a parent's.

Every supervised and general account an institution names (applying, or changing its
custodian accounts) is registered under its credit code in the same transaction, and a
registration is never removed. A payment from a registered account is not a parent's
prepayment (chalicelib/service/escrow/bank_events.py), and no refund is ever paid to one
(chalicelib/service/refunds/refund_payouts.py): an institution cannot pay its own orders to look
busy, nor collect parents' refunds by registering the account they paid from.
"""

from __future__ import annotations

from chalicelib.domain.errors import StateConflict
from chalicelib.domain.institutions.catalog import Custodian
from chalicelib.service.context import Context
from chalicelib.service.store import AtomicWrite


def register(ctx: Context, write: AtomicWrite, institution_id: str, uscc: str,
             custodian: Custodian) -> AtomicWrite:
    """Add the registration of the custodian's accounts to `write`, after checking that no
    other credit code holds one (the write's condition holds it under a race)."""
    for account in custodian.accounts:
        holder = ctx.store.bank_account_holder(account)
        if holder is not None and holder.uscc != uscc:
            raise account_registered(account)
    return write.register_bank_accounts(institution_id, uscc, list(custodian.accounts))


def account_registered(account: str) -> StateConflict:
    return StateConflict("该银行账户已由其他机构登记，不能作为本机构的存管账户",
                         code="bank_account_registered", account=account)


def is_institutions(ctx: Context, account: str) -> bool:
    """Whether an institution registered this account (its own, or any other's)."""
    return ctx.store.bank_account_holder(account) is not None
