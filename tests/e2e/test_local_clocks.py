"""Local policy governs local clocks: every deadline reads the policy of the institution's own
region, its county's rules, else its city's, else its province's. The province here is the
test policy tests/support/policies/44.json (loaded as POLICY_FILE would load it): Shenzhen
(4403) confirms lessons after 20 working days and gives institutions 7 to decide a refund,
its Nanshan district (440305) only 3; Guangzhou's Yuexiu district (440104) has its own
confirmation, refund, dispute and complaint clocks; Guangzhou's Tianhe district (440106)
and the rest of the province keep the national defaults."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from chalicelib import bootstrap
from tests.support import flows
from tests.support.harness import Platform

SHANGHAI = ZoneInfo("Asia/Shanghai")
LOCAL_CLOCKS = Path(__file__).parents[1] / "support" / "policies" / "44.json"
# The clock starts on Monday 2 March 2026, 09:00: working days from it, without holidays,
# 3 -> Thu 5 March, 5 -> Mon 9, 7 -> Wed 11, 10 -> Mon 16, 15 -> Mon 23, 20 -> Mon 30.


@pytest.fixture
def p(platform: Platform) -> Iterator[Platform]:
    runtime = bootstrap.runtime()
    book = bootstrap.policies(str(LOCAL_CLOCKS))
    bootstrap.use(replace(runtime, context=replace(runtime.context, policies=book)))
    yield platform


def at(p: Platform, moment: str) -> None:
    """Move the clock on to a Beijing time, then run the working-day schedules."""
    p.clock.set(datetime.fromisoformat(moment).replace(tzinfo=SHANGHAI))
    p.run_schedule("auto_confirm")
    p.settle_everything()


def shop_with_order(p: Platform, region: str) -> tuple[flows.Shop, flows.Family, str]:
    shop = flows.open_shop(p, region=region)
    fam = flows.family(p)
    return shop, fam, flows.buy_and_pay(p, shop, fam, lessons=4)["order_id"]


def lesson_of(p: Platform, fam: flows.Family, consumption_id: str) -> dict[str, object]:
    listed = p.get("/v1/consumptions?limit=100", fam.parent).body["items"]
    return next(c for c in listed if c["consumption_id"] == consumption_id)


def test_a_lesson_gets_the_confirmation_window_of_its_institutions_region(p: Platform) -> None:
    expected = {"440304": "2026-03-30",  # Shenzhen's 20 working days: its county has none
                "440305": "2026-03-30",  # its county changes the refund clock only
                "440104": "2026-03-30",  # a county's own 20
                "440106": "2026-03-23"}  # no county or city rules: the province's 15
    recorded = {}
    for region, confirm_by in expected.items():
        shop, fam, order_id = shop_with_order(p, region)
        lesson = flows.record_lesson(p, shop, [order_id])["consumptions"][0]
        assert (region, lesson["confirm_by"]) == (region, confirm_by)
        recorded[region] = (fam, lesson["consumption_id"])
    at(p, "2026-03-24T00:05")
    statuses = {region: lesson_of(p, fam, con)["status"] for region, (fam, con) in
                recorded.items()}
    assert statuses == {"440304": "pending_confirmation", "440305": "pending_confirmation",
                        "440104": "pending_confirmation", "440106": "released"}
    at(p, "2026-03-31T00:05")
    assert {lesson_of(p, fam, con)["status"] for fam, con in recorded.values()} == {"released"}
    p.check()


def test_the_refund_clocks_are_the_countys_over_the_citys_over_the_provinces(
    p: Platform,
) -> None:
    expected = {"440305": ("2026-03-05", "2026-03-17"),  # its county's 3 days
                "440304": ("2026-03-11", "2026-03-17"),  # its city's 7
                "440104": ("2026-03-05", "2026-03-12"),  # a county's 3; payout in 10 days
                "440106": ("2026-03-09", "2026-03-17")}  # the province's 5; payout in 15
    asked = {}
    for region, (decide_by, payout_due) in expected.items():
        _, fam, order_id = shop_with_order(p, region)
        request = p.post(f"/v1/orders/{order_id}/refund-requests", fam.parent,
                         {"reason": "孩子转学了"})
        assert request.status == 201, request.body
        assert (region, request.body["decide_by"], request.body["payout_due"]) == (
            region, decide_by, payout_due)
        asked[region] = (fam, request.body["refund_id"])
    at(p, "2026-03-06T00:05")  # silence approves only the requests decided by 5 March
    statuses = {region: p.get(f"/v1/refund-requests/{refund_id}", fam.parent).body["status"]
                for region, (fam, refund_id) in asked.items()}
    assert statuses == {"440305": "refunded", "440304": "pending_decision",
                        "440104": "refunded", "440106": "pending_decision"}
    p.check()


def test_a_dispute_goes_to_the_regulator_after_its_regions_days(p: Platform) -> None:
    disputed = {}
    for region, answer_by in (("440104", "2026-03-11"), ("440106", "2026-03-16")):
        shop, fam, order_id = shop_with_order(p, region)
        lesson = flows.record_lesson(p, shop, [order_id])["consumptions"][0]
        reply = p.post(f"/v1/consumptions/{lesson['consumption_id']}/dispute", fam.parent,
                       {"reason": "老师没来"})
        assert (region, reply.status, reply.body["answer_by"]) == (region, 200, answer_by)
        disputed[region] = (fam, lesson["consumption_id"])
    at(p, "2026-03-12T00:05")
    escalated = {region: lesson_of(p, fam, con)["escalated_at"] is not None
                 for region, (fam, con) in disputed.items()}
    assert escalated == {"440104": True, "440106": False}
    p.check()


def test_a_complaints_clocks_are_those_of_its_institutions_region_wherever_it_is_held(
    p: Platform,
) -> None:
    parent = p.token("parent-local-clocks", "parent")
    cases = {}
    for region in ("440104", "440106"):
        shop = flows.open_shop(p, region=region)
        filed = p.post("/v1/complaints", parent, {
            "institution_id": shop.institution_id, "category": "teaching_quality",
            "text": "老师多次无故缺课"})
        assert filed.status == 201, filed.body
        cases[region] = (shop, filed.body["complaint_id"])
    p.drain_complaints()

    def due() -> dict[str, str]:
        return {region: p.get(f"/v1/complaints/{cid}", parent).body["due_on"]
                for region, (_, cid) in cases.items()}

    assert due() == {"440104": "2026-03-04", "440106": "2026-03-05"}  # answer in 2, or 3
    for shop, complaint_id in cases.values():
        answered = p.post(f"/v1/complaints/{complaint_id}/answer", shop.staff,
                          {"text": "已更换老师"})
        assert answered.status == 200, answered.body
    assert due() == {"440104": "2026-03-06", "440106": "2026-03-09"}  # parent: 4, or 5
    for _, complaint_id in cases.values():
        rejected = p.post(f"/v1/complaints/{complaint_id}/reject", parent, {"reason": "敷衍"})
        assert rejected.status == 200, rejected.body
    assert due() == {"440104": "2026-03-16", "440106": "2026-03-19"}  # department: 10, or 13
    at(p, "2026-03-17T00:01")  # Yuexiu's department let its 10 days pass: the city takes it
    yuexiu = p.get(f"/v1/complaints/{cases['440104'][1]}", parent).body
    # the city's clock is still Yuexiu's 10 days, from Tuesday 17 March
    assert (yuexiu["region"], yuexiu["escalations"], yuexiu["due_on"]) == (
        "440100", 1, "2026-03-31")


def test_a_deadline_is_never_counted_without_the_institutions_region(p: Platform) -> None:
    """There is no default region (the province's numbers would be wrong for a county with
    its own), and no region of another province."""
    ctx = bootstrap.context()
    assert ctx.policy("440104").auto_confirm_working_days == 20
    for region in ("", "110105"):
        with pytest.raises(ValueError):
            ctx.policy(region)
