"""Known bugs, planted only here, to show the simulator finds what it is meant to find.
Each is a context manager that swaps one piece of the platform for a broken one while it is
open; nothing in chalicelib knows of them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace
from datetime import datetime
from typing import Any
from unittest import mock

from chalicelib import bootstrap
from chalicelib.adapters.dynamo.codec import to_attribute_values
from chalicelib.adapters.dynamo.expressions import UpdateExpression
from chalicelib.adapters.dynamo.idempotency import DynamoIdempotencyStore
from chalicelib.adapters.dynamo.transaction import Transaction
from chalicelib.adapters.dynamo.unit import AtomicWrite
from chalicelib.domain.complaints import case_transfer
from chalicelib.domain.complaints.complaint import Action, Complaint, advance
from chalicelib.domain.escrow.consumption import ConfirmedBy, Consumption, ConsumptionStatus
from chalicelib.service import local_policy
from chalicelib.service.complaints import case_log, complaint_clock
from chalicelib.service.escrow import consumptions, payments_received, settlement, silence
from chalicelib.service.institutions import bank_accounts
from chalicelib.service.jobs import sweeps
from chalicelib.service.request_keys import Reservation


@contextmanager
def counters_unchecked() -> Iterator[None]:
    """An order's counters move without their conditions: no decrement is checked to stay
    non-negative and no expected value (lessons remaining) is required."""
    original = AtomicWrite.move_order

    def move_order(self: AtomicWrite, order: Any, movement: Any, **kw: Any) -> AtomicWrite:
        kw.pop("expect", None)
        return original(self, order, movement, **kw)

    with mock.patch.object(UpdateExpression, "require_at_least", lambda self, *a: self), \
            mock.patch.object(AtomicWrite, "move_order", move_order):
        yield


@contextmanager
def journal_unconditioned() -> Iterator[None]:
    """A journal entry is written without `attribute_not_exists` and without the order's
    chain head as its condition."""
    original_put, original_require = Transaction.put_new, UpdateExpression.require_equal

    def put_new(self: Transaction, table: str, item: dict[str, Any], label: str) -> Transaction:
        if label != "journal":
            return original_put(self, table, item, label)
        self._add({"Put": {"TableName": table, "Item": to_attribute_values(item)}}, label)
        return self

    def require_equal(self: UpdateExpression, name: str, value: Any) -> UpdateExpression:
        return self if name == "journal_seq" else original_require(self, name, value)

    with mock.patch.object(Transaction, "put_new", put_new), \
            mock.patch.object(UpdateExpression, "require_equal", require_equal):
        yield


@contextmanager
def sweeper_ignores_releasing() -> Iterator[None]:
    """The settlement sweep re-drives confirmed consumptions only, never one stuck in
    `releasing` (its bank callback lost, its instruction never answered)."""
    with mock.patch.object(settlement, "SETTLING", frozenset({ConsumptionStatus.CONFIRMED})):
        yield


@contextmanager
def idempotency_completed_unconditionally() -> Iterator[None]:
    """A request completes its Idempotency-Key's record whoever holds it now: a run that
    outlived its lease overwrites the answer of the retry that took the key over."""

    def complete(self: DynamoIdempotencyStore, held: Reservation, status: int, body: Any,
                 now: datetime) -> None:
        self.tables.client.update_item(
            TableName=self.tables.platform, Key=self._key(held),
            UpdateExpression="SET response_status = :status, response_body = :body",
            ExpressionAttributeValues={":status": {"N": str(status)},
                                       ":body": {"S": json.dumps(body, ensure_ascii=False)}})

    with mock.patch.object(DynamoIdempotencyStore, "complete", complete):
        yield


@contextmanager
def escalation_stops_at_the_county() -> Iterator[None]:
    """A department's case that runs out of time is flagged and taken off the schedule as
    if nobody were above its holder: it never reaches the city or the province."""

    def escalate(ctx: Any, before: Complaint) -> None:
        after = advance(before, flagged=True, overdue_at_top=True)
        case_log.commit(ctx, before, after, Action.OVERDUE_AT_TOP, "platform", "超期")

    with mock.patch.object(complaint_clock, "_escalate", escalate):
        yield


@contextmanager
def payment_believes_its_reference() -> Iterator[None]:
    """A payment pays the order its reference names wherever the money went and whoever
    paid it (the hole issue 22 closed): the accounts the bank names are not checked."""
    original = payments_received._unpayable

    def unpayable(ctx: Any, order: Any, arrived: Any) -> Any:
        if order is not None:
            arrived = replace(arrived, payee_account=order.supervised_bank_account,
                              payer_account=arrived.payer_account or "PAYER-UNKNOWN")
        with mock.patch.object(bank_accounts, "is_institutions", lambda *a: False):
            return original(ctx, order, arrived)

    with mock.patch.object(payments_received, "_unpayable", unpayable):
        yield


@contextmanager
def teachers_unclaimed() -> Iterator[None]:
    """The write that stores a lesson does not claim its teacher's time: one teacher can be
    recorded in two lessons at once (a class split in two)."""
    with mock.patch.object(AtomicWrite, "occupy_teacher_slots",
                           lambda self, *a, **kw: self):
        yield


@contextmanager
def silence_ignores_freezes() -> Iterator[None]:
    """Silence confirms a lesson once its window is over, whether or not its institution is
    frozen (or was frozen since the window started)."""

    def confirms(self: Consumption, order: Any, now: datetime) -> bool:
        return (self.status is ConsumptionStatus.PENDING_CONFIRMATION
                and now >= self.confirm_deadline)

    def confirm_due(ctx: Any, consumption_id: str) -> bool:
        found = ctx.store.consumption(consumption_id)
        if found is None or not confirms(found, None, ctx.now()):
            return False
        confirmed = consumptions.confirm_now(ctx, consumption_id, ConfirmedBy.AUTO)
        return confirmed.confirmed_by is ConfirmedBy.AUTO

    with mock.patch.object(Consumption, "silence_confirms", confirms), \
            mock.patch.object(Consumption, "silence_expects", lambda self: {}), \
            mock.patch.object(silence, "confirm_due", confirm_due):
        yield


@contextmanager
def transfer_resets_the_clock() -> Iterator[None]:
    """A transfer starts a new department clock at the receiving office (issue 9's rule):
    an office passing a case back and forth buys it the full working days each time."""

    def transferred_clock(before: Complaint, floor: Any) -> dict[str, object]:
        ctx = bootstrap.context()
        return case_log.clocked(case_log.clock(
            ctx, local_policy.of_case(ctx, before).complaint_department_working_days))

    with mock.patch.object(case_transfer, "transferred_clock", transferred_clock):
        yield


@contextmanager
def timed_work_trusts_its_message() -> Iterator[None]:
    """A sweep pages up to the instant its message names, and silence confirms whatever the
    sweep hands it (the platform before issue 22)."""

    def confirms(self: Consumption, order: Any, now: datetime) -> bool:
        return self.status is ConsumptionStatus.PENDING_CONFIRMATION and not order.frozen

    def confirm_due(ctx: Any, consumption_id: str) -> bool:
        confirmed = consumptions.confirm_now(ctx, consumption_id, ConfirmedBy.AUTO)
        return confirmed.confirmed_by is ConfirmedBy.AUTO

    with mock.patch.object(sweeps, "paged_until", lambda ctx, task: task.until), \
            mock.patch.object(Consumption, "silence_confirms", confirms), \
            mock.patch.object(silence, "confirm_due", confirm_due):
        yield


@contextmanager
def releases_to_the_orders_account() -> Iterator[None]:
    """A release goes to the general account its order was made with, never to the one the
    institution's department approved since."""
    with mock.patch.object(settlement, "general_account",
                           lambda ctx, order: order.general_bank_account):
        yield


@contextmanager
def weeks_uncounted() -> Iterator[None]:
    """A consuming write does not count the lesson in its child's week: an institution can
    record lessons faster than its course's timetable."""
    with mock.patch.object(AtomicWrite, "count_weekly_lesson", lambda self, *a, **kw: self):
        yield


PLANTED: dict[str, Any] = {
    "silence_ignores_freezes": silence_ignores_freezes,
    "timed_work_trusts_its_message": timed_work_trusts_its_message,
    "escalation_stops_at_the_county": escalation_stops_at_the_county,
    "idempotency_completed_unconditionally": idempotency_completed_unconditionally,
    "counters_unchecked": counters_unchecked,
    "journal_unconditioned": journal_unconditioned,
    "payment_believes_its_reference": payment_believes_its_reference,
    "releases_to_the_orders_account": releases_to_the_orders_account,
    "sweeper_ignores_releasing": sweeper_ignores_releasing,
    "transfer_resets_the_clock": transfer_resets_the_clock,
    "teachers_unclaimed": teachers_unclaimed,
    "weeks_uncounted": weeks_uncounted,
}


def plant(name: str) -> AbstractContextManager[None]:
    return PLANTED[name]()
