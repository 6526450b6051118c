"""How a lesson not yet confirmed ends, and that no dispute blocks its order forever: the
institution withdraws it (nothing is paid, the lesson goes back to the order, or its money to
the payer once the order was refunded) or upholds it with a note; the parent accepts it or
keeps the dispute; still open after ten working days it goes to the jurisdiction's regulator,
who releases or returns it. While it is disputed no new lesson consumes the order."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from chalicelib.adapters.dynamo.store import DynamoStore
from tests.support import flows
from tests.support.harness import Platform

PRICE = 10_000
SHANGHAI = ZoneInfo("Asia/Shanghai")
PAST_ANSWER_BY = datetime(2026, 3, 17, 0, 1, tzinfo=SHANGHAI)  # disputed on 2 March


def taught_once(p: Platform, lessons: int = 3, **course: Any
                ) -> tuple[flows.Shop, flows.Family, dict[str, Any], str]:
    """An order of `lessons` paid for, and one lesson of it recorded (pending confirmation)."""
    shop = flows.open_shop(p, price=PRICE, **course)
    fam = flows.family(p)
    order = flows.buy_and_pay(p, shop, fam, lessons=lessons)
    consumption_id = flows.record_lesson(p, shop, [order["order_id"]])["consumptions"][0][
        "consumption_id"]
    return shop, fam, order, consumption_id


def disputed_lesson(p: Platform, lessons: int = 3
                    ) -> tuple[flows.Shop, flows.Family, dict[str, Any], str]:
    shop, fam, order, consumption_id = taught_once(p, lessons)
    disputed = p.post(f"/v1/consumptions/{consumption_id}/dispute", fam.parent,
                      {"reason": "孩子那天生病没去"})
    assert disputed.status == 200 and disputed.body["status"] == "disputed", disputed.body
    return shop, fam, order, consumption_id


def disputed_of(p: Platform, who: dict[str, str]) -> list[dict[str, Any]]:
    got = p.get("/v1/consumptions?status=disputed", who)
    assert got.status == 200, got.body
    return list(got.body["items"])


def withdraw(p: Platform, shop: flows.Shop, consumption_id: str, reason: str = "学生缺席，误录"
             ) -> Any:
    return p.post(f"/v1/consumptions/{consumption_id}/withdraw", shop.staff, {"reason": reason})


def test_a_withdrawn_lesson_is_paid_for_by_nobody_and_goes_back_to_the_order(
    platform: Platform,
) -> None:
    shop, fam, order, consumption_id = disputed_lesson(platform)
    blocked = platform.post("/v1/lessons", shop.staff,
                            flows.teach(platform, shop, [order["order_id"]]))
    assert (blocked.status, blocked.code) == (409, "order_dispute_open"), blocked.body
    while_open = flows.order_of(platform, fam.parent, order["order_id"])
    assert (while_open["open_disputes"], while_open["lessons_remaining"]) == (1, 2)

    withdrawn = withdraw(platform, shop, consumption_id)
    assert withdrawn.status == 200, withdrawn.body
    assert (withdrawn.body["status"], withdrawn.body["withdrawn_by"]) == ("withdrawn",
                                                                         "institution")
    assert withdraw(platform, shop, consumption_id).body == withdrawn.body  # once
    platform.check()
    back = flows.order_of(platform, fam.parent, order["order_id"])
    assert (back["open_disputes"], back["lessons_remaining"], back["lessons_withdrawn"],
            back["lessons_pending_confirmation"], back["held_fen"]) == (0, 3, 1, 0, 3 * PRICE)
    confirm = platform.post(f"/v1/consumptions/{consumption_id}/confirm", fam.parent)
    assert (confirm.status, confirm.code) == (409, "consumption_withdrawn")

    # Every lesson can still be taught; the withdrawn one keeps its number.
    numbers = []
    for _ in range(3):
        taught = flows.record_lesson(platform, shop, [order["order_id"]])["consumptions"][0]
        numbers.append(taught["lesson_number"])
        flows.confirm(platform, fam, taught["consumption_id"])
    assert numbers == [2, 3, 4]
    platform.settle_everything()
    platform.check()
    done = flows.order_of(platform, fam.parent, order["order_id"])
    assert (done["status"], done["released_fen"], done["lessons_released"]) == (
        "completed", 3 * PRICE, 3)
    assert platform.bank.balance(shop.general_account) == 3 * PRICE


def test_an_upheld_lesson_waits_for_the_parent_who_may_accept_it(platform: Platform) -> None:
    shop, fam, order, consumption_id = disputed_lesson(platform)
    bare = platform.post(f"/v1/consumptions/{consumption_id}/uphold", shop.staff,
                         {"note": "   "})
    assert (bare.status, bare.code) == (400, "validation_error")
    upheld = platform.post(f"/v1/consumptions/{consumption_id}/uphold", shop.staff,
                           {"note": "有签到表和课堂照片"})
    assert upheld.status == 200, upheld.body
    [seen] = disputed_of(platform, fam.parent)
    assert seen["consumption_id"] == consumption_id
    assert (seen["status"], seen["institution_note"]) == ("disputed", "有签到表和课堂照片")
    assert seen["answer_by"] == "2026-03-16"  # ten working days from Monday 2 March
    platform.settle_everything()
    assert flows.order_of(platform, fam.parent, order["order_id"])["released_fen"] == 0

    flows.confirm(platform, fam, consumption_id)  # the parent accepts the answer
    platform.settle_everything()
    accepted = flows.order_of(platform, fam.parent, order["order_id"])
    assert (accepted["open_disputes"], accepted["released_fen"]) == (0, PRICE)
    late = withdraw(platform, shop, consumption_id)
    assert (late.status, late.code) == (409, "consumption_not_withdrawable")
    platform.check()


def test_a_dispute_left_open_goes_to_the_regulator_after_ten_working_days_over_a_holiday(
    platform: Platform,
) -> None:
    platform.clock.set(datetime(2026, 9, 28, 9, 0, tzinfo=SHANGHAI))  # Monday
    shop, fam, order, consumption_id = taught_once(platform, 2, starts_on="2026-09-01",
                                                   ends_on="2026-11-30")
    disputed = platform.post(f"/v1/consumptions/{consumption_id}/dispute", fam.parent,
                             {"reason": "老师没来"}).body
    # 29, 30 Sep, then the National Day holiday; 8, 9, 10 (a swapped Saturday), 12-16 Oct
    assert disputed["answer_by"] == "2026-10-16"
    regulator = flows.regulator(platform)
    early = platform.post(f"/v1/regulator/consumptions/{consumption_id}/decide", regulator,
                          {"outcome": "release", "reason": "核查属实"})
    assert (early.status, early.code) == (409, "dispute_not_escalated")

    platform.clock.set(datetime(2026, 10, 16, 23, 59, tzinfo=SHANGHAI))
    platform.run_schedule("auto_confirm")
    assert platform.get("/v1/regulator/disputes", regulator).body["items"] == []
    platform.clock.set(datetime(2026, 10, 17, 0, 1, tzinfo=SHANGHAI))
    platform.run_schedule("auto_confirm")
    listed = platform.get("/v1/regulator/disputes", regulator).body["items"]
    assert [c["consumption_id"] for c in listed] == [consumption_id]
    assert listed[0]["escalated_at"] is not None and listed[0]["status"] == "disputed"

    city = flows.regulator(platform, sub="reg-gz", region="440100", department="culture")
    assert [c["consumption_id"] for c in
            platform.get("/v1/regulator/disputes", city).body["items"]] == [consumption_id]
    for outsider in (flows.regulator(platform, sub="reg-sz", region="440300"),
                     flows.regulator(platform, sub="reg-sport", department="sports")):
        assert platform.get("/v1/regulator/disputes", outsider).body["items"] == []
        foreign = platform.post(f"/v1/regulator/consumptions/{consumption_id}/decide",
                                outsider, {"outcome": "return", "reason": "越权"})
        assert (foreign.status, foreign.code) == (404, "consumption_not_found")
    for not_a_regulator in (shop.staff, fam.parent):
        assert platform.post(f"/v1/regulator/consumptions/{consumption_id}/decide",
                             not_a_regulator, {"outcome": "release", "reason": "x"}).status == 403

    released = platform.post(f"/v1/regulator/consumptions/{consumption_id}/decide", city,
                             {"outcome": "release", "reason": "有签到记录，课已上"})
    assert released.status == 200, released.body
    assert (released.body["status"], released.body["confirmed_by"],
            released.body["resolution_reason"]) == ("confirmed", "regulator", "有签到记录，课已上")
    undo = platform.post(f"/v1/regulator/consumptions/{consumption_id}/decide", city,
                         {"outcome": "return", "reason": "改判"})
    assert (undo.status, undo.code) == (409, "dispute_already_resolved")
    assert platform.get("/v1/regulator/disputes", regulator).body["items"] == []
    platform.settle_everything()
    paid = flows.order_of(platform, fam.parent, order["order_id"])
    assert (paid["released_fen"], paid["open_disputes"]) == (PRICE, 0)
    platform.check()


def test_a_regulator_returning_a_lesson_frees_the_order(platform: Platform) -> None:
    shop, fam, order, consumption_id = disputed_lesson(platform, lessons=2)
    platform.clock.set(datetime(2026, 3, 17, 0, 1, tzinfo=SHANGHAI))
    platform.run_schedule("auto_confirm")
    returned = platform.post(f"/v1/regulator/consumptions/{consumption_id}/decide",
                             flows.competent(platform),
                             {"outcome": "return", "reason": "机构无法证明已上课"})
    assert returned.status == 200, returned.body
    assert (returned.body["status"], returned.body["withdrawn_by"]) == ("withdrawn", "regulator")
    back = flows.order_of(platform, fam.parent, order["order_id"])
    assert (back["lessons_remaining"], back["open_disputes"]) == (2, 0)
    platform.clock.set(datetime(2026, 3, 17, 9, 0, tzinfo=SHANGHAI))  # teaching hours
    flows.record_lesson(platform, shop, [order["order_id"]])  # the order goes on
    platform.check()


def test_a_lesson_withdrawn_after_the_order_was_refunded_is_refunded_at_once(
    platform: Platform,
) -> None:
    shop, fam, order, pending = taught_once(platform)
    asked = platform.post(f"/v1/orders/{order['order_id']}/refund-requests", fam.parent,
                          {"reason": "搬家了"}).body
    platform.post(f"/v1/refund-requests/{asked['refund_id']}/approve", shop.staff, {})
    platform.settle_everything()
    assert flows.order_of(platform, fam.parent, order["order_id"])["refunded_fen"] == 2 * PRICE

    withdrawn = withdraw(platform, shop, pending)
    assert withdrawn.status == 200, withdrawn.body
    platform.check()
    refunds = platform.get("/v1/refund-requests", fam.parent).body["items"]
    follow = [r for r in refunds if r["refund_id"] != asked["refund_id"]]
    assert [(r["approved_by"], r["lessons"], r["amount_fen"]) for r in follow] == [
        ("withdrawal", 1, PRICE)]
    platform.settle_everything()
    platform.check()
    closed = flows.order_of(platform, fam.parent, order["order_id"])
    assert (closed["status"], closed["refunded_fen"], closed["released_fen"]) == (
        "completed", 3 * PRICE, 0)
    assert platform.bank.balance(fam.payer_account) == 0  # every fen back


def test_a_lesson_withdrawn_while_a_refund_waits_goes_back_with_the_refund(
    platform: Platform,
) -> None:
    shop = flows.open_shop(platform, price=PRICE)
    fam = flows.family(platform)
    order = flows.buy_and_pay(platform, shop, fam, lessons=3)
    taught = [flows.record_lesson(platform, shop, [order["order_id"]])["consumptions"][0]
              ["consumption_id"] for _ in range(2)]
    flows.confirm(platform, fam, taught[0])
    asked = platform.post(f"/v1/orders/{order['order_id']}/refund-requests", fam.parent,
                          {"reason": "不学了"}).body
    assert (asked["lessons"], asked["amount_fen"]) == (1, PRICE)
    assert withdraw(platform, shop, taught[1]).status == 200
    approved = platform.post(f"/v1/refund-requests/{asked['refund_id']}/approve", shop.staff, {})
    assert (approved.body["lessons"], approved.body["amount_fen"]) == (2, 2 * PRICE)
    platform.settle_everything()
    closed = flows.order_of(platform, fam.parent, order["order_id"])
    assert (closed["status"], closed["released_fen"], closed["refunded_fen"]) == (
        "completed", PRICE, 2 * PRICE)
    platform.check()


def test_only_the_lessons_institution_withdraws_or_answers_and_only_what_is_open(
    platform: Platform,
) -> None:
    shop, fam, _, consumption_id = disputed_lesson(platform)
    other = flows.open_shop(platform, price=PRICE)
    assert withdraw(platform, other, consumption_id).status == 404
    assert platform.post(f"/v1/consumptions/{consumption_id}/uphold", other.staff,
                         {"note": "x"}).status == 404
    parent = platform.post(f"/v1/consumptions/{consumption_id}/withdraw", fam.parent,
                           {"reason": "x"})
    assert parent.status == 403
    bare = withdraw(platform, shop, consumption_id, reason="  ")
    assert (bare.status, bare.code) == (400, "validation_error")
    missing = withdraw(platform, shop, "con_" + "0" * 26)
    assert (missing.status, missing.code) == (404, "consumption_not_found")
    flows.confirm(platform, fam, consumption_id)
    confirmed = withdraw(platform, shop, consumption_id)
    assert (confirmed.status, confirmed.code) == (409, "consumption_not_withdrawable")
    answered = platform.post(f"/v1/consumptions/{consumption_id}/uphold", shop.staff,
                             {"note": "x"})
    assert (answered.status, answered.code) == (409, "consumption_not_disputed")
    platform.check()


def _after_read(monkeypatch: pytest.MonkeyPatch, nth: int, racer: Callable[[], None]) -> None:
    """The `nth` read of a consumption returns, then `racer` commits (a racing writer)."""
    real = DynamoStore.consumption
    left = [nth]

    def read(self: DynamoStore, consumption_id: str) -> Any:
        found = real(self, consumption_id)
        left[0] -= 1
        if left[0] == 0:
            racer()
        return found

    monkeypatch.setattr(DynamoStore, "consumption", read)


def test_an_answer_racing_the_escalation_is_kept_and_the_dispute_escalated(
    platform: Platform, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Found in review: both rewrote the whole lesson from their own read, so the one that
    committed second erased the other's change (the note, or the escalation)."""
    shop, _, _, consumption_id = disputed_lesson(platform)
    platform.clock.set(PAST_ANSWER_BY)

    def answer() -> None:
        upheld = platform.post(f"/v1/consumptions/{consumption_id}/uphold", shop.staff,
                               {"note": "有签到表"})
        assert upheld.status == 200, upheld.body

    _after_read(monkeypatch, 1, answer)  # the escalation read it, then the answer committed
    platform.run_schedule("auto_confirm")
    monkeypatch.undo()
    platform.run_schedule("auto_confirm")  # the escalation lost the race: the next run
    [seen] = platform.get("/v1/regulator/disputes", flows.regulator(platform)).body["items"]
    assert (seen["institution_note"], seen["escalated_at"] is not None) == ("有签到表", True)

    _after_read(monkeypatch, 2, lambda: None)  # and an answer after it keeps it escalated
    again = platform.post(f"/v1/consumptions/{consumption_id}/uphold", shop.staff,
                          {"note": "另附照片"})
    assert again.status == 200 and again.body["escalated_at"] is not None
    platform.check()


