"""Cases cannot dodge their deadlines: a transfer goes only to a region the platform knows,
keeps the case's due date (the receiving office gets at least a few working days, once per
clock), never buys the office that handed a case down a new clock, counts against the
timeline's limit, and only the department holding a case writes on it."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib import bootstrap
from chalicelib.service.complaints import complaint_clock, complaint_steps, complaints
from tests.e2e.test_complaints import (
    CULTURE_CITY,
    CULTURE_COUNTY,
    CULTURE_PROVINCE,
    at,
    case,
    day_start,
    file,
    institution,
    regulator,
    run_out,
)
from tests.support.harness import Platform, Reply

EDUCATION_COUNTY = {"sub": "reg-th-edu", "region": "440106", "department": "education"}


def department_case(p: Platform, name: str) -> str:
    """A safety report (it skips the institution): routed to culture at 440106, due by the
    end of 2026-03-19 (13 working days from Monday 2 March)."""
    institution_id, _ = institution(p)
    complaint_id = str(file(p, p.token(name, "parent"), institution_id,
                            category="safety")["complaint_id"])
    p.drain_complaints()
    return complaint_id


def transfer(p: Platform, who: dict[str, str], complaint_id: str, **target: str) -> Reply:
    return p.post(f"/v1/regulator/complaints/{complaint_id}/transfer", who,
                  {**target, "reason": "职责划分"})


def held(reply: Reply) -> tuple[Any, ...]:
    assert reply.status == 200, reply.body
    return reply.body["department"], reply.body["region"], reply.body["due_on"]


@pytest.mark.parametrize("region", ["449999", "440199", "449900", "440190", "110100"])
def test_a_transfer_to_a_region_the_platform_does_not_know_is_refused(
    platform: Platform, region: str,
) -> None:
    p = platform
    complaint_id = department_case(p, f"parent-unknown-{region}")
    county = regulator(p, CULTURE_COUNTY)
    before = case(p, county, complaint_id)
    refused = transfer(p, county, complaint_id, region_code=region)
    expected = "transfer_outside_province" if region[:2] != "44" else "region_unknown"
    assert (refused.status, refused.code) == (422, expected), refused.body
    assert case(p, county, complaint_id) == before


def test_a_transfer_to_a_known_city_province_or_county_is_taken(platform: Platform) -> None:
    p = platform
    complaint_id = department_case(p, "parent-known")
    county, city = regulator(p, CULTURE_COUNTY), regulator(p, CULTURE_CITY)
    assert held(transfer(p, county, complaint_id, region_code="440100"))[1] == "440100"
    assert held(transfer(p, city, complaint_id, region_code="440305"))[1] == "440305"
    shenzhen = regulator(p, {"sub": "reg-sz-culture", "region": "440300",
                             "department": "culture"})
    assert held(transfer(p, shenzhen, complaint_id, region_code="440000"))[1] == "440000"


def test_a_transfer_keeps_the_due_date_and_a_loop_of_transfers_gains_nothing(
    platform: Platform,
) -> None:
    p = platform
    complaint_id = department_case(p, "parent-loop")
    culture, education = regulator(p, CULTURE_COUNTY), regulator(p, EDUCATION_COUNTY)
    assert case(p, culture, complaint_id)["due_on"] == "2026-03-19"
    at(p, day_start("2026-03-09T10:00"))  # a week later: 8 working days left
    for who, department in ((culture, "education"), (education, "culture")) * 2:
        moved = held(transfer(p, who, complaint_id, department=department))
        assert moved == (department, "440106", "2026-03-19")

    at(p, day_start("2026-03-19T09:00"))  # the due day: the floor, once
    floored = held(transfer(p, culture, complaint_id, department="education"))
    assert floored == ("education", "440106", "2026-03-24")  # Fri 20, Mon 23, Tue 24
    back = held(transfer(p, education, complaint_id, department="culture"))
    assert back == ("culture", "440106", "2026-03-24")  # no second floor
    again = held(transfer(p, culture, complaint_id, department="education"))
    assert again == ("education", "440106", "2026-03-24")

    escalated = run_out(p, regulator(p, {"sub": "reg-gz-edu", "region": "440100",
                                         "department": "education"}), complaint_id)
    assert (escalated["department"], escalated["region"], escalated["escalations"]) == (
        "education", "440100", 1)
    actions = [s["action"] for s in escalated["timeline"]]
    assert actions.count("transferred") == 7 and actions[-1] == "escalated"


def test_an_overdue_case_transferred_is_still_overdue_unless_the_floor_is_left(
    platform: Platform,
) -> None:
    p = platform
    complaint_id = department_case(p, "parent-overdue")
    culture, education = regulator(p, CULTURE_COUNTY), regulator(p, EDUCATION_COUNTY)
    at(p, day_start("2026-03-19T09:00"))
    held(transfer(p, culture, complaint_id, department="education"))  # the floor: 24 March
    held(transfer(p, education, complaint_id, department="culture"))
    at(p, day_start("2026-03-24T09:00"))
    last = held(transfer(p, culture, complaint_id, department="education"))
    assert last == ("education", "440106", "2026-03-24")
    p.advance(hours=16)  # 25 March, 01:00: the clock runs out at the new holder
    p.run_schedule("auto_confirm")
    up = case(p, regulator(p, {"sub": "reg-gz-edu", "region": "440100",
                                "department": "education"}), complaint_id)
    assert (up["region"], up["escalations"], up["flagged"]) == ("440100", 1, True)


def test_a_case_handed_down_escalates_above_the_office_that_handed_it_down(
    platform: Platform,
) -> None:
    p = platform
    complaint_id = department_case(p, "parent-down")
    county, city, province = (regulator(p, c) for c in (CULTURE_COUNTY, CULTURE_CITY,
                                                          CULTURE_PROVINCE))
    at_city = run_out(p, city, complaint_id)
    assert (at_city["region"], at_city["escalations"], at_city["due_on"]) == (
        "440100", 1, "2026-04-09")
    down = held(transfer(p, city, complaint_id, region_code="440104"))
    assert down == ("culture", "440104", "2026-04-09")  # the city's own clock goes with it
    up = run_out(p, province, complaint_id)
    assert (up["region"], up["escalations"]) == ("440000", 2)  # not back to the city
    refused = p.post(f"/v1/regulator/complaints/{complaint_id}/notes", county, {"text": "跟进"})
    assert (refused.status, refused.code) == (403, "not_case_holder")


def test_a_case_handed_down_by_the_province_comes_back_to_it_overdue(
    platform: Platform,
) -> None:
    p = platform
    complaint_id = department_case(p, "parent-top")
    province = regulator(p, CULTURE_PROVINCE)
    run_out(p, province, complaint_id)
    top = run_out(p, province, complaint_id)
    assert (top["region"], top["escalations"]) == ("440000", 2)
    down = held(transfer(p, province, complaint_id, region_code="440106"))
    assert down[1:] == ("440106", top["due_on"])
    back = run_out(p, province, complaint_id)
    assert (back["region"], back["flagged"], back["sla"]) == ("440000", True, "overdue")
    assert back["timeline"][-1]["action"] == "overdue_at_top"


def test_transfers_count_against_the_timeline_limit_as_notes_do(
    platform: Platform, monkeypatch: pytest.MonkeyPatch,
) -> None:
    p = platform
    complaint_id = department_case(p, "parent-full")  # filed, routed: two steps
    monkeypatch.setattr(complaint_steps, "MAX_STEPS", 4)
    culture, education = regulator(p, CULTURE_COUNTY), regulator(p, EDUCATION_COUNTY)
    assert p.post(f"/v1/regulator/complaints/{complaint_id}/notes", culture,
                  {"text": "已电话联系"}).status == 200
    held(transfer(p, culture, complaint_id, department="education"))  # the fourth step
    before = case(p, education, complaint_id)
    full = transfer(p, education, complaint_id, department="culture")
    assert (full.status, full.code) == (409, "complaint_timeline_full")
    note = p.post(f"/v1/regulator/complaints/{complaint_id}/notes", education, {"text": "x"})
    assert (note.status, note.code) == (409, "complaint_timeline_full")
    assert case(p, education, complaint_id) == before
    resolved = p.post(f"/v1/regulator/complaints/{complaint_id}/resolve", education,
                      {"outcome": "已核查处理"})
    assert (resolved.status, resolved.body["stage"]) == (200, "resolved")


def test_only_the_department_holding_a_case_writes_on_it(platform: Platform) -> None:
    p = platform
    complaint_id = department_case(p, "parent-holder")
    culture, education = regulator(p, CULTURE_COUNTY), regulator(p, EDUCATION_COUNTY)
    held(transfer(p, culture, complaint_id, department="education", region_code="440104"))
    for action, body in (("notes", {"text": "x"}), ("resolve", {"outcome": "x"}),
                         ("transfer", {"department": "culture", "reason": "x"})):
        for who in (culture, education):  # the old holder, and the county it left
            tried = p.post(f"/v1/regulator/complaints/{complaint_id}/{action}", who, body)
            assert tried.status in (403, 404), (action, tried.body)
    assert case(p, regulator(p, {"sub": "reg-yx-edu", "region": "440104",
                                 "department": "education"}), complaint_id)["timeline"][
        -1]["action"] == "transferred"


def test_a_transfer_read_before_an_escalation_never_takes_the_case_back_down(
    platform: Platform, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The city steps in on its county's case without naming a region (the department
    changes, the region stays); the clock escalates the case to the city between the
    transfer's read and its write: the transfer applies to the case as it is then."""
    p = platform
    complaint_id = department_case(p, "parent-stale")
    p.clock.set(day_start("2026-03-20T00:01"))  # the county's clock has run out
    reading = complaints.held

    def and_the_clock_escalates(*args: Any) -> Any:
        found = reading(*args)
        assert complaint_clock.tick(bootstrap.context(), complaint_id)
        return found

    monkeypatch.setattr(complaints, "held", and_the_clock_escalates)
    moved = held(transfer(p, regulator(p, CULTURE_CITY), complaint_id, department="education"))
    assert moved[:2] == ("education", "440100")  # not back at the county
    after = case(p, regulator(p, CULTURE_PROVINCE | {"department": "education"}), complaint_id)
    assert after["escalations"] == 1
    assert [s["action"] for s in after["timeline"]][-2:] == ["escalated", "transferred"]
