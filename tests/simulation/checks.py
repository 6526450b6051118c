"""What must hold after every step, and at the end of a run once faults are healed and the
work drained. Read from the tables (test-only Scans) and the sandbox bank, held against the
money model's invariants (chalicelib/domain/escrow/invariants.py) and the reference model."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from chalicelib.domain.escrow import invariants
from chalicelib.domain.escrow.bank import BankInstruction, InstructionStatus, UnmatchedPayment
from chalicelib.domain.escrow.consumption import ConfirmedBy, Consumption
from chalicelib.domain.escrow.order import Order
from chalicelib.domain.institutions.catalog import Course, Institution
from chalicelib.domain.institutions.liquidation import (
    PROGRESS_SHARDS,
    Liquidation,
    OrderLiquidated,
    Progress,
)
from chalicelib.domain.ledger import JournalEntry
from chalicelib.domain.refunds.refund import ApprovedBy, RefundRequest
from tests.simulation import (
    accounts,
    complaints,
    liquidations,
    model,
    payments,
    reconciling,
    refunds,
)
from tests.simulation.model import Violation
from tests.simulation.world import World, instruction_cause
from tests.support.invariants import ledger_balances


@dataclass
class Seen:
    orders: dict[str, Order]
    consumptions: dict[str, Consumption]
    unmatched: list[UnmatchedPayment]
    reviewed: dict[str, str]
    """The status of each institution and course."""
    refunds: dict[str, RefundRequest]
    cases: list[dict[str, Any]]
    """The complaints' items as stored (checked in tests/simulation/complaints.py)."""
    instructions: dict[str, BankInstruction] = field(default_factory=dict)
    liquidations: dict[str, Liquidation] = field(default_factory=dict)
    """By institution."""
    payments_booked: set[str] = field(default_factory=set)
    """The bank transaction ids of payments the journal applied to an order."""
    accounts: set[str] = field(default_factory=set)
    """Every account an institution named as a custodian account, or a release was sent to."""


PROGRESS = frozenset(f"#liquidation#progress#{shard}" for shard in range(PROGRESS_SHARDS))
KINDS = frozenset({"#order", "#consumption", "#unmatched_payment", "#institution", "#course",
                   "#refund", "#liquidation", "#complaint", "#instruction", *PROGRESS})


def observe(w: World) -> Seen:
    platform, journal = w.p.plane.platform_table, w.p.plane.journal_table
    orders: dict[str, Order] = {}
    consumptions: dict[str, Consumption] = {}
    unmatched: list[UnmatchedPayment] = []
    reviewed: dict[str, str] = {}
    refunds: dict[str, RefundRequest] = {}
    records: list[OrderLiquidated] = []
    progress: dict[str, Progress] = {}
    liquidating: dict[str, Liquidation] = {}
    cases: list[dict[str, Any]] = []
    instructions: dict[str, BankInstruction] = {}
    named: set[str] = set()
    for wire in w.read(platform, KINDS):
        sort_key = wire["sk"]["S"]
        if sort_key == "#complaint":
            cases.append(wire)
        elif sort_key == "#instruction":
            instruction = w.decoded(BankInstruction, platform, wire)
            instructions[instruction.instruction_id] = instruction
        elif sort_key in PROGRESS:
            shard = w.decoded(Progress, platform, wire)
            progress[wire["pk"]["S"]] = progress.get(wire["pk"]["S"], Progress()) + shard
        elif sort_key == "#liquidation" and wire["pk"]["S"].startswith("ord_"):
            records.append(w.decoded(OrderLiquidated, platform, wire))
        elif sort_key == "#liquidation":
            liquidating[wire["pk"]["S"]] = w.decoded(Liquidation, platform, wire)
        elif sort_key == "#order":
            order = w.decoded(Order, platform, wire)
            orders[order.order_id] = order
        elif sort_key == "#consumption":
            consumption = w.decoded(Consumption, platform, wire)
            consumptions[consumption.consumption_id] = consumption
        elif sort_key == "#refund":
            refund = w.decoded(RefundRequest, platform, wire)
            refunds[refund.refund_id] = refund
        elif sort_key == "#unmatched_payment":
            unmatched.append(w.decoded(UnmatchedPayment, platform, wire))
        elif sort_key == "#institution":
            institution = w.decoded(Institution, platform, wire)
            reviewed[institution.institution_id] = str(institution.status)
            named.update(institution.custodian.accounts)
            if institution.reviewed_custodian is not None:
                named.update(institution.reviewed_custodian.accounts)
        else:
            reviewed[wire["pk"]["S"]] = str(w.decoded(Course, platform, wire).status)
    entries = [w.decoded(JournalEntry, journal, wire) for wire in w.read(journal, None)]
    journals: dict[str, list[JournalEntry]] = defaultdict(list)
    for entry in entries:
        journals[entry.order_id].append(entry)
    for order in orders.values():
        invariants.check_order(order)
        invariants.check_journal(order, journals.get(order.order_id, []))
        invariants.check_lessons(order, consumptions.values(), refunds.values())
    invariants.check_double_entry(entries)
    for institution_id in liquidating:
        invariants.check_liquidation(institution_id, progress.get(institution_id, Progress()),
                                     records, orders, refunds)
    named.update(i.bank_to_account for i in instructions.values() if i.consumption_id)
    booked = {e.cause for e in entries if e.transfer_id.endswith(":payment")}
    return Seen(orders, consumptions, unmatched, reviewed, refunds, cases,
                instructions=instructions, liquidations=liquidating, payments_booked=booked,
                accounts=named)


