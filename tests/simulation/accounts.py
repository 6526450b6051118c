"""Custodian accounts that change (issue 22, point 3), over HTTP, while releases are in
flight. An institution proposes a new general account: it goes back to review, and its
department approves it at once, or leaves it to a later decision (approved, or rejected:
then it never sells again). Or it proposes a new supervised account: refused while the old
one holds anything (an order awaiting payment or holding money, a payment awaiting its
return), the model saying which; accepted and approved at once otherwise.

The model keeps each institution's approved general accounts with the instant each was
approved, and the checks hold every release instruction to the one approved when it was
made (never a proposal, never one replaced), and at the end every general account's balance
at the bank to the releases its instructions named."""

from __future__ import annotations

import bisect
from collections import Counter
from datetime import datetime
from typing import TYPE_CHECKING

from chalicelib.domain.escrow.bank import BankInstruction, InstructionStatus, UnmatchedPayment
from tests.simulation import model
from tests.simulation.faults import Fault
from tests.simulation.model import Violation
from tests.simulation.people import expect
from tests.simulation.world import World
from tests.support import flows

if TYPE_CHECKING:
    from tests.simulation.checks import Seen

BANK = "示例银行广州分行"  # tests/support/flows.application's custodian bank
UNMATCHED = frozenset({"#unmatched_payment"})
CHECKED = "账户变更核实"
"""The reason its department gives approving an account change."""


def change(w: World, n: int, variant: int, faults: tuple[Fault, ...] = ()) -> str:
    """A selling institution proposes new custodian accounts: a general account (one in
    four left in review for a later decision) or, one time in four, a supervised one."""
    institution = w.pick([i for i in w.institutions if i.status == "whitelisted"
                          and not i.frozen and not i.liquidating], n)
    if institution is None:
        return "no institution to change its accounts"
    moves_escrow = variant % 4 == 0
    custodian = {"bank": BANK, "supervised_account": institution.supervised,
                 "general_account": institution.general}
    custodian["supervised_account" if moves_escrow else "general_account"] = (
        f"{'SUP' if moves_escrow else 'GEN'}-MOVED-{len(w.log):05d}")
    held = holding(w, institution) if moves_escrow else ""
    reply = w.http("POST", f"/v1/institutions/{institution.institution_id}/profile",
                   institution.staff, {"custodian": custodian}, key=w.new_key(), faults=faults)
    if held:
        expect(reply, {409}, {"supervised_account_holds_money"})
        return f"{institution.institution_id}: a new supervised account refused ({held})"
    expect(reply, {200})
    if reply.body["status"] != "pending_review":
        raise Violation(f"{institution.institution_id} changed its accounts and is "
                        f"{reply.body['status']}")
    institution.status = "pending_review"
    institution.proposed_general = custodian["general_account"]
    institution.proposed_supervised = custodian["supervised_account"]
    if variant % 4 == 3:
        return f"{institution.institution_id}: {institution.proposed_general} in review"
    path = f"/v1/regulator/institutions/{institution.institution_id}/approve"
    approved = expect(w.http("POST", path, flows.competent(w.p), {"reason": CHECKED},
                             key=w.new_key()), {200})
    if approved.body["status"] != "whitelisted":
        raise Violation(f"{institution.institution_id} approved is {approved.body['status']}")
    institution.status, institution.decided = "whitelisted", ("whitelisted", CHECKED)
    decided(w, institution)
    return (f"{institution.institution_id}: now {institution.supervised} / "
            f"{institution.general}")


def holding(w: World, institution: model.Institution) -> str:
    """What the model says its supervised accounts hold ("" nothing): an order awaiting
    payment, a paid one (it holds money until it completes), a payment that matched no
    order, received there and not yet returned."""
    theirs = [o for o in w.orders if w.shop_of(o).institution_id == institution.institution_id]
    orders = [o.order_id for o in theirs if o.status in ("pending_payment", "paid")]
    accounts = {o.account for o in theirs} | {institution.supervised}
    returns = [u.unmatched_id for u in unmatched(w)
               if u.received_account in accounts and u.awaiting_return]
    return ", ".join(f"{len(ids)} {what}" for what, ids in (
        ("orders", orders), ("payments awaiting return", returns)) if ids)


def unmatched(w: World) -> list[UnmatchedPayment]:
    table = w.p.plane.platform_table
    return [w.decoded(UnmatchedPayment, table, wire) for wire in w.read(table, UNMATCHED)]


def decided(w: World, institution: model.Institution) -> None:
    """Its department's last answer: whitelisted, its proposed accounts (or, the first
    time, those it applied with) are approved from now on; rejected, the proposal is
    dropped (releases stay with the accounts approved before)."""
    if institution.status == "whitelisted" and (institution.proposed_general
                                                or not institution.generals):
        institution.general = institution.proposed_general or institution.general
        institution.supervised = institution.proposed_supervised or institution.supervised
        institution.generals.append((w.now, institution.general))
        for shop in w.shops:
            if shop.institution_id == institution.institution_id:
                shop.general, shop.supervised = institution.general, institution.supervised
    if institution.status != "pending_review":
        institution.proposed_general = institution.proposed_supervised = ""


def general_accounts(w: World) -> set[str]:
    """Every general account an institution of the run has named (approved or proposed)."""
    return {account for i in w.institutions
            for account in (i.general, i.proposed_general, *(a for _, a in i.generals))
            if account}


def check_releases(w: World, seen: Seen) -> None:
    """Every release instruction names the general account its institution's department
    had approved when it was made (at the very instant of an approval, either)."""
    by_id = {i.institution_id: i for i in w.institutions}
    for instruction in seen.instructions.values():
        if not instruction.consumption_id:
            continue
        allowed = approved_at(by_id[instruction.institution_id].generals, instruction)
        if instruction.bank_to_account not in allowed:
            raise Violation(f"{instruction.instruction_id} pays {instruction.bank_to_account}; "
                            f"its institution's approved general account then: {allowed}")


def approved_at(approved: list[tuple[datetime, str]], instruction: BankInstruction
                ) -> set[str]:
    """The general account approved last when `instruction` was made (and those approved
    before it at that very instant: within one instant the order is not known)."""
    at = bisect.bisect_right([t for t, _ in approved], instruction.created_at)
    allowed = {approved[at - 1][1]} if at else set()
    while at > 1 and approved[at - 1][0] == instruction.created_at:
        at -= 1
        allowed.add(approved[at - 1][1])
    return allowed


def released_to(instructions: dict[str, BankInstruction]) -> Counter[str]:
    """What the ledger released into each bank account, by the instructions it posted."""
    paid: Counter[str] = Counter()
    for instruction in instructions.values():
        if instruction.consumption_id and instruction.status is InstructionStatus.SUCCEEDED:
            paid[instruction.bank_to_account] += instruction.amount_fen
    return paid
