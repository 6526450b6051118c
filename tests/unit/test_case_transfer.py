"""The pure rules of transfers and escalation levels (chalicelib/domain/complaints/case_transfer.py)
and the regions a case may be sent to (chalicelib/domain/regions.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from chalicelib.domain.complaints import case_transfer
from chalicelib.domain.complaints.complaint import Category, Clock, Complaint, Source, Stage
from chalicelib.domain.errors import RuleViolation
from chalicelib.domain.institutions.catalog import Department
from chalicelib.domain.regions import known_region

GUANGZHOU_AND_SHENZHEN = ("440104", "440106", "440305")


def held(region: str, highest: str = "", *, due: date | None = date(2026, 3, 19),
         floor_granted: bool = False) -> Complaint:
    return Complaint(
        complaint_id="cmp_1", source=Source.APP, category=Category.FEES, institution_id="ins_1",
        text="x", filed_by="p", filed_at=datetime(2026, 3, 2, tzinfo=UTC),
        stage=Stage.DEPARTMENT, version=3, department=Department.CULTURE,
        jurisdiction="440106", region=region, highest_region=highest, due_on=due,
        floor_granted=floor_granted)


@pytest.mark.parametrize(("code", "known"), [
    ("440000", True), ("440100", True), ("440300", True), ("441900", True),  # 东莞
    ("440106", True), ("440305", True),
    ("440199", False), ("449900", False), ("449999", False), ("440200", False),
    ("990000", False), ("44010", False), ("44010a", False),
    ("110100", False),  # a municipality has no city level
])
def test_the_regions_a_case_may_be_sent_to(code: str, known: bool) -> None:
    assert known_region(code, GUANGZHOU_AND_SHENZHEN) is known


def test_a_case_s_own_jurisdiction_and_the_levels_above_are_always_known() -> None:
    unlisted = replace(held("440203"), jurisdiction="440203")  # a city the policy lists not
    for region in ("440203", "440200", "440000"):
        case_transfer.check_target(region, unlisted, GUANGZHOU_AND_SHENZHEN)
    with pytest.raises(RuleViolation) as refused:
        case_transfer.check_target("440204", unlisted, GUANGZHOU_AND_SHENZHEN)
    assert refused.value.code == "region_unknown"
    with pytest.raises(RuleViolation) as away:
        case_transfer.check_target("110105", unlisted, GUANGZHOU_AND_SHENZHEN)
    assert away.value.code == "transfer_outside_province"


@pytest.mark.parametrize(("region", "highest", "target"), [
    ("440106", "440106", "440100"),  # county: its city
    ("440106", "", "440100"),  # a case from before the field: its region
    ("440104", "440100", "440000"),  # handed down by the city: above the city
    ("440305", "440100", "440000"),  # handed to another city's county: above the city
    ("440305", "440106", "440300"),  # sideways: the new county's city
    ("440100", "440100", "440000"),
    ("440106", "440000", None),  # handed down by the province: nobody above
    ("440000", "440000", None),
])
def test_an_overdue_case_escalates_above_the_highest_office_that_held_it(
    region: str, highest: str, target: str | None,
) -> None:
    assert case_transfer.escalation_target(held(region, highest)) == target


FLOOR = Clock(date(2026, 3, 24), estimated=False)


@pytest.mark.parametrize(("due", "floor_granted", "expected", "granted"), [
    (date(2026, 3, 30), False, date(2026, 3, 30), False),  # time enough: kept
    (date(2026, 3, 24), False, date(2026, 3, 24), False),  # exactly the floor: kept
    (date(2026, 3, 20), False, date(2026, 3, 24), True),  # too little: the floor, once
    (date(2026, 3, 20), True, date(2026, 3, 20), True),  # floor given before: kept
    (date(2026, 3, 10), True, date(2026, 3, 10), True),  # overdue, floor given: kept
])
def test_a_transfer_keeps_the_due_date_but_for_the_floor_once(
    due: date, floor_granted: bool, expected: date, granted: bool,
) -> None:
    before = held("440106", "440106", due=due, floor_granted=floor_granted)
    fields = case_transfer.transferred_clock(before, FLOOR)
    assert fields["due_on"] == expected and fields["reminded"] is False
    assert fields.get("floor_granted", before.floor_granted) is granted