def after_step(w: World) -> Seen:
    seen = observe(w)
    liquidations.observed(w, seen)
    complaints.observe(w, seen.cases)
    _reviews(w, seen)
    _refunds(w, seen)
    _orders(w, seen)
    _consumptions(w, seen)
    _bank(w, seen)
    _accounts(w, seen)
    payments.check_recorded(w, seen.unmatched)
    _time_slots(w)
    accounts.check_releases(w, seen)
    liquidations.completed_only_when_empty(w, seen)
    return seen


def _reviews(w: World, seen: Seen) -> None:
    """Exactly the applications and courses that were accepted are stored, each as its
    regulator's last answer left it."""
    told = {i.institution_id: i.status for i in w.institutions}
    told |= {c.course_id: c.status for c in w.courses}
    if set(seen.reviewed) != set(told):
        raise Violation(f"institutions or courses nobody was told of: "
                        f"{sorted(set(seen.reviewed) - set(told))}; told of but missing: "
                        f"{sorted(set(told) - set(seen.reviewed))}")
    for reviewed_id, status in seen.reviewed.items():
        if status != told[reviewed_id]:
            raise Violation(f"{reviewed_id} is {status}; its regulator was told "
                            f"{told[reviewed_id]}")


def _refunds(w: World, seen: Seen) -> None:
    """Exactly the requests that were accepted, each moving only along its legal path, its
    amount never changed; one the tables show decided by silence is decided in the model."""
    if set(seen.refunds) != set(w.refunds):
        raise Violation(f"refund requests nobody was told of: "
                        f"{sorted(set(seen.refunds) - set(w.refunds))}; told of but missing: "
                        f"{sorted(set(w.refunds) - set(seen.refunds))}")
    for r in w.refunds.values():
        stored = seen.refunds[r.refund_id]
        status = str(stored.status)
        model.move("refund", model.REFUND_MOVES, r.refund_id, r.status, status)
        if r.status == "pending_decision" and status != r.status:
            silent_until = r.decide_after  # counted by the model, in its region's days
            if stored.approved_by is ApprovedBy.SILENCE and (
                    silent_until is None or stored.decided_at is None
                    or stored.decided_at < silent_until):
                raise Violation(f"{r.refund_id} approved by silence at {stored.decided_at}, "
                                f"its institution may decide until {silent_until}")
            refunds.decided(w, r, status)
        if (stored.amount_fen, stored.lessons) != (r.amount, r.lessons):
            raise Violation(f"{r.refund_id} is for {stored.lessons} lessons, "
                            f"{stored.amount_fen} fen; the model: {r.lessons}, {r.amount}")
        r.status = status


