"""A case's steps racing each other on the real engine (moto applies concurrent transactions
without isolation): a department transferring a case while its clock escalates it. Exactly
one wins; the case has one holder, one clock and a timeline of one step per version."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib import bootstrap
from chalicelib.domain.errors import PlatformError
from chalicelib.domain.institutions.catalog import Department
from chalicelib.service.caller import Caller, Role
from chalicelib.service.complaints import complaint_clock, complaint_steps
from tests.e2e.test_case_deadlines import department_case
from tests.e2e.test_complaints import day_start
from tests.support.concurrency import race, refused_or_result
from tests.support.harness import Platform

pytestmark = pytest.mark.parametrize("platform", ["dynamodb_local"], indirect=True)


def county_culture() -> Caller:
    return Caller(sub="reg-th-culture", role=Role.REGULATOR, region="440106",
                  department=Department.CULTURE)


@pytest.mark.parametrize("round_", range(3))
def test_a_transfer_racing_an_escalation_leaves_one_winner(
    platform: Platform, round_: int,
) -> None:
    p = platform
    complaint_id = department_case(p, f"parent-race-{round_}")
    p.clock.set(day_start("2026-03-20T00:01"))  # the county's 13 working days are over
    ctx = bootstrap.context()

    def escalate() -> Any:
        return complaint_clock.tick(ctx, complaint_id)

    def hand_over() -> Any:
        return complaint_steps.transfer(ctx, county_culture(), complaint_id,
                                        department=Department.EDUCATION, region=None,
                                        reason="涉及学科类培训")

    ticked, transferred = race(escalate, refused_or_result(hand_over))
    after = ctx.store.complaint(complaint_id)
    assert after is not None
    steps = ctx.store.timeline(complaint_id)
    assert [s.seq for s in steps] == list(range(1, after.version + 1))
    actions = [s.action.value for s in steps]
    if isinstance(transferred, PlatformError):  # the escalation won: the county lost it,
        # at its write (moved meanwhile) or at its read (the case already the city's)
        assert ticked is True and transferred.code in {"complaint_moved", "not_case_holder"}
        assert (after.department, after.region, after.escalations) == (
            Department.CULTURE, "440100", 1)
        assert "transferred" not in actions
    else:  # the transfer won: the escalation left it to its new clock
        assert ticked is False
        assert (after.department, after.region, after.escalations) == (
            Department.EDUCATION, "440106", 0)
        assert "escalated" not in actions
        assert str(after.due_on) == "2026-03-25"  # overdue: the floor, 3 working days
    assert actions.count("transferred") + actions.count("escalated") == 1
