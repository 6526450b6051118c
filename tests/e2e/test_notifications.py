"""The message center: each event a person acts on lands in their inbox exactly once (written
with the change itself), whatever is retried or redelivered; it is pushed at least once, and
a push that failed is pushed by the schedule."""

from __future__ import annotations

from typing import Any

from chalicelib.domain.messages.notice import Notice
from tests.e2e.test_refunds import PRICE, ask, taught_order
from tests.support import flows
from tests.support.harness import Platform


def inbox(p: Platform, who: dict[str, str], query: str = "limit=100") -> dict[str, Any]:
    got = p.get(f"/v1/notifications?{query}", who)
    assert got.status == 200, got.body
    return dict(got.body)


def of_event(p: Platform, who: dict[str, str], event: str) -> list[dict[str, Any]]:
    return [n for n in inbox(p, who)["items"] if n["event"] == event]


def test_a_recorded_lesson_asks_its_parent_once_even_when_the_request_is_replayed(
    platform: Platform,
) -> None:
    p = platform
    shop = flows.open_shop(p, price=PRICE)
    fam = flows.family(p)
    order = flows.buy_and_pay(p, shop, fam, lessons=3)
    body = flows.teach(p, shop, [order["order_id"]])
    first = p.post("/v1/lessons", shop.staff, body, key="lesson-key-0001")
    again = p.post("/v1/lessons", shop.staff, body, key="lesson-key-0001")
    assert first.status == again.status == 201
    consumption_id = first.body["consumptions"][0]["consumption_id"]
    asked = of_event(p, fam.parent, "lesson_to_confirm")
    assert [n["subject_id"] for n in asked] == [consumption_id]
    assert (asked[0]["read"], inbox(p, fam.parent)["unread"]) == (False, 1)

    read = p.post(f"/v1/notifications/{asked[0]['notice_id']}/read", fam.parent)
    assert (read.status, read.body["read"]) == (200, True)
    assert p.post(f"/v1/notifications/{asked[0]['notice_id']}/read", fam.parent).status == 200
    assert inbox(p, fam.parent)["unread"] == 0
    assert of_event(p, fam.parent, "lesson_to_confirm")[0]["read"] is True
    other = flows.family(p)
    foreign = p.post(f"/v1/notifications/{asked[0]['notice_id']}/read", other.parent)
    assert (foreign.status, foreign.code) == (404, "notice_not_found")
    assert inbox(p, other.parent)["items"] == []
    pushed = [n for n in p.pushed.sent if n.subject_id == consumption_id]
    assert [n.notice_id for n in pushed] == [asked[0]["notice_id"]]


def test_a_refund_decided_and_paid_tells_the_parent_once_under_duplicate_callbacks(
    platform: Platform,
) -> None:
    p = platform
    shop, fam, order, _ = taught_order(p, lessons=3, taught=1)
    refund_id = ask(p, fam, order["order_id"]).body["refund_id"]
    approved = p.post(f"/v1/refund-requests/{refund_id}/approve", shop.staff, {})
    assert approved.status == 200, approved.body
    p.bank.duplicate_callbacks(3)
    p.settle_everything()
    assert [n["subject_id"] for n in of_event(p, fam.parent, "refund_decided")] == [refund_id]
    paid = of_event(p, fam.parent, "refund_paid")
    assert [n["subject_id"] for n in paid] == [refund_id]
    amount = p.get(f"/v1/refund-requests/{refund_id}", fam.parent).body["amount_fen"]
    assert f"退款 {amount // 100}.{amount % 100:02d} 元" in paid[0]["title"]  # exactly
    p.check()


def test_a_push_that_failed_is_pushed_by_the_schedule_once(platform: Platform) -> None:
    p = platform
    shop = flows.open_shop(p, price=PRICE)
    fam = flows.family(p)
    order = flows.buy_and_pay(p, shop, fam, lessons=2)
    working = p.pushed.publish

    def unreachable(notice: Notice) -> None:
        raise ConnectionError("push service down")

    p.pushed.publish = unreachable  # type: ignore[method-assign]
    flows.record_lesson(p, shop, [order["order_id"]])
    assert p.pushed.sent == []
    p.pushed.publish = working  # type: ignore[method-assign]
    p.run_schedule("settlement_sweeper")
    p.run_schedule("settlement_sweeper")
    asked = of_event(p, fam.parent, "lesson_to_confirm")
    assert [n.notice_id for n in p.pushed.sent] == [asked[0]["notice_id"]]


def test_the_inbox_pages_newest_first(platform: Platform) -> None:
    p = platform
    shop = flows.open_shop(p, price=PRICE)
    fam = flows.family(p)
    order = flows.buy_and_pay(p, shop, fam, lessons=3)
    recorded = [flows.record_lesson(p, shop, [order["order_id"]])["consumptions"][0]
                ["consumption_id"] for _ in range(3)]
    first = inbox(p, fam.parent, "limit=2")
    assert [n["subject_id"] for n in first["items"]] == recorded[::-1][:2]
    assert first["unread"] == 3
    rest = inbox(p, fam.parent, f"limit=2&cursor={first['next_cursor']}")
    assert [n["subject_id"] for n in rest["items"]] == recorded[:1]
    staff = inbox(p, shop.staff)
    assert staff["items"] == [] and staff["unread"] == 0
