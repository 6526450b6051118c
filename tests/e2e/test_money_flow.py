"""The prepaid money flow end to end, with the invariants checked after every step."""

from __future__ import annotations

from tests.support import flows
from tests.support.harness import Platform


def test_a_lesson_confirmed_by_the_parent_releases_its_money_to_the_institution(
    platform: Platform,
) -> None:
    shop = flows.open_shop(platform, price=15_000)
    fam = flows.family(platform)
    platform.check()
    order = flows.buy(platform, shop, fam, lessons=10)
    assert order["status"] == "pending_payment" and order["amount_fen"] == 150_000
    platform.check()
    flows.pay(platform, fam, order)
    platform.check()
    paid = flows.order_of(platform, fam.parent, order["order_id"])
    assert paid["status"] == "paid" and paid["held_fen"] == 150_000

    lesson = flows.record_lesson(platform, shop, [order["order_id"]])
    platform.check()
    (consumption,) = lesson["consumptions"]
    assert consumption["amount_fen"] == 15_000
    assert consumption["status"] == "pending_confirmation"

    flows.confirm(platform, fam, consumption["consumption_id"])
    platform.check()
    platform.drain_settlement()
    platform.check()
    releasing = flows.order_of(platform, fam.parent, order["order_id"])
    assert releasing["releasing_fen"] == 15_000 and releasing["held_fen"] == 135_000

    platform.bank.deliver_pending()
    platform.check()
    released = flows.order_of(platform, fam.parent, order["order_id"])
    assert released["released_fen"] == 15_000
    assert released["lessons_released"] == 1 and released["lessons_remaining"] == 9
    assert platform.bank.balance(shop.general_account) == 15_000
    assert platform.bank.balance(shop.supervised_account) == 135_000