def _orders(w: World, seen: Seen) -> None:
    known = {o.order_id for o in w.orders}
    if set(seen.orders) != known:
        raise Violation(f"orders nobody was told of: {sorted(set(seen.orders) - known)}; "
                        f"told of but missing: {sorted(known - set(seen.orders))}")
    for o in w.orders:
        stored = seen.orders[o.order_id]
        status = str(stored.status)
        model.move("order", model.ORDER_MOVES, o.order_id, o.status, status)
        if (status == "expired" and o.status != "expired" and w.now < o.expires_at
                and not o.liquidated):
            raise Violation(f"{o.order_id} expired at {w.now}, before {o.expires_at}")
        if status == "paid" and o.paid_at_bank < o.amount:
            raise Violation(f"{o.order_id} paid with {o.paid_at_bank} of {o.amount} at the bank")
        if status == "paid" and o.status != "paid" and w.frozen(w.shop_of(o)):
            raise Violation(f"{o.order_id} took a payment while its institution is frozen")
        o.status, o.paid_at = status, stored.paid_at
        if (stored.lessons_refunded, stored.open_refunds) != (o.refunded, int(bool(o.open_refund))):
            raise Violation(f"{o.order_id} refunded {stored.lessons_refunded} lessons with "
                            f"{stored.open_refunds} requests open; the model: {o.refunded}, "
                            f"{o.open_refund or 'none'}")
        consumed = stored.lessons - stored.lessons_remaining - stored.lessons_refunded
        if consumed != len(o.consumptions) - o.withdrawn:
            raise Violation(f"{o.order_id} consumed {consumed} lessons, "
                            f"{len(o.consumptions)} were recorded, {o.withdrawn} withdrawn")


def _consumptions(w: World, seen: Seen) -> None:
    if set(seen.consumptions) != set(w.consumptions):
        raise Violation("consumptions nobody recorded: "
                        f"{sorted(set(seen.consumptions) - set(w.consumptions))}")
    released: Counter[str] = Counter()
    for c in w.consumptions.values():
        stored = seen.consumptions[c.consumption_id]
        status = str(stored.status)
        model.move("consumption", model.CONSUMPTION_MOVES, c.consumption_id, c.status, status)
        if c.parent_confirmed and status not in model.CONFIRMED:
            raise Violation(f"{c.consumption_id} was confirmed by its parent, is {status}")
        if stored.confirmed_by is ConfirmedBy.AUTO and stored.confirmed_at is not None:
            if stored.confirmed_at < c.silent_until:
                raise Violation(f"{c.consumption_id} auto-confirmed at {stored.confirmed_at}, "
                                f"its parent may object until {c.silent_until}")
            if c.status not in model.CONFIRMED and w.institution_of(
                    w.shop_of(w.order(c.order_id))).frozen_at(stored.confirmed_at):
                raise Violation(f"{c.consumption_id} confirmed by silence at "
                                f"{stored.confirmed_at}, while its institution was frozen")
        if stored.amount_fen != c.amount:
            raise Violation(f"{c.consumption_id} amount changed to {stored.amount_fen}")
        if stored.escalated_at is not None and not c.escalated:
            if c.escalate_after is None or stored.escalated_at < c.escalate_after:
                raise Violation(f"{c.consumption_id} escalated at {stored.escalated_at}, its "
                                f"institution may answer until {c.escalate_after}")
            c.escalated = True
        order = w.order(c.order_id)
        if (status == "releasing" and c.status != status and w.frozen(w.shop_of(order))
                and not order.liquidated):
            raise Violation(f"{c.consumption_id}'s release reserved while its institution is "
                            "frozen")
        if status == "released":
            released[c.order_id] += c.amount
        c.status = status
    for order_id, order in seen.orders.items():
        if order.released_fen != released[order_id]:
            raise Violation(f"{order_id} released {order.released_fen} fen, its released "
                            f"lessons are worth {released[order_id]}")


