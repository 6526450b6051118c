"""How a disputed lesson ends: it is never left blocking its order.

    pending_confirmation --parent disputes--> disputed --parent accepts (confirms)--> confirmed
          |                                   |   |
          |                                   |   +--institution upholds, with a note:
          |                                   |      still disputed, the parent decides
          |                                   |
          |                                   +--still disputed after the policy's working
          |                                      days (default 10): escalated to the
          |                                      jurisdiction's regulator, who decides
          |                                        release -> confirmed (by the regulator)
          |                                        return  -> withdrawn
          v
      withdrawn  <--the institution withdraws it (pending or disputed), with a reason

A withdrawn lesson consumed nothing and nothing is paid for it. It goes back to the order's
remaining lessons, so it can be taught again, or refunded with them; but if the order's
remaining money was already refunded, the lesson's money is refunded at once instead, in
the same transaction (a refund approved by the withdrawal): it never waits on anyone.
While a lesson is disputed the order's releases wait and no new lesson can consume it.
"""

from __future__ import annotations

from enum import StrEnum

from chalicelib.domain.escrow.consumption import Consumption, ConsumptionStatus
from chalicelib.domain.escrow.order import Movement, Order, OrderStatus


class WithdrawnBy(StrEnum):
    INSTITUTION = "institution"
    REGULATOR = "regulator"
    LIQUIDATION = "liquidation"
    """Returned by its institution's liquidation: refunded with the order's remaining
    lessons (chalicelib/domain/institutions/liquidation.py)."""


class Outcome(StrEnum):
    """A regulator's decision on an escalated dispute."""

    RELEASE = "release"
    RETURN = "return"


_PAID = frozenset({OrderStatus.PAID})


def refunds_at_once(order: Order, by: WithdrawnBy) -> bool:
    """A lesson withdrawn from `order` is refunded at once: the order's remaining money was
    already refunded (and no refund request is awaiting a decision, which would take it).
    A liquidation returns it to the order instead: its own refund of the order's remaining
    lessons follows and takes it."""
    return (order.lessons_refunded > 0 and order.open_refunds == 0
            and by is not WithdrawnBy.LIQUIDATION)


def withdrawn(consumption: Consumption, *, refunded: bool) -> Movement:
    """The lesson leaves pending confirmation unpaid: back to the order's remaining lessons,
    or (`refunded`) with its money to the payer."""
    deltas = {"lessons_pending_confirmation": -1, "lessons_withdrawn": 1}
    if consumption.status is ConsumptionStatus.DISPUTED:
        deltas["open_disputes"] = -1
    if refunded:
        deltas.update({
            "lessons_refunded": 1, "held_fen": -consumption.amount_fen,
            "refunding_fen": consumption.amount_fen,
        })
    else:
        deltas["lessons_remaining"] = 1
        if consumption.carries_remainder:
            deltas["remainder_carried"] = -1
    return Movement("withdraw_lesson", _PAID, deltas)
