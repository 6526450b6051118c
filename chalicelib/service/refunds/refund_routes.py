"""When a refund cannot go back by its original route, the parent names another account.

A refund goes back by the route the order was paid by (the payer's account). When that route
is closed (the bank refused the payout for good, or failed it until it was parked), or it
turned out to be an account an institution registered, the refund waits in `needs_review`
and the parent is told. Only the order's parent may then name another account; it is
checked (not an account any institution registered, not the route that failed) and kept
on the request with who named it and when (`payout_account_changes`, never changed), and
the payout starts again under a new attempt that the `refund` job reserves and sends, once
the bank says it did not pay the last one after all (a send that timed out may have been
taken and executed late: that is booked, never paid twice). Ops
may still pay it out again to the same account once the bank fixed it (`infra.cli refunds
retry`), but never choose an account: the money is the parent's.
"""

from __future__ import annotations

from dataclasses import replace

from chalicelib.domain.errors import RuleViolation, StateConflict
from chalicelib.domain.escrow.bank import account_number
from chalicelib.domain.refunds.refund import PayoutAccountChange, RefundRequest, RefundStatus
from chalicelib.service import retry
from chalicelib.service.caller import Caller, Role
from chalicelib.service.context import Context
from chalicelib.service.escrow import orders
from chalicelib.service.institutions import bank_accounts
from chalicelib.service.refunds import late_payouts, refunds


def name_payout_account(ctx: Context, caller: Caller, refund_id: str, account: str
                        ) -> RefundRequest:
    caller.require(Role.PARENT)
    refunds.visible(ctx, caller, refund_id)  # the parent's own, or not found

    def attempt() -> RefundRequest:
        before = refunds.get(ctx, refund_id)
        if _named_already(before, caller, account):
            return before  # a retry: the first attempt's change is in force
        if before.status is not RefundStatus.NEEDS_REVIEW:
            raise StateConflict("退款未在等待处理，不能更换收款账户",
                                code="refund_not_needing_review", status=str(before.status))
        route = before.payout_account(orders.get(ctx, before.order_id).payer_bank_account)
        if account_number(account) == account_number(route):
            raise RuleViolation("新收款账户与未能退回的原账户相同",
                                code="payout_account_unchanged")
        if bank_accounts.is_institutions(ctx, account):
            raise RuleViolation("退款不能退至培训机构登记的账户",
                                code="payout_account_is_institution")
        _unless_paid_already(ctx, before)
        change = PayoutAccountChange(account=account, named_by=str(Role.PARENT),
                                     named_sub=caller.sub, at=ctx.now(),
                                     from_attempt=before.attempt + 1)
        after = replace(before, status=RefundStatus.APPROVED, attempt=before.attempt + 1,
                        first_attempt=before.attempt + 1, review_reason="", deferrals=0,
                        payout_account_changes=(*before.payout_account_changes, change))
        ctx.store.write().replace(before, after, "refund", due=("refund", ctx.now())).commit()
        return after

    return retry.on_conflict(attempt, retry_when=lambda rejected: True)


def _unless_paid_already(ctx: Context, before: RefundRequest) -> None:
    """A new attempt is a new instruction, which the bank would pay again: first the bank is
    asked about the last one (`late_payouts.paid_late`). One it paid late is booked
    (refunded, by the original route) and the parent's account refused, as the request no
    longer waits; a bank that cannot be asked refuses it, nothing changed."""
    if late_payouts.paid_late(ctx, before.instruction_id):
        raise StateConflict("银行已将该退款退回原账户，无需更换收款账户",
                            code="refund_not_needing_review", status=str(RefundStatus.REFUNDED))


def _named_already(refund: RefundRequest, caller: Caller, account: str) -> bool:
    """The parent's last change named this very account and the payout has gone on from
    it (the answer a retry after a timeout gets)."""
    if not refund.payout_account_changes or refund.status is RefundStatus.NEEDS_REVIEW:
        return False
    last = refund.payout_account_changes[-1]
    return last.named_sub == caller.sub and last.account == account