def _bank(w: World, seen: Seen) -> None:
    """The bank never paid a lesson twice, the ledger never books money the bank has not
    moved, and money the bank moved that the ledger has not booked yet is in flight."""
    successes: dict[str, list[int]] = defaultdict(list)
    to_account: Counter[str] = Counter()
    for outcome in w.p.bank.outcomes():
        if outcome.succeeded:
            successes[instruction_cause(outcome.instruction.instruction_id)].append(outcome.instruction.amount_fen)
            to_account[outcome.instruction.to_account] += outcome.instruction.amount_fen
    returns = {u.unmatched_id: u for u in seen.unmatched}
    for paid_for, amounts in successes.items():
        if len(amounts) > 1:
            raise Violation(f"the bank paid {paid_for} {len(amounts)} times")
        if paid_for in returns:
            payment = returns[paid_for]
            if payment.status not in ("returning", "returned") or amounts != [payment.amount_fen]:
                raise Violation(f"the bank returned {amounts} of {paid_for}, the ledger has "
                                f"{payment.amount_fen} {payment.status}")
            continue
        if paid_for in w.refunds:  # parked, then executed late: booked by callback or ops
            status = w.refunds[paid_for].status
            if status not in ("refunding", "refunded", "needs_review"):
                raise Violation(f"the bank paid {paid_for} back, the ledger has it {status}")
            continue
        status = w.consumptions[paid_for].status
        if status not in ("releasing", "released", "needs_review"):
            raise Violation(f"the bank paid {paid_for}, the ledger has it {status}")
    for payment in seen.unmatched:
        if payment.status == "returned" and payment.unmatched_id not in successes:
            raise Violation(f"{payment.unmatched_id} returned, the bank never paid it back")
    for r in w.refunds.values():
        if r.status == "refunded" and r.refund_id not in successes:
            raise Violation(f"{r.refund_id} refunded, the bank never paid it")
    for fam in w.families:
        sent = sum(o.paid_at_bank for o in w.orders if w.family_of(o) is fam)
        sent += sum(m.amount for m in w.misrouted if m.payer == fam.payer)
        held = sum(w.p.bank.balance(account) for account in fam.accounts)
        if held != sum(to_account[account] for account in fam.accounts) - sent:
            raise Violation(f"{fam.accounts} hold money no refund or return sent")
    for c in w.consumptions.values():
        if c.status == "released" and c.consumption_id not in successes:
            raise Violation(f"{c.consumption_id} released, the bank never paid it")
    paid_in = _payments_booked(w, seen)
    for account, sent in _payments_sent(w).items():
        if paid_in[account] > sent:
            raise Violation(f"{account}: ledger booked {paid_in[account]}, families sent {sent}")


def _payments_sent(w: World) -> Counter[str]:
    """Money sent into each account by the sim's families and institutions."""
    sent: Counter[str] = Counter()
    for o in w.orders:
        sent[o.account] += o.paid_at_bank
    for m in w.misrouted:
        sent[m.to_account] += m.amount
    return sent


def _payments_booked(w: World, seen: Seen) -> Counter[str]:
    """Money the platform booked as paid into each account: orders paid, and payments that
    matched none, where the bank said they arrived."""
    account_of = {o.order_id: o.account for o in w.orders}
    booked: Counter[str] = Counter()
    for order in seen.orders.values():
        booked[account_of[order.order_id]] += order.paid_fen
    for payment in seen.unmatched:
        booked[payment.received_account] += payment.amount_fen
    return booked


def _accounts(w: World, seen: Seen) -> None:
    """Every supervised and general account's balance at the bank equals the ledger's
    balance of that account (tests/support/invariants.py `ledger_balances`), less what is
    in flight: instructions the bank executed whose outcome the platform has not booked,
    payments it has not been told of (or was told of without their accounts, until ops
    place them). Money booked where it is not is caught the step it happens."""
    ledger = ledger_balances(list(seen.orders.values()), seen.unmatched,
                             list(seen.instructions.values()))
    flight: Counter[str] = Counter()
    booked = {i.instruction_id for i in seen.instructions.values()
              if i.status is InstructionStatus.SUCCEEDED}
    for outcome in w.p.bank.outcomes():
        moved = outcome.instruction
        if outcome.succeeded and moved.instruction_id not in booked:
            flight[moved.from_account] -= moved.amount_fen
            flight[moved.to_account] += moved.amount_fen
    placed = {u.bank_txn_id for u in seen.unmatched if u.received_account and u.payer_account}
    for paid in w.p.bank.payments():
        if paid.bank_txn_id not in placed | seen.payments_booked:
            flight[paid.payer_account] -= paid.amount_fen
            flight[paid.to_account] += paid.amount_fen
    for account in sorted(seen.accounts):
        at_bank = (w.p.bank.balance(account) - flight[account]
                   - w.p.bank.unannounced(account))
        if at_bank != ledger[account]:
            raise Violation(f"{account}: the bank holds {at_bank} (less {flight[account]} "
                            f"in flight), the ledger {ledger[account]}")


