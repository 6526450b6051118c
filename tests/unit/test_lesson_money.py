"""Any sequence of lessons recorded, confirmed, released, disputed and withdrawn, with a
refund asked and approved and the institution liquidated along the way, prices an order's
lessons to exactly what was paid: released + refunded = paid to the fen at the end, the
remainder charged exactly once, every counter >= 0 after every step
(chalicelib/domain/escrow/lesson_money.py, dispute.py, refund.py, liquidation.py)."""

from __future__ import annotations

from contextlib import suppress
from dataclasses import replace
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.errors import StateConflict
from chalicelib.domain.escrow import invariants, lesson_money
from chalicelib.domain.escrow import order as rules
from chalicelib.domain.escrow.consumption import WITHDRAWABLE, Consumption, ConsumptionStatus
from chalicelib.domain.escrow.order import Order
from chalicelib.domain.refunds import dispute
from chalicelib.domain.refunds import refund as refund_rules
from chalicelib.domain.refunds.refund import RefundRequest, RefundStatus
from tests.unit.test_order import NOW, new_order, paid

STEPS = ("record", "confirm", "release", "dispute", "withdraw", "ask_refund", "approve",
         "liquidate")


class Book:
    """One order and its consumptions and refunds, moved only by the domain's movements."""

    def __init__(self, order: Order) -> None:
        self.order = order
        self.consumptions: list[Consumption] = []
        self.refunds: list[RefundRequest] = []
        self.liquidated = False

    def move(self, movement: rules.Movement) -> None:
        self.order = rules.apply(self.order, movement)

    def record(self) -> None:
        if self.order.open_refunds or self.order.open_disputes or self.liquidated:
            return  # the service refuses: no new lesson consumes a blocked order
        price = lesson_money.next_lesson(self.order)
        number = lesson_money.next_lesson_number(self.order)
        self.move(rules.lesson_recorded(carries_remainder=price.carries_remainder))
        self.consumptions.append(Consumption(
            consumption_id=f"con_{number}", order_id=self.order.order_id, lesson_id="les",
            institution_id="ins_1", parent_sub="p1", student_id="stu_1", course_id="crs_1",
            lesson_number=number, amount_fen=price.amount_fen,
            status=ConsumptionStatus.PENDING_CONFIRMATION, recorded_at=NOW,
            confirm_by=date(2026, 3, 20), confirm_by_estimated=False,
            carries_remainder=price.carries_remainder,
        ))

    def pick(self, statuses: frozenset[ConsumptionStatus], n: int) -> int | None:
        found = [i for i, c in enumerate(self.consumptions) if c.status in statuses]
        return found[n % len(found)] if found else None

    def set(self, i: int, status: ConsumptionStatus) -> None:
        self.consumptions[i] = replace(self.consumptions[i], status=status)

    def step(self, step: str, n: int) -> None:
        pending = frozenset({ConsumptionStatus.PENDING_CONFIRMATION})
        if step == "record":
            self.record()
        elif step == "confirm" and (i := self.pick(WITHDRAWABLE, n)) is not None:
            was = self.consumptions[i].status is ConsumptionStatus.DISPUTED
            self.move(rules.lesson_confirmed(was_disputed=was))
            self.set(i, ConsumptionStatus.CONFIRMED)
        elif (step == "release" and not self.order.open_refunds and not self.order.open_disputes
              and (i := self.pick(frozenset({ConsumptionStatus.CONFIRMED}), n)) is not None):
            amount = self.consumptions[i].amount_fen
            self.move(rules.release_reserved(amount))
            self.move(rules.release_posted(self.order, amount))
            self.set(i, ConsumptionStatus.RELEASED)
        elif step == "dispute" and (i := self.pick(pending, n)) is not None:
            self.move(rules.lesson_disputed())
            self.set(i, ConsumptionStatus.DISPUTED)
        elif step == "withdraw" and (i := self.pick(WITHDRAWABLE, n)) is not None:
            self.withdraw(i)
        elif step == "ask_refund":
            self.ask_refund()
        elif step == "approve" and self.order.open_refunds:
            self.approve()
        elif step == "liquidate" and not self.liquidated:
            self.liquidate()

    def liquidate(self) -> None:
        """As chalicelib/service/institutions/liquidation_orders.py does: every lesson not confirmed
        returned to the order, the request awaiting a decision approved, or else what
        remains refunded by the liquidation's own refund."""
        self.liquidated = True
        for i, lesson in enumerate(self.consumptions):
            if lesson.status in WITHDRAWABLE:
                self.withdraw(i, dispute.WithdrawnBy.LIQUIDATION)
        if self.order.open_refunds:
            self.approve()
        share = lesson_money.refundable(self.order)
        if share.lessons:
            own = self._refund(share.lessons, share.amount_fen, share.carries_remainder,
                               RefundStatus.REFUNDING)
            self.move(refund_rules.reserved(own, was_open=False))
            self.refunds.append(own)
            self.post(own)

    def withdraw(self, i: int, by: dispute.WithdrawnBy = dispute.WithdrawnBy.INSTITUTION
                 ) -> None:
        lesson = self.consumptions[i]
        refunded = dispute.refunds_at_once(self.order, by)
        self.move(dispute.withdrawn(lesson, refunded=refunded))
        self.set(i, ConsumptionStatus.WITHDRAWN)
        if refunded:
            self.refunds.append(self._refund(1, lesson.amount_fen, lesson.carries_remainder,
                                             RefundStatus.REFUNDING))
            self.post(self.refunds[-1])

    def ask_refund(self) -> None:
        share = lesson_money.refundable(self.order)
        if self.order.open_refunds or share.lessons == 0 or self.order.lessons_refunded:
            return
        self.move(refund_rules.requested())
        self.refunds.append(self._refund(share.lessons, share.amount_fen, False,
                                         RefundStatus.PENDING_DECISION))

    def approve(self) -> None:
        asked = self.refunds[-1]
        approved = replace(refund_rules.priced(asked, self.order), status=RefundStatus.REFUNDING)
        self.move(refund_rules.reserved(approved, was_open=True))
        self.refunds[-1] = approved
        self.post(approved)

    def post(self, refund: RefundRequest) -> None:
        self.move(refund_rules.posted(self.order, refund))
        self.refunds[self.refunds.index(refund)] = replace(refund, status=RefundStatus.REFUNDED)

    def _refund(self, lessons: int, amount: int, carries: bool, status: RefundStatus
                ) -> RefundRequest:
        return RefundRequest(
            refund_id=f"rfd_{len(self.refunds)}", order_id=self.order.order_id,
            parent_sub="p1", institution_id="ins_1", region_code="440106", reason="r",
            status=status, lessons=lessons, amount_fen=amount, requested_at=NOW,
            decide_by=date(2026, 3, 9), decide_by_estimated=False, before_start=False,
            carries_remainder=carries,
        )

    def check(self) -> None:
        invariants.check_order(self.order)
        invariants.check_lessons(self.order, self.consumptions, self.refunds)


@settings(max_examples=300, deadline=None)
@given(
    amount=st.integers(min_value=1, max_value=500_000),
    lessons=st.integers(min_value=1, max_value=12),
    script=st.lists(st.tuples(st.sampled_from(STEPS), st.integers(0, 50)), max_size=80),
)
def test_any_history_of_lessons_disputes_withdrawals_and_a_refund_sums_to_what_was_paid(
    amount: int, lessons: int, script: list[tuple[str, int]]
) -> None:
    book = Book(paid(new_order(amount, lessons)))
    for step, n in script:
        with suppress(StateConflict):  # a movement the counters forbid now: nothing changed
            book.step(step, n)
        book.check()
    # Settle what is left: every open lesson confirmed and released, or refunded.
    for step in ("approve", *["confirm"] * lessons * 2, *["release"] * lessons * 3,
                 "ask_refund", "approve"):
        book.step(step, 0)
        book.check()
    order = book.order
    assert order.status is rules.OrderStatus.COMPLETED, order
    assert order.released_fen + order.refunded_fen == order.paid_fen == amount
    assert order.held_fen == order.releasing_fen == order.refunding_fen == 0
