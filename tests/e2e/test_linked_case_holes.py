"""The holes suspected in linked cases, each settled: a case records only a decision that
happened; only the department holding a linked case (or the one routing will give it to)
moves its money; the holder after a transfer reads the refund or lesson it must decide."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib import bootstrap
from chalicelib.domain.institutions.catalog import Department
from chalicelib.service.caller import Caller, Role
from chalicelib.service.complaints import complaint_steps
from chalicelib.service.refunds import refunds
from tests.e2e.test_complaints import CULTURE_COUNTY, regulator
from tests.e2e.test_linked_cases import dispute_case, linked_case, refund_case
from tests.e2e.test_liquidation import liquidate, run_liquidation
from tests.support import flows
from tests.support.harness import Platform

YUEXIU_EDUCATION = {"sub": "reg-yx-edu", "region": "440104", "department": "education"}
CITY_EDUCATION = {"sub": "reg-gz-edu", "region": "440100", "department": "education"}


def test_a_case_resolved_after_a_liquidation_refunded_its_order_records_no_decision(
    platform: Platform,
) -> None:
    p = platform
    fam, order, refund_id = refund_case(p)
    assert liquidate(p, order["institution_id"]).status == 200
    p.drain_sweeps()
    run_liquidation(p)
    refund = p.get(f"/v1/refund-requests/{refund_id}", fam.parent).body
    assert refund["approved_by"] == "liquidation", refund
    complaint_id = linked_case(p, fam.parent, refund_id)["complaint_id"]
    resolved = p.post(f"/v1/regulator/complaints/{complaint_id}/resolve",
                      regulator(p, CULTURE_COUNTY),
                      {"outcome": "机构拒绝退款理由不成立，责令退款", "decision": "order_refund"})
    assert resolved.status == 200, resolved.body
    assert (resolved.body["stage"], resolved.body["decision"]) == ("resolved", None)
    after = p.get(f"/v1/refund-requests/{refund_id}", fam.parent).body
    assert (after["approved_by"], after["regulator_reason"]) == ("liquidation", "")
    p.settle_everything()
    p.check()


def test_a_case_resolved_after_the_parent_accepted_the_lesson_records_no_decision(
    platform: Platform,
) -> None:
    p = platform
    fam, _order, consumption_id = dispute_case(p)
    assert p.post(f"/v1/consumptions/{consumption_id}/confirm", fam.parent).status == 200
    complaint_id = linked_case(p, fam.parent, consumption_id)["complaint_id"]
    resolved = p.post(f"/v1/regulator/complaints/{complaint_id}/resolve",
                      regulator(p, CULTURE_COUNTY),
                      {"outcome": "核查属实，课已上", "decision": "release_lesson"})
    assert resolved.status == 200, resolved.body
    assert (resolved.body["stage"], resolved.body["decision"]) == ("resolved", None)


def test_before_routing_only_the_department_routing_will_give_it_to_decides(
    platform: Platform,
) -> None:
    p = platform
    fam, _order, refund_id = refund_case(p, routed=False)
    coordinator = regulator(p, CITY_EDUCATION)  # sees arts institutions, does not decide
    tried = p.post(f"/v1/regulator/refund-requests/{refund_id}/order", coordinator,
                   {"reason": "越级决定"})
    assert (tried.status, tried.code) == (403, "not_case_holder"), tried.body
    assert p.get(f"/v1/refund-requests/{refund_id}", fam.parent).body["status"] == "escalated"
    ordered = p.post(f"/v1/regulator/refund-requests/{refund_id}/order",
                     regulator(p, CULTURE_COUNTY), {"reason": "机构拒绝理由不成立"})
    assert ordered.status == 200, ordered.body
    p.drain_complaints()  # routed: decided already, so closed
    closed = linked_case(p, fam.parent, refund_id)
    assert (closed["stage"], closed["decision"], closed["department"]) == (
        "resolved", "order_refund", "culture")


def transferred_to_yuexiu_education(p: Platform, fam: flows.Family, linked_id: str
                                     ) -> tuple[dict[str, str], dict[str, str]]:
    """The county's culture office transfers the linked case to education in another
    county (which does not supervise the institution): (the old holder, the new one)."""
    complaint_id = linked_case(p, fam.parent, linked_id)["complaint_id"]
    county = regulator(p, CULTURE_COUNTY)
    moved = p.post(f"/v1/regulator/complaints/{complaint_id}/transfer", county,
                   {"department": "education", "region_code": "440104",
                    "reason": "移交越秀区教育局"})
    assert moved.status == 200, moved.body
    return county, regulator(p, YUEXIU_EDUCATION)


def test_after_a_transfer_the_new_holder_reads_and_decides_the_refund(
    platform: Platform,
) -> None:
    p = platform
    fam, _order, refund_id = refund_case(p)
    county, holder = transferred_to_yuexiu_education(p, fam, refund_id)
    read = p.get(f"/v1/refund-requests/{refund_id}", holder)
    assert (read.status, read.body.get("status")) == (200, "escalated"), read.body
    old = p.post(f"/v1/regulator/refund-requests/{refund_id}/order", county, {"reason": "x"})
    assert (old.status, old.code) == (403, "not_case_holder")
    ordered = p.post(f"/v1/regulator/refund-requests/{refund_id}/order", holder,
                     {"reason": "机构拒绝理由不成立"})
    assert ordered.status == 200, ordered.body
    stranger = regulator(p, {"sub": "reg-hz-edu", "region": "440105",
                             "department": "education"})
    assert p.get(f"/v1/refund-requests/{refund_id}", stranger).status == 404


def test_after_a_transfer_the_new_holder_reads_and_decides_the_lesson(
    platform: Platform,
) -> None:
    p = platform
    fam, _order, consumption_id = dispute_case(p)
    _, holder = transferred_to_yuexiu_education(p, fam, consumption_id)
    lesson = p.get(f"/v1/regulator/consumptions/{consumption_id}", holder)
    assert (lesson.status, lesson.body.get("status")) == (200, "disputed"), lesson.body
    assert lesson.body["dispute_reason"]
    supervisor = flows.competent(p)  # culture at the province supervises the institution
    assert p.get(f"/v1/regulator/consumptions/{consumption_id}", supervisor).status == 200
    stranger = regulator(p, {"sub": "reg-hz-edu", "region": "440105",
                             "department": "education"})
    unseen = p.get(f"/v1/regulator/consumptions/{consumption_id}", stranger)
    assert (unseen.status, unseen.code) == (404, "consumption_not_found")
    returned = p.post(f"/v1/regulator/consumptions/{consumption_id}/decide", holder,
                      {"outcome": "return", "reason": "机构无法证明已上课"})
    assert returned.status == 200, returned.body
    assert returned.body["withdrawn_by"] == "regulator"


def transferred_before_the_money_moves(p: Platform, monkeypatch: pytest.MonkeyPatch,
                                       complaint_id: str) -> None:
    """The county's culture office transfers the case to education just before a refund
    it is ordering is written (between the holder's check and the money's transaction)."""
    approving = refunds.approve_pending

    def transferred_first(*args: Any, **kwargs: Any) -> Any:
        monkeypatch.setattr(refunds, "approve_pending", approving)
        county = Caller(sub="reg-th-culture", role=Role.REGULATOR, region="440106",
                        department=Department.CULTURE)
        complaint_steps.transfer(bootstrap.context(), county, complaint_id,
                                 department=Department.EDUCATION, region=None,
                                 reason="涉及学科类培训")
        return approving(*args, **kwargs)

    monkeypatch.setattr(refunds, "approve_pending", transferred_first)


@pytest.mark.parametrize("route", ["refund", "case"])
def test_a_decision_that_loses_its_case_to_a_transfer_moves_no_money(
    platform: Platform, monkeypatch: pytest.MonkeyPatch, route: str,
) -> None:
    p = platform
    fam, _order, refund_id = refund_case(p)
    complaint_id = linked_case(p, fam.parent, refund_id)["complaint_id"]
    transferred_before_the_money_moves(p, monkeypatch, complaint_id)
    path, body = ((f"/v1/regulator/refund-requests/{refund_id}/order", {"reason": "责令退款"})
                  if route == "refund" else
                  (f"/v1/regulator/complaints/{complaint_id}/resolve",
                   {"outcome": "责令退款", "decision": "order_refund"}))
    late = p.post(path, regulator(p, CULTURE_COUNTY), body)
    assert (late.status, late.code) == (409, "complaint_moved"), late.body
    assert p.get(f"/v1/refund-requests/{refund_id}", fam.parent).body["status"] == "escalated"
    moved = linked_case(p, fam.parent, refund_id)
    assert (moved["stage"], moved["department"], moved["decision"]) == (
        "department", "education", None)
    p.check()
