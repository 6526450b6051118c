"""Global invariant checks for tests: read whole tables (test-only Scans) and assert the money
model's invariants (chalicelib/domain/escrow/invariants.py) plus agreement with the sandbox bank."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from chalicelib.adapters.dynamo.codec import decode, from_attribute_values
from chalicelib.adapters.dynamo.keys import PROGRESS_PREFIX
from chalicelib.domain.escrow import invariants
from chalicelib.domain.escrow.bank import BankInstruction, InstructionStatus, UnmatchedPayment
from chalicelib.domain.escrow.consumption import Consumption
from chalicelib.domain.escrow.order import Order
from chalicelib.domain.institutions.catalog import Institution
from chalicelib.domain.institutions.liquidation import OrderLiquidated, Progress
from chalicelib.domain.ledger import JournalEntry
from chalicelib.domain.refunds.refund import RefundRequest
from infra.resources import DataPlane
from sandbox.bank import SandboxBank


def scan(dynamodb: Any, table: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    request: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    while True:
        response = dynamodb.scan(**request)
        items += [from_attribute_values(i) for i in response["Items"]]
        if "LastEvaluatedKey" not in response:
            return items
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def check_all(dynamodb: Any, plane: DataPlane, bank: SandboxBank | None) -> None:
    platform_items = scan(dynamodb, plane.platform_table)
    orders = [decode(Order, i) for i in platform_items if i["sk"] == "#order"]
    institutions = {
        i["pk"]: decode(Institution, i) for i in platform_items if i["sk"] == "#institution"
    }
    unmatched = [
        decode(UnmatchedPayment, i) for i in platform_items if i["sk"] == "#unmatched_payment"
    ]
    consumptions = [decode(Consumption, i) for i in platform_items if i["sk"] == "#consumption"]
    refunds = [decode(RefundRequest, i) for i in platform_items if i["sk"] == "#refund"]
    instructions = [decode(BankInstruction, i) for i in platform_items
                    if i["sk"] == "#instruction"]
    entries = [decode(JournalEntry, i) for i in scan(dynamodb, plane.journal_table)]
    by_order: dict[str, list[JournalEntry]] = defaultdict(list)
    for entry in entries:
        by_order[entry.order_id].append(entry)
    assert set(by_order) <= {o.order_id for o in orders}, "journal entries without an order"
    for order in orders:
        invariants.check_order(order)
        invariants.check_journal(order, by_order.get(order.order_id, []))
        invariants.check_lessons(order, consumptions, refunds)
    invariants.check_double_entry(entries)
    _check_liquidations(platform_items, orders, refunds)
    instructions = [decode(BankInstruction, i) for i in platform_items
                    if i["sk"] == "#instruction"]
    if bank is not None:
        _check_bank(bank, institutions, orders, unmatched, instructions)


def _check_liquidations(items: list[dict[str, Any]], orders: list[Order],
                        refunds: list[RefundRequest]) -> None:
    records = [decode(OrderLiquidated, i) for i in items
               if i["sk"] == "#liquidation" and i["pk"].startswith("ord_")]
    progress: dict[str, Progress] = defaultdict(Progress)
    for item in items:
        if item["sk"].startswith(PROGRESS_PREFIX):
            progress[item["pk"]] += decode(Progress, item)
    liquidated = {i["pk"] for i in items if i["sk"] == "#liquidation"
                  and i["pk"].startswith("ins_")}
    assert {r.institution_id for r in records} <= liquidated, "orders liquidated by no one"
    for institution_id in liquidated:
        invariants.check_liquidation(institution_id, progress[institution_id], records,
                                     {o.order_id: o for o in orders},
                                     {r.refund_id: r for r in refunds})


def _check_bank(
    bank: SandboxBank,
    institutions: dict[str, Institution],
    orders: list[Order],
    unmatched: list[UnmatchedPayment],
    instructions: list[BankInstruction],
) -> None:
    """What the bank holds (less what it has not told the platform yet) equals the ledger,
    account by account, for every account an institution registered: an order's money
    stays in the accounts it was paid into, even after its institution registers new ones,
    and money booked where it is not shows at once; each release is in the general account
    its instruction named (the one approved when it was made)."""
    booked = ledger_balances(orders, unmatched, instructions)
    accounts = {a for i in institutions.values() for a in i.custodian.accounts}
    accounts |= {o.supervised_bank_account for o in orders}
    accounts |= {o.general_bank_account for o in orders}
    accounts |= {i.bank_to_account for i in instructions if i.consumption_id}
    for account in sorted(accounts):
        known = bank.balance(account) - bank.in_flight(account) - bank.unannounced(account)
        assert known == booked[account], (
            f"{account}: bank {known} (less in flight and unannounced) != ledger "
            f"{booked[account]}")
    for supervised in {o.supervised_bank_account for o in orders}:
        mine = [o for o in orders if o.supervised_bank_account == supervised]
        awaiting_return = sum(u.amount_fen for u in unmatched
                              if u.awaiting_return and u.received_account == supervised)
        held = sum(o.held_fen + o.releasing_fen + o.refunding_fen for o in mine)
        assert booked[supervised] == held + awaiting_return, (
            f"{supervised}: its orders hold {held} + unmatched {awaiting_return}, its "
            f"movements come to {booked[supervised]}")
    released = sum(i.amount_fen for i in instructions
                   if i.consumption_id and i.status is InstructionStatus.SUCCEEDED)
    assert released == sum(o.released_fen for o in orders), (
        "releases posted that no succeeded instruction paid")


def ledger_balances(orders: list[Order], unmatched: list[UnmatchedPayment],
                    instructions: list[BankInstruction]) -> Counter[str]:
    """Each bank account's balance as the platform booked it: payments applied to orders
    (out of the payer's account, into the order's supervised account), unmatched payments
    likewise, and every instruction the bank confirmed."""
    booked: Counter[str] = Counter()
    for order in orders:
        booked[order.supervised_bank_account] += order.paid_fen
        booked[order.payer_bank_account] -= order.paid_fen
    for payment in unmatched:
        booked[payment.received_account] += payment.amount_fen
        booked[payment.payer_account] -= payment.amount_fen
    for instruction in instructions:
        if instruction.status is InstructionStatus.SUCCEEDED:
            booked[instruction.bank_from_account] -= instruction.amount_fen
            booked[instruction.bank_to_account] += instruction.amount_fen
    return booked