def _time_slots(w: World) -> None:
    """No student in two lessons at once, nor any teacher; no student taking more of a
    course's lessons in a week than its timetable and make-up lessons allow."""
    for kind, lessons in (("student", w.lessons), ("teacher", list(w.teaching.values()))):
        by_person: dict[str, list[tuple]] = defaultdict(list)
        for person, started, ended in lessons:
            for other in by_person[person]:
                if model.overlaps(other, (started, ended)):
                    raise Violation(f"{kind} {person} was recorded for two overlapping "
                                    f"lessons: {other} and {(started, ended)}")
            by_person[person].append((started, ended))
    most = {shop.course_id: shop.lessons_per_week for shop in w.shops}
    for (student, course, week), lessons in w.weekly.items():
        if lessons > most[course]:
            raise Violation(f"{student} took {lessons} lessons of {course} in {week}, at most "
                            f"{most[course]} a week")


def at_the_end(w: World) -> None:
    """Once healed and drained: every lesson released exactly once, every deadline acted
    on, and the bank and the ledger agree to the fen."""
    seen = after_step(w)
    complaints.at_the_end(w)
    stuck = {c.consumption_id: c.status for c in w.consumptions.values()
             if c.status not in ("released", "withdrawn")}
    if stuck:
        raise Violation(f"lessons never released: {stuck}")
    kept = {u.unmatched_id: u.status for u in seen.unmatched if u.status != "returned"}
    if kept:
        raise Violation(f"payments that matched no order never returned: {kept}")
    unpaid = {r.refund_id: r.status for r in w.refunds.values()
              if r.status not in ("rejected", "refunded")}
    if unpaid:
        raise Violation(f"refunds never paid back: {unpaid}")
    for order in seen.orders.values():
        refunded = sum(r.amount for r in w.refunds.values()
                       if r.order_id == order.order_id and r.status == "refunded")
        if order.refunded_fen != refunded:
            raise Violation(f"{order.order_id} refunded {order.refunded_fen} fen, its refunds "
                            f"paid {refunded}")
        if order.status == "completed" and (
                order.released_fen + order.refunded_fen != order.paid_fen):
            raise Violation(f"{order.order_id} completed with {order.released_fen} released "
                            f"+ {order.refunded_fen} refunded of {order.paid_fen} paid")
    for o in w.orders:
        if o.status == "pending_payment":
            raise Violation(f"{o.order_id} still pending payment at {w.now}")
    booked = _payments_booked(w, seen)
    for account, sent in _payments_sent(w).items():
        if booked[account] != sent:
            raise Violation(f"{account}: families sent {sent}, the ledger booked "
                            f"{booked[account]}")
    released = accounts.released_to(seen.instructions)  # each where its instruction said
    if sum(released.values()) != sum(o.released_fen for o in seen.orders.values()):
        raise Violation(f"releases posted {sum(o.released_fen for o in seen.orders.values())}"
                        f" fen, their instructions paid {sum(released.values())}")
    for general in accounts.general_accounts(w) | set(released):
        at_bank = w.p.bank.balance(general) - w.p.bank.unannounced(general)
        if at_bank != released[general]:
            raise Violation(f"{general}: bank {at_bank} (less unannounced), "
                            f"ledger released {released[general]}")
    if w.p.bank.notifications():
        raise Violation(f"{len(w.p.bank.notifications())} bank callbacks never acknowledged")
    liquidations.at_the_end(w)
    reconciling.at_the_end(w)
