"""A regulator liquidates an institution over HTTP; the schedule lists its orders and the
liquidation queue's worker liquidates them (system.deliver_liquidation, with the queue's
duplicates, losses and crashes). What a liquidation does on its own (lessons returned,
requests approved, its own refunds, unpaid orders expired, orders marked done) is folded
into the model by `observed` before the checks, each only where the model says a
liquidation was ordered, and priced by the model, not read from the platform. At the end
every liquidation is completed: each of its orders done, every fen of it paid back."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from chalicelib import bootstrap
from chalicelib.domain.escrow.consumption import ConfirmedBy, ConsumptionStatus
from chalicelib.domain.institutions.liquidation import LiquidationStatus
from chalicelib.domain.refunds.refund import ApprovedBy
from chalicelib.service.institutions import freezes, liquidations
from chalicelib.service.jobs import sweeps
from chalicelib.service.ports import WriteRejected
from tests.simulation import model, refunds
from tests.simulation.faults import Crash, Fault
from tests.simulation.model import Violation
from tests.simulation.people import expect
from tests.simulation.world import World
from tests.support import flows

if TYPE_CHECKING:
    from tests.simulation.checks import Seen

STILL_SELLING = 2
"""A run keeps at least this many institutions selling: it liquidates no more."""
AWAITING = ("pending_decision", "escalated")


def liquidate(w: World, n: int, faults: tuple[Fault, ...] = ()) -> str:
    """Liquidate a whitelisted institution (or one already liquidating: the same answer)."""
    institution = w.pick([i for i in w.institutions if i.status == "whitelisted"], n)
    if institution is None:
        return "no institution to liquidate"
    selling = {s.institution_id for s in w.shops if w.purchase_refusal(s) is None}
    if not institution.liquidating and len(selling - {institution.institution_id}) < (
            STILL_SELLING):
        return "no liquidation: the last institutions selling are kept"
    path = f"/v1/regulator/institutions/{institution.institution_id}/liquidate"
    reply = expect(w.http("POST", path, flows.regulator(w.p), {"reason": "机构停业"},
                          key=w.new_key(), faults=faults), {200})
    started = reply.body["started_at"]
    if institution.liquidating and started != institution.liquidation_started:
        raise Violation(f"{institution.institution_id} liquidated again from {started}, "
                        f"first from {institution.liquidation_started}")
    if not institution.frozen:  # frozen by the liquidating office (its own freeze stays)
        institution.froze(w.now, model.offices(institution.region)[4], blacklisting=False)
    institution.liquidating = True
    institution.liquidation_started = started
    with w.faults.armed():  # the freeze marker's fan-out, as the sweep queue runs it
        sweeps.run_all(bootstrap.context(), freezes.JOB)
    return f"liquidating {institution.institution_id}: {reply.body['status']}"


def run_job(w: World, faults: tuple[Fault, ...] = ()) -> str:
    """The liquidations' due step, as the settlement sweeper's `liquidate` tasks run it:
    listing the orders onto the liquidation queue, or looking at the progress."""
    try:
        with w.faults.armed(faults):
            report = sweeps.run_all(bootstrap.context(), liquidations.JOB)
    except Crash:
        return "the liquidate job crashed"
    except (ClientError, WriteRejected) as failed:
        if not faults:
            raise
        return f"the liquidate job failed: {type(failed).__name__}"
    return f"the liquidate job handled {report.handled}, {report.failed} failed"


def observed(w: World, seen: Seen) -> None:
    """Fold into the model what liquidations did since the last step, in the order a
    liquidation does it to an order: its pending lessons returned, the request awaiting a
    decision approved, or else its own refund of what remains; the order marked done."""
    for c in w.consumptions.values():
        stored = seen.consumptions[c.consumption_id]
        if stored.confirmed_by is ConfirmedBy.LIQUIDATION:
            raise Violation(f"{c.consumption_id} confirmed by a liquidation under the return "
                            "policy")
        if (c.status != "withdrawn" and stored.status is ConsumptionStatus.WITHDRAWN
                and stored.withdrawn_by == "liquidation"):
            o = _of_a_liquidation(w, c.order_id, f"{c.consumption_id} returned")
            c.status, o.withdrawn = "withdrawn", o.withdrawn + 1
            if o.open_refund:
                w.refunds[o.open_refund].returned += c.amount
                w.refunds[o.open_refund].returned_lessons += 1
    for r in w.refunds.values():
        stored_refund = seen.refunds[r.refund_id]
        if r.status in AWAITING and stored_refund.approved_by is ApprovedBy.LIQUIDATION:
            _of_a_liquidation(w, r.order_id, f"{r.refund_id} approved")
            refunds.decided(w, r, str(stored_refund.status))
            r.status = str(stored_refund.status)
    for refund_id, stored_refund in seen.refunds.items():
        if refund_id not in w.refunds and stored_refund.approved_by is ApprovedBy.LIQUIDATION:
            o = _of_a_liquidation(w, stored_refund.order_id, f"refund {refund_id}")
            w.refunds[refund_id] = model.Refund(refund_id, o.order_id, o.remaining,
                                                worth(w, o), str(stored_refund.status))
            o.refunded += o.remaining
    for o in w.orders:
        if seen.orders[o.order_id].liquidated_at is not None and not o.liquidated:
            _of_a_liquidation(w, o.order_id, "marked done")
            o.liquidated = True


def worth(w: World, o: model.Order) -> int:
    """What the order's remaining lessons are worth: what it cost, less its live lessons
    and what refunds already took."""
    taken = sum(r.amount for r in w.refunds.values()
                if r.order_id == o.order_id and r.status in model.APPROVED)
    return o.amount - taken - sum(w.consumptions[c].amount for c in o.consumptions
                                  if w.consumptions[c].status != "withdrawn")


def _of_a_liquidation(w: World, order_id: str, what: str) -> model.Order:
    o = w.order(order_id)
    if not w.liquidating(w.shop_of(o).institution_id):
        raise Violation(f"{order_id}: {what} by a liquidation nobody ordered")
    return o


def settled(w: World) -> bool:
    """Every liquidation ordered is completed."""
    store = bootstrap.context().store
    for institution in (i for i in w.institutions if i.liquidating):
        found = store.liquidation(institution.institution_id)
        if found is None or found.status != "completed":
            return False
    return True


def at_the_end(w: World) -> None:
    """Every liquidation completed, as its regulator reads it: each of its orders done and
    every fen it set out to refund paid back."""
    for institution in (i for i in w.institutions if i.liquidating):
        path = f"/v1/regulator/institutions/{institution.institution_id}/liquidation"
        progress = expect(w.http("GET", path, flows.regulator(w.p)), {200}).body
        theirs = [o for o in w.orders if w.shop_of(o).institution_id == institution.institution_id]
        undone = [o.order_id for o in theirs if not o.liquidated]
        counted = (progress["orders_done"], progress["orders_total"])
        if (progress["status"] != "completed" or undone or counted != (len(theirs),) * 2
                or progress["fen_refunded"] != progress["fen_to_refund"]):
            raise Violation(f"{institution.institution_id}'s liquidation never finished: "
                            f"{progress}; orders not done: {undone}")


def completed_only_when_empty(w: World, seen: Seen) -> None:
    """A liquidation is completed only once its institution's escrow is empty: no order of
    it holding money (held + releasing + refunding) and nothing its supervised accounts
    received for no order still to go back (but money that arrived after it completed);
    one held up names what holds it."""
    for institution_id, liquidation in seen.liquidations.items():
        if liquidation.status is LiquidationStatus.ESCROW_HELD and (
                liquidation.outstanding is None or liquidation.outstanding.empty):
            raise Violation(f"{institution_id}'s liquidation is held up by nothing")
        if liquidation.status is not LiquidationStatus.COMPLETED:
            continue
        completed_at = liquidation.completed_at
        assert completed_at is not None
        theirs = [o for o in seen.orders.values() if o.institution_id == institution_id]
        holding = {o.order_id: o.held_fen + o.releasing_fen + o.refunding_fen for o in theirs
                   if o.held_fen + o.releasing_fen + o.refunding_fen}
        escrow = {o.supervised_bank_account for o in theirs} | {
            i.supervised for i in w.institutions if i.institution_id == institution_id}
        waiting = [u.unmatched_id for u in seen.unmatched
                   if u.received_account in escrow and u.awaiting_return
                   and u.received_at <= completed_at]
        if holding or waiting:
            raise Violation(f"{institution_id}'s liquidation completed while its escrow holds "
                            f"{holding} and payments awaiting return {waiting}")
