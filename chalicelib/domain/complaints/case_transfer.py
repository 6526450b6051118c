"""Transfers and escalation levels: no office dodges a case's deadline.

- A transfer goes to a department at a region the platform knows, in this province.
- **A transfer keeps the case's due date**: the receiving office inherits the time left,
  so passing a case between offices (of one department, or of two that agree) never moves
  its deadline later. One exception, the floor: when fewer than the policy's
  `complaint_transfer_floor_working_days` are left (or none), the receiving office gets that
  many from today, once per clock; later transfers under the same clock keep the date as it
  is, so a loop of transfers gains the floor at most once.
- **An overdue case escalates above the highest level that held it**: an office that hands
  a case down (the city to a county) hands down its own clock; when that clock runs out the
  case goes above the city, not back to the city with a new clock. A case the province
  handed down comes back to the province, overdue (nobody is above it).
"""

from __future__ import annotations

from collections.abc import Collection

from chalicelib.domain.complaints.complaint import Clock, Complaint, higher_region
from chalicelib.domain.errors import RuleViolation
from chalicelib.domain.regions import known_region


def level(region: str) -> int:
    """0 a county (or a county-level city), 1 a city, 2 a province."""
    if region.endswith("0000"):
        return 2
    return 1 if region.endswith("00") else 0


def higher_of(region: str, other: str) -> str:
    """`other` if it is of a higher level than `region`, else `region`."""
    return other if level(other) > level(region) else region


def escalation_origin(case: Complaint) -> str:
    """Where an overdue case escalates from: the region holding it, or the higher office
    that handed it down (whose clock the case still runs on)."""
    highest = case.highest_region
    return highest if highest and level(highest) > level(case.region) else case.region


def escalation_target(case: Complaint) -> str | None:
    """One level above `escalation_origin`; None above the province."""
    return higher_region(escalation_origin(case))


def check_target(region: str, case: Complaint, counties: Collection[str]) -> None:
    """A transfer names a region of this province that the platform's data knows (the
    case's own jurisdiction and the levels above it always are)."""
    if region[:2] != case.jurisdiction[:2]:
        raise RuleViolation("只能移交本省的主管部门", code="transfer_outside_province",
                            region=region)
    own = {case.jurisdiction, *_above(case.jurisdiction)}
    if region not in own and not known_region(region, counties):
        raise RuleViolation("移交对象的行政区划代码不存在", code="region_unknown",
                            region_code=region)


def _above(region: str) -> list[str]:
    chain, up = [], higher_region(region)
    while up is not None:
        chain.append(up)
        up = higher_region(up)
    return chain


def transferred_clock(before: Complaint, floor: Clock) -> dict[str, object]:
    """The clock fields of a transferred case: its due date kept, or the floor (`floor`:
    the policy's working days from today) once per clock when less is left. The receiving
    office is reminded afresh."""
    kept = before.due_on is not None and (before.floor_granted
                                          or before.due_on >= floor.due_on)
    if kept:
        return {"due_on": before.due_on, "due_estimated": before.due_estimated,
                "reminded": False}
    return {"due_on": floor.due_on, "due_estimated": floor.estimated, "reminded": False,
            "floor_granted": True}