def test_an_answer_whose_read_predates_the_escalation_keeps_it(
    platform: Platform, monkeypatch: pytest.MonkeyPatch,
) -> None:
    shop, _, _, consumption_id = disputed_lesson(platform)
    platform.clock.set(PAST_ANSWER_BY)
    _after_read(monkeypatch, 2, lambda: platform.run_schedule("auto_confirm"))
    upheld = platform.post(f"/v1/consumptions/{consumption_id}/uphold", shop.staff,
                           {"note": "有签到表"})
    assert upheld.status == 200, upheld.body
    assert upheld.body["escalated_at"] is not None  # read again after losing, not undone
    listed = platform.get("/v1/regulator/disputes", flows.regulator(platform)).body["items"]
    assert [c["institution_note"] for c in listed] == ["有签到表"]


def test_a_regulator_decides_only_a_lesson_whose_dispute_was_escalated(
    platform: Platform,
) -> None:
    _, fam, _, consumption_id = taught_once(platform)
    flows.confirm(platform, fam, consumption_id)
    for outcome in ("release", "return"):
        decided = platform.post(f"/v1/regulator/consumptions/{consumption_id}/decide",
                                flows.regulator(platform), {"outcome": outcome, "reason": "裁决"})
        assert (decided.status, decided.code) == (409, "dispute_not_escalated")
