"""Reviews: one per order once a lesson of it was confirmed, a reply once, and the shop's
rating summed from shards."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.adapters.dynamo.transaction import Transaction
from chalicelib.service.ports import WriteRejected
from tests.e2e.test_refunds import PRICE
from tests.support import flows
from tests.support.harness import Platform


def confirmed_order(p: Platform, shop: flows.Shop) -> tuple[flows.Family, dict[str, Any]]:
    fam = flows.family(p)
    order = flows.buy_and_pay(p, shop, fam, lessons=2)
    recorded = flows.record_lesson(p, shop, [order["order_id"]])
    flows.confirm(p, fam, recorded["consumptions"][0]["consumption_id"])
    return fam, order


def review(p: Platform, fam: flows.Family, order_id: str, stars: int, text: str) -> Any:
    return p.post(f"/v1/orders/{order_id}/review", fam.parent, {"stars": stars, "text": text})


def test_one_review_per_order_after_a_confirmed_lesson_and_one_reply(platform: Platform) -> None:
    p = platform
    shop = flows.open_shop(p, price=PRICE)
    fam = flows.family(p)
    order = flows.buy_and_pay(p, shop, fam, lessons=2)
    early = review(p, fam, order["order_id"], 5, "还没上课")
    assert (early.status, early.code) == (422, "review_before_confirmed_lesson")
    recorded = flows.record_lesson(p, shop, [order["order_id"]])
    pending = review(p, fam, order["order_id"], 5, "上了一节，还没确认")
    assert (pending.status, pending.code) == (422, "review_before_confirmed_lesson")
    flows.confirm(p, fam, recorded["consumptions"][0]["consumption_id"])

    written = review(p, fam, order["order_id"], 4, "老师耐心，孩子喜欢")
    assert written.status == 201, written.body
    assert (written.body["stars"], written.body["review_id"]) == (
        4, "rev_" + order["order_id"].removeprefix("ord_"))
    again = review(p, fam, order["order_id"], 4, "老师耐心，孩子喜欢")
    assert (again.status, again.body["created_at"]) == (200, written.body["created_at"])
    second = review(p, fam, order["order_id"], 1, "改主意了")
    assert (second.status, second.code) == (409, "review_exists")
    stranger = flows.family(p)
    foreign = review(p, stranger, order["order_id"], 1, "冒名评价")
    assert (foreign.status, foreign.code) == (404, "order_not_found")

    other_shop = flows.open_shop(p, price=PRICE)
    wrong = p.post(f"/v1/orders/{order['order_id']}/review/reply", other_shop.staff,
                   {"text": "不是我们的"})
    assert (wrong.status, wrong.code) == (404, "review_not_found")
    replied = p.post(f"/v1/orders/{order['order_id']}/review/reply", shop.staff,
                     {"text": "感谢认可"})
    assert (replied.status, replied.body["reply"]) == (200, "感谢认可"), replied.body
    twice = p.post(f"/v1/orders/{order['order_id']}/review/reply", shop.staff,
                   {"text": "再回复一次"})
    assert (twice.status, twice.code) == (409, "review_already_replied")

    page = p.get(f"/v1/institutions/{shop.institution_id}/reviews", fam.parent).body
    assert [(r["order_id"], r["reply"]) for r in page["items"]] == [
        (order["order_id"], "感谢认可")]
    assert page["rating"] == {"average": 4.0, "count": 1}


def test_the_rating_sums_every_review_and_shows_on_the_shop_page(platform: Platform) -> None:
    p = platform
    shop = flows.open_shop(p, price=PRICE)
    before = p.get(f"/v1/institutions/{shop.institution_id}", shop.staff).body
    assert before["rating"] == {"average": None, "count": 0}
    for stars in (5, 4, 4):
        fam, order = confirmed_order(p, shop)
        assert review(p, fam, order["order_id"], stars, f"{stars} 星").status == 201
    shop_page = p.get(f"/v1/institutions/{shop.institution_id}", fam.parent).body
    assert shop_page["rating"] == {"average": 4.3, "count": 3}
    listed = p.get(f"/v1/institutions/{shop.institution_id}/reviews?limit=2", fam.parent).body
    assert [r["stars"] for r in listed["items"]] == [4, 4] and listed["next_cursor"]


MALFORMED = [{"stars": 5, "text": ""}, {"stars": 5, "text": "好" * 501},
             {"stars": 6, "text": "好"}, {"stars": 0, "text": "好"}, {"stars": "5", "text": "好"}]


def test_a_malformed_review_is_refused_and_counts_nothing(platform: Platform) -> None:
    p = platform
    shop = flows.open_shop(p, price=PRICE)
    fam, order = confirmed_order(p, shop)
    for body in MALFORMED:
        refused = p.post(f"/v1/orders/{order['order_id']}/review", fam.parent, body)
        assert (refused.status, refused.code) == (400, "validation_error"), (body, refused.body)
    assert p.get(f"/v1/institutions/{shop.institution_id}", fam.parent).body["rating"] == {
        "average": None, "count": 0}


def test_a_review_that_meets_another_on_its_rating_shard_is_written_once(
    platform: Platform, monkeypatch: pytest.MonkeyPatch,
) -> None:
    p = platform
    shop = flows.open_shop(p, price=PRICE)
    fam, order = confirmed_order(p, shop)
    commit = Transaction.commit
    contended: list[bool] = []

    def once_contended(self: Transaction) -> None:  # another review took the shard first
        if "rating" in self._labels and not contended:
            contended.append(True)
            raise WriteRejected(frozenset(), contended=True)
        commit(self)

    monkeypatch.setattr(Transaction, "commit", once_contended)
    written = review(p, fam, order["order_id"], 5, "很好")
    assert (written.status, contended) == (201, [True]), written.body
    rating = p.get(f"/v1/institutions/{shop.institution_id}", fam.parent).body["rating"]
    assert rating == {"average": 5.0, "count": 1}
