"""The order's state machine and counters, on plain domain objects (no I/O)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.errors import StateConflict
from chalicelib.domain.escrow import invariants, lesson_money
from chalicelib.domain.escrow import order as rules
from chalicelib.domain.escrow.order import Order, OrderStatus

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def new_order(amount_fen: int = 10_001, lessons: int = 10) -> Order:
    return rules.new_order_lessons(Order(
        order_id="ord_01JNZ0000000000000000000AA", parent_sub="p1", student_id="stu_1",
        institution_id="ins_1", course_id="crs_1", region_code="440106",
        status=OrderStatus.PENDING_PAYMENT, amount_fen=amount_fen, lessons=lessons,
        created_at=NOW, expires_at=NOW + timedelta(minutes=30),
        supervised_bank_account="SUP-1", general_bank_account="GEN-1",
    ))


def paid(order: Order) -> Order:
    return rules.apply(order, rules.payment(order))


def release_one(order: Order) -> Order:
    price = lesson_money.next_lesson(order)
    amount = price.amount_fen
    for movement in (
        rules.lesson_recorded(carries_remainder=price.carries_remainder),
        rules.lesson_confirmed(was_disputed=False),
        rules.release_reserved(amount),
    ):
        order = rules.apply(order, movement)
        invariants.check_order(order)
    return rules.apply(order, rules.release_posted(order, amount))


def test_a_new_order_has_every_lesson_remaining_and_no_money() -> None:
    order = new_order()
    invariants.check_order(order)
    assert (order.lessons_remaining, order.paid_fen, order.held_fen) == (10, 0, 0)


def test_payment_holds_the_whole_amount_in_the_supervised_account() -> None:
    order = paid(new_order())
    invariants.check_order(order)
    assert (order.status, order.paid_fen, order.held_fen) == (OrderStatus.PAID, 10_001, 10_001)


def test_an_order_cannot_be_paid_twice_nor_after_it_expired() -> None:
    once = paid(new_order())
    with pytest.raises(StateConflict):
        rules.apply(once, rules.payment(once))
    expired = rules.apply(new_order(), rules.expiry())
    with pytest.raises(StateConflict):
        rules.apply(expired, rules.payment(expired))


def test_releasing_every_lesson_completes_the_order_with_every_fen_released() -> None:
    order = paid(new_order())
    for _ in range(order.lessons):
        order = release_one(order)
        invariants.check_order(order)
    assert order.status is OrderStatus.COMPLETED
    assert (order.released_fen, order.held_fen, order.lessons_released) == (10_001, 0, 10)


def test_a_void_returns_the_reserved_amount_to_held() -> None:
    order = rules.apply(paid(new_order()), rules.lesson_recorded())
    order = rules.apply(order, rules.lesson_confirmed(was_disputed=False))
    reserved = rules.apply(order, rules.release_reserved(1_000))
    voided = rules.apply(reserved, rules.release_voided(1_000))
    invariants.check_order(voided)
    assert (voided.held_fen, voided.releasing_fen) == (order.held_fen, 0)


def test_no_movement_may_take_a_counter_below_zero() -> None:
    order = paid(new_order(lessons=1, amount_fen=100))
    with pytest.raises(StateConflict):
        rules.apply(order, rules.release_reserved(101))
    order = rules.apply(order, rules.lesson_recorded())
    with pytest.raises(StateConflict):
        rules.apply(order, rules.lesson_recorded())


def test_lessons_cannot_be_recorded_on_an_unpaid_order() -> None:
    with pytest.raises(StateConflict):
        rules.apply(new_order(), rules.lesson_recorded())


def test_the_invariant_check_catches_money_that_appeared_from_nowhere() -> None:
    broken = replace(paid(new_order()), held_fen=10_002)
    with pytest.raises(invariants.InvariantViolated):
        invariants.check_order(broken)


def test_payment_references_map_back_to_their_order_and_nothing_else() -> None:
    order_id = "ord_01JNZ0000000000000000000AA"
    assert rules.order_id_for_reference(rules.payment_reference(order_id)) == order_id
    for junk in ("", "P", "X01JNZ0000000000000000000AA", "P01JNZ00000000000000000000AA", "P-" * 13):
        assert rules.order_id_for_reference(junk) is None


@given(
    amount=st.integers(min_value=1, max_value=500_000),
    lessons=st.integers(min_value=1, max_value=60),
    script=st.lists(st.sampled_from(["record", "confirm", "release", "fail"]), max_size=200),
)
def test_any_sequence_of_lesson_and_release_steps_keeps_the_order_invariant(
    amount: int, lessons: int, script: list[str]
) -> None:
    order = paid(new_order(amount, lessons))
    prices: list[int] = []
    reserved: list[int] = []
    for step in script:
        try:
            if step == "record":
                recorded = lesson_money.next_lesson(order)
                order = rules.apply(order, rules.lesson_recorded(
                    carries_remainder=recorded.carries_remainder))
                prices.append(recorded.amount_fen)
            elif step == "confirm":
                order = rules.apply(order, rules.lesson_confirmed(was_disputed=False))
            elif step == "release" and order.lessons_confirmed_unreleased > len(reserved):
                price = prices[len(reserved)]
                order = rules.apply(order, rules.release_reserved(price))
                reserved.append(price)
            elif step == "fail" and reserved:
                order = rules.apply(order, rules.release_voided(reserved.pop()))
        except StateConflict:
            pass
        invariants.check_order(order)
    for price in reserved:
        order = rules.apply(order, rules.release_posted(order, price))
        invariants.check_order(order)
    assert order.released_fen + order.held_fen + order.releasing_fen == amount
