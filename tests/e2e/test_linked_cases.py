"""A refund rejection the parent escalates and a dispute left open become complaint cases
linked to their order; the department's decision on the case moves the money through the
existing paths, and a decision taken on the regulators' refund or dispute routes closes the
case too."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from chalicelib.service.complaints import case_decisions
from tests.e2e.test_complaints import (
    CULTURE_CITY,
    CULTURE_COUNTY,
    at,
    case,
    events,
    regulator,
    run_out,
)
from tests.e2e.test_disputes import PAST_ANSWER_BY, disputed_lesson
from tests.e2e.test_refund_escalation import escalate, rejected
from tests.e2e.test_refunds import PRICE
from tests.support import flows
from tests.support.harness import Platform


def linked_case(p: Platform, who: dict[str, str], linked_id: str) -> dict[str, Any]:
    return case(p, who, "cmp_" + linked_id.split("_", 1)[1])


def dispute_case(p: Platform) -> tuple[flows.Family, dict[str, Any], str]:
    """A lesson disputed and left open past its answer-by day: escalated, its case routed."""
    _shop, fam, order, consumption_id = disputed_lesson(p, lessons=2)
    p.clock.set(PAST_ANSWER_BY)
    p.run_schedule("auto_confirm")
    p.drain_complaints()
    return fam, order, consumption_id


def refund_case(p: Platform, *, routed: bool = True
                ) -> tuple[flows.Family, dict[str, Any], str]:
    """A refund request rejected and escalated by the parent (its case routed, unless not
    `routed`)."""
    _shop, fam, order, refund_id = rejected(p)
    assert escalate(p, fam, refund_id).status == 200
    if routed:
        p.drain_complaints()
    return fam, order, refund_id


def test_an_escalated_refund_becomes_a_case_whose_decision_pays_the_parent(
    platform: Platform,
) -> None:
    p = platform
    fam, order, refund_id = refund_case(p)
    county = regulator(p, CULTURE_COUNTY)
    opened = linked_case(p, county, refund_id)
    assert (opened["source"], opened["category"], opened["stage"], opened["order_id"],
            opened["refund_id"]) == ("refund_escalation", "refund", "department",
                                     order["order_id"], refund_id)
    assert events(p, county, opened["complaint_id"]) == ["case_assigned"]
    complaint_id = opened["complaint_id"]

    vague = p.post(f"/v1/regulator/complaints/{complaint_id}/resolve", county,
                   {"outcome": "已处理"})
    assert (vague.status, vague.code) == (400, "decision_required")
    wrong = p.post(f"/v1/regulator/complaints/{complaint_id}/resolve", county,
                   {"outcome": "已处理", "decision": "release_lesson"})
    assert (wrong.status, wrong.code) == (400, "decision_required")
    ordered = p.post(f"/v1/regulator/complaints/{complaint_id}/resolve", county,
                     {"outcome": "机构拒绝退款理由不成立，责令退款", "decision": "order_refund"})
    assert ordered.status == 200, ordered.body
    assert (ordered.body["stage"], ordered.body["decision"]) == ("resolved", "order_refund")
    refund = p.get(f"/v1/refund-requests/{refund_id}", fam.parent).body
    assert (refund["status"], refund["approved_by"]) == ("refunding", "regulator")
    replay = p.post(f"/v1/regulator/complaints/{complaint_id}/resolve", county,
                    {"outcome": "机构拒绝退款理由不成立，责令退款", "decision": "order_refund"})
    assert (replay.status, replay.body["stage"]) == (200, "resolved")  # nothing moves twice
    p.settle_everything()
    paid = flows.order_of(p, fam.parent, order["order_id"])
    assert paid["refunded_fen"] == refund["amount_fen"] == 2 * PRICE
    p.check()


def test_a_refund_dismissed_on_the_refund_route_closes_its_case(platform: Platform) -> None:
    p = platform
    fam, _order, refund_id = refund_case(p)
    county = regulator(p, CULTURE_COUNTY)
    dismissed = p.post(f"/v1/regulator/refund-requests/{refund_id}/dismiss", county,
                       {"reason": "机构按合同执行"})
    assert dismissed.status == 200, dismissed.body
    closed = linked_case(p, fam.parent, refund_id)
    assert (closed["stage"], closed["decision"]) == ("resolved", "dismiss_refund")
    assert [s["action"] for s in closed["timeline"]] == ["filed", "routed", "resolved"]


def test_a_dispute_left_open_becomes_a_case_whose_decision_returns_the_lesson(
    platform: Platform,
) -> None:
    p = platform
    fam, order, consumption_id = dispute_case(p)
    county = regulator(p, CULTURE_COUNTY)
    opened = linked_case(p, county, consumption_id)
    assert (opened["source"], opened["stage"], opened["consumption_id"]) == (
        "dispute_escalation", "department", consumption_id)
    assert p.get(f"/v1/complaints/{opened['complaint_id']}", fam.parent).status == 200
    returned = p.post(f"/v1/regulator/complaints/{opened['complaint_id']}/resolve", county,
                      {"outcome": "机构无法证明已上课", "decision": "return_lesson"})
    assert returned.status == 200, returned.body
    lesson = p.get("/v1/consumptions?status=withdrawn", fam.parent).body["items"]
    assert [(c["consumption_id"], c["withdrawn_by"]) for c in lesson] == [
        (consumption_id, "regulator")]
    back = flows.order_of(p, fam.parent, order["order_id"])
    assert (back["lessons_remaining"], back["open_disputes"]) == (2, 0)
    p.check()


def test_a_dispute_the_parent_settles_meanwhile_closes_its_case_on_the_clock(
    platform: Platform,
) -> None:
    p = platform
    fam, _order, consumption_id = dispute_case(p)
    confirmed = p.post(f"/v1/consumptions/{consumption_id}/confirm", fam.parent)
    assert confirmed.status == 200, confirmed.body
    complaint_id = linked_case(p, fam.parent, consumption_id)["complaint_id"]
    due_on = case(p, fam.parent, complaint_id)["due_on"]
    p.clock.set(PAST_ANSWER_BY.replace(day=int(due_on[-2:]), month=int(due_on[5:7])))
    p.run_schedule("auto_confirm")  # the department's due day begins: settled, so resolved
    closed = case(p, fam.parent, complaint_id)
    assert (closed["stage"], closed["decision"]) == ("resolved", None)


def test_a_decision_taken_before_routing_closes_the_case_once_routed(
    platform: Platform,
) -> None:
    p = platform
    fam, _order, refund_id = refund_case(p, routed=False)
    county = regulator(p, CULTURE_COUNTY)
    dismissed = p.post(f"/v1/regulator/refund-requests/{refund_id}/dismiss", county,
                       {"reason": "机构按合同执行"})  # before the complaint worker ran
    assert dismissed.status == 200, dismissed.body
    p.drain_complaints()
    closed = linked_case(p, fam.parent, refund_id)
    assert (closed["stage"], closed["decision"]) == ("resolved", "dismiss_refund")
    assert events(p, county, closed["complaint_id"]) == []  # no work to be told of
    assert p.get("/v1/regulator/complaints?stage=department", county).body["items"] == []


def test_only_the_department_holding_a_linked_case_decides_it_on_any_route(
    platform: Platform,
) -> None:
    p = platform
    fam, _order, refund_id = refund_case(p)
    complaint_id = linked_case(p, fam.parent, refund_id)["complaint_id"]
    run_out(p, fam.parent, complaint_id)  # up to the city
    county, city = regulator(p, CULTURE_COUNTY), regulator(p, CULTURE_CITY)
    assert case(p, city, complaint_id)["region"] == "440100"
    for path, body in (
        (f"/v1/regulator/complaints/{complaint_id}/resolve",
         {"outcome": "驳回", "decision": "dismiss_refund"}),
        (f"/v1/regulator/refund-requests/{refund_id}/dismiss", {"reason": "驳回"}),
    ):
        tried = p.post(path, county, body)
        assert (tried.status, tried.code) == (403, "not_case_holder"), (path, tried.body)
    assert p.get(f"/v1/refund-requests/{refund_id}", fam.parent).body["status"] == "escalated"
    decided = p.post(f"/v1/regulator/refund-requests/{refund_id}/order", city,
                     {"reason": "机构无正当理由拒绝退款"})
    assert decided.status == 200, decided.body
    closed = case(p, city, complaint_id)
    last = closed["timeline"][-1]
    assert (closed["stage"], closed["decision"], last["actor"], last["reason"]) == (
        "resolved", "order_refund", "regulator:reg-gz-culture", "机构无正当理由拒绝退款")


def test_a_linked_case_left_overdue_at_the_province_closes_once_its_money_is_settled(
    platform: Platform,
) -> None:
    p = platform
    fam, _order, consumption_id = dispute_case(p)
    complaint_id = linked_case(p, fam.parent, consumption_id)["complaint_id"]
    for _ in range(2):  # county, city: each lets its 13 working days pass
        run_out(p, fam.parent, complaint_id)
    top = run_out(p, fam.parent, complaint_id)  # and the province
    assert (top["region"], top["timeline"][-1]["action"]) == ("440000", "overdue_at_top")
    confirmed = p.post(f"/v1/consumptions/{consumption_id}/confirm", fam.parent)
    assert confirmed.status == 200, confirmed.body
    at(p, p.clock.now() + timedelta(days=1, minutes=5))  # the daily look
    closed = case(p, fam.parent, complaint_id)
    assert (closed["stage"], closed["decision"]) == ("resolved", None)


def test_a_resolution_whose_case_closed_while_its_money_moved_answers_as_resolved(
    platform: Platform, monkeypatch: pytest.MonkeyPatch,
) -> None:
    p = platform
    fam, _order, refund_id = refund_case(p)
    complaint_id = linked_case(p, fam.parent, refund_id)["complaint_id"]
    moving = case_decisions.move_money

    def and_the_clock_looks(ctx: Any, before: Any, *args: Any) -> None:
        moving(ctx, before, *args)
        case_decisions.close_if_settled(ctx, before.complaint_id)  # the clock, meanwhile

    monkeypatch.setattr(case_decisions, "move_money", and_the_clock_looks)
    done = p.post(f"/v1/regulator/complaints/{complaint_id}/resolve",
                  regulator(p, CULTURE_COUNTY),
                  {"outcome": "机构拒绝理由不成立，责令退款", "decision": "order_refund"})
    assert (done.status, done.body["stage"], done.body["decision"]) == (
        200, "resolved", "order_refund")
