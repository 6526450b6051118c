"""Money that tries to go around the escrow, and refunds whose route is closed.

A family pays an order's reference into the institution's general account or another
institution's supervised account; an institution pays its own order from its general
account; the bank sends a notice that names no accounts. None of these may pay the order
(checks.py: an order is paid only with what its family sent to its own supervised account,
and every institution account's balance at the bank equals the ledger's). A family whose
refund is parked names another account for it (and tries an institution's, refused); if
the bank paid the parked attempt late, that is booked instead and the account refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib import bootstrap
from chalicelib.domain.errors import PlatformError
from chalicelib.domain.escrow.bank import UnmatchedPayment, UnmatchedStatus
from chalicelib.service.refunds import unmatched_returns
from tests.simulation import model
from tests.simulation.faults import Fault
from tests.simulation.people import expect
from tests.simulation.world import World


@dataclass(frozen=True)
class Misrouted:
    """Money sent under an order's reference where it cannot pay the order."""

    bank_txn_id: str
    payer: str
    to_account: str
    amount: int
    reason: str
    """The unmatched reason the platform must record (the bank tells it the accounts)."""


def misroute(w: World, order: int, kind: int) -> str:
    """Money for an unpaid order sent where it cannot pay it: into the shop's general
    account, into another shop's supervised account, from the shop's own general account,
    or reported by the bank without its accounts."""
    unpaid = [o for o in w.orders if o.status == "pending_payment"]
    o = w.pick(unpaid or w.orders, order)
    if o is None:
        return "nothing to pay"
    shop, fam = w.shop_of(o), w.family_of(o)
    other = w.pick([s for s in w.shops if s.supervised != shop.supervised], kind // 4)
    payer, to_account, reason = {
        0: (fam.payer, shop.general, "wrong_account"),
        1: (fam.payer, other.supervised if other else shop.general, "wrong_account"),
        2: (shop.general, o.account, "payer_is_institution"),
        3: (fam.payer, o.account, "account_missing"),
    }[kind % 4]
    if reason == "account_missing":
        w.p.bank.omit_accounts_next_payments(1)
    bank_txn_id = w.p.bank.pay(payer, to_account, o.reference, o.amount)
    w.misrouted.append(Misrouted(bank_txn_id, payer, to_account, o.amount, reason))
    return f"{o.amount} for {o.order_id} from {payer} into {to_account} ({reason})"


def check_recorded(w: World, unmatched: list[UnmatchedPayment]) -> None:
    """Each misrouted payment the platform was told of is recorded for what it is."""
    recorded = {u.bank_txn_id: u for u in unmatched}
    for m in w.misrouted:
        found = recorded.get(m.bank_txn_id)
        if found is not None and str(found.reason) != m.reason:
            raise model.Violation(f"{m.bank_txn_id} ({m.payer} -> {m.to_account}) recorded "
                                  f"as {found.reason}, not {m.reason}")


def name_refund_account(w: World, pick: int, variant: int,
                        faults: tuple[Fault, ...] = ()) -> str:
    """The parent of a parked refund names another account for it; one time in three an
    institution's account first (refused)."""
    parked = [r for r in w.refunds.values() if r.status == "needs_review"]
    r = w.pick(parked, pick)
    if r is None:
        return "no parked refund"
    fam = w.family_of(w.order(r.order_id))
    path = f"/v1/refund-requests/{r.refund_id}/payout-account"
    if variant % 3 == 0:
        shop = w.pick(w.shops, variant)
        expect(w.http("POST", path, fam.parent, {"account": shop.general}, key=w.new_key()),
               {422}, {"payout_account_is_institution"})
    account, late = f"{fam.payer}-N{len(fam.named) + 1}", paid_late(w, r.refund_id)
    reply = w.http("POST", path, fam.parent, {"account": account}, key=w.new_key(),
                   faults=faults)
    if w.p.bank.unavailable:  # the bank cannot say what it did with the last attempt
        expect(reply, {409}, {"bank_record_unavailable"})
        return f"{r.refund_id}: the bank is down, its account not changed"
    if late:  # the platform asks the bank first: booked, not paid twice
        expect(reply, {409}, {"refund_not_needing_review"})
        if reply.body["error"]["details"]["status"] != "refunded":
            raise model.Violation(f"{r.refund_id} paid late, then {reply.body}")
        return f"{r.refund_id} was paid late by its first route: booked, no new account"
    expect(reply, {200})
    if reply.body["status"] != "approved":
        raise model.Violation(f"{r.refund_id} after a new account: {reply.body['status']}")
    fam.named.append(account)
    return f"{r.refund_id} to be paid to {account}"


def paid_late(w: World, refund_id: str) -> bool:
    """The bank executed the refund's last attempt after the platform parked it."""
    stored = bootstrap.context().store.refund(refund_id)
    assert stored is not None, refund_id
    record = w.p.bank.executed_instruction(stored.instruction_id)  # the bank's truth, even
    return record is not None and record.succeeded                 # while it answers no one


def place_unplaced(w: World, unmatched: list[UnmatchedPayment]) -> list[str]:
    """What ops do with a payment whose notice named no accounts: read them off the bank's
    record and give them (`infra.cli payments return --payer --received`)."""
    told = {m.bank_txn_id: m for m in w.misrouted}
    done = []
    for u in unmatched:
        m = told.get(u.bank_txn_id)
        if m is None or u.status is not UnmatchedStatus.NEEDS_REVIEW or u.received_account:
            continue
        try:
            unmatched_returns.retry_parked(bootstrap.context(), u.unmatched_id,
                                           payer_account=m.payer, received_account=m.to_account)
        except PlatformError as refused:
            done.append(f"ops placing {u.unmatched_id} refused: {refused.code}")
            continue
        done.append(f"ops placed {u.unmatched_id}: {m.payer} -> {m.to_account}")
    return done
