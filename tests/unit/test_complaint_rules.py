"""The pure rules of complaints: who escalates to whom, the clock's instants, masking."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from chalicelib.domain.complaints.complaint import Clock, higher_region, mask_name, mask_phone

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(("region", "higher"), [
    ("440106", "440100"),  # a Guangzhou district -> Guangzhou
    ("440100", "440000"),  # Guangzhou -> Guangdong
    ("440000", None),  # nobody above the province
    ("110105", "110000"),  # a Beijing district -> the municipality itself
    ("310115", "310000"),
    ("500101", "500000"),
    ("429004", "420000"),  # Xiantao: a county-level city Hubei administers directly
])
def test_each_level_escalates_to_the_one_that_supervises_it(region: str,
                                                             higher: str | None) -> None:
    assert higher_region(region) == higher


def test_a_clock_reminds_when_its_due_day_begins_and_runs_out_when_it_ends() -> None:
    clock = Clock(date(2026, 5, 9), estimated=False)
    assert clock.remind_at == datetime(2026, 5, 9, 0, 0, tzinfo=SHANGHAI)
    assert clock.due_at == datetime(2026, 5, 10, 0, 0, tzinfo=SHANGHAI)


@pytest.mark.parametrize(("name", "masked"), [("王小红", "王**"), ("李", "李"), ("", "")])
def test_a_callers_name_keeps_only_the_family_name(name: str, masked: str) -> None:
    assert mask_name(name) == masked


@pytest.mark.parametrize(("phone", "masked"), [
    ("13812345678", "138****5678"), ("020-12345678", "020*****5678"), ("12345", "*****")])
def test_a_callers_phone_keeps_only_its_ends(phone: str, masked: str) -> None:
    assert mask_phone(phone) == masked
