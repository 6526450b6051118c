"""Money parked for ops, as the end-to-end tests set it up: a confirmed lesson whose release
the bank refused (its general account closed), and a payment that matched no order (for an
order that expired) whose return the bank refused (the payer's account closed)."""

from __future__ import annotations

from typing import Any

from chalicelib import bootstrap
from chalicelib.domain.escrow.consumption import ConsumptionStatus
from tests.support import flows
from tests.support.harness import Platform
from tests.support.invariants import scan


def parked_release(p: Platform, price: int, lessons: int = 3
                   ) -> tuple[flows.Shop, flows.Family, str, str]:
    """An order of `lessons`, one taught and confirmed, its release refused by the bank and
    parked: the shop, the family, the order and the lesson."""
    shop = flows.open_shop(p, price=price)
    fam = flows.family(p)
    order_id = flows.buy_and_pay(p, shop, fam, lessons=lessons)["order_id"]
    consumption_id = flows.record_lesson(p, shop, [order_id])["consumptions"][0][
        "consumption_id"]
    flows.confirm(p, fam, consumption_id)
    p.bank.close_account(shop.general_account)
    p.settle_everything()
    assert consumption_status(consumption_id) is ConsumptionStatus.NEEDS_REVIEW
    return shop, fam, order_id, consumption_id


def consumption_status(consumption_id: str) -> ConsumptionStatus:
    found = bootstrap.context().store.consumption(consumption_id)
    assert found is not None
    return found.status


def expired_order(p: Platform, shop: flows.Shop, fam: flows.Family, lessons: int
                  ) -> dict[str, Any]:
    """An order bought and never paid, past its payment deadline: expired."""
    order = flows.buy(p, shop, fam, lessons=lessons)
    p.advance(minutes=31)
    p.run_schedule("expire_orders")
    return order


def paid_late_and_parked(p: Platform, fam: flows.Family, order: dict[str, Any]) -> str:
    """The family pays an expired order; the payment matches no order and its return is
    refused for good (the payer's account closed): parked. The unmatched payment's id."""
    p.bank.close_account(fam.payer_account)
    before = set(unmatched_ids(p))
    flows.pay(p, fam, order)
    (unmatched_id,) = set(unmatched_ids(p)) - before
    return unmatched_id


def unmatched_ids(p: Platform) -> list[str]:
    return [i["pk"] for i in scan(p.dynamodb, p.plane.platform_table)
            if i["sk"] == "#unmatched_payment"]
