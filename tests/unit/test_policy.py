"""Policy is data in layers (national, province, city, county), each versioned by effective
date, validated whole when loaded."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from chalicelib import bootstrap
from chalicelib.domain.modes import Mode
from chalicelib.domain.policy_book import PolicyBook

NATIONAL = {"versions": [{"effective_from": "2021-07-24", "source": "national"}]}


def _book(*provinces: dict[str, Any], national: dict[str, Any] = NATIONAL) -> PolicyBook:
    return PolicyBook.from_files(national, provinces)


def test_a_later_version_overrides_only_what_it_changes_from_its_date_on() -> None:
    book = _book(national={"versions": [
        {"effective_from": "2021-07-24", "source": "a"},
        {"effective_from": "2025-01-01", "source": "b", "auto_confirm_working_days": 7},
    ]})
    assert book.policy("44", date(2024, 12, 31)).auto_confirm_working_days == 15
    later = book.effective("44", date(2025, 1, 1))
    assert later.policy.auto_confirm_working_days == 7
    assert later.policy.max_fen_per_charge == 500_000
    assert later.policy.effective_from == date(2025, 1, 1)
    assert book.effective("44", date(2024, 6, 1)).next_change_on == date(2025, 1, 1)


def test_a_city_overrides_its_province_which_overrides_the_nation() -> None:
    book = _book({"region": "44", "name": "广东省", "versions": [
        {"effective_from": "2022-01-01", "source": "gd", "auto_confirm_working_days": 10,
         "renewal_max_lessons_left": 15}],
        "regions": [{"region": "4403", "name": "深圳市", "versions": [
            {"effective_from": "2023-01-01", "source": "sz", "auto_confirm_working_days": 7}]}]})
    day = date(2024, 1, 1)
    assert book.policy("440305", day).auto_confirm_working_days == 7
    assert book.policy("440305", day).renewal_max_lessons_left == 15
    assert book.policy("440106", day).auto_confirm_working_days == 10
    assert book.policy("110105", day).auto_confirm_working_days == 15
    assert book.policy("440305", date(2022, 6, 1)).auto_confirm_working_days == 10
    regions = [layer.region for layer, _ in book.effective("440305", day).versions]
    assert regions == ["", "44", "4403"]


def test_no_policy_is_in_force_before_the_first_national_version() -> None:
    with pytest.raises(ValueError, match="no national policy"):
        _book().effective("44", date(2020, 1, 1))


BAD_VERSIONS = [
    ({"auto_confirm_working_days": 0}, "greater than 0"),
    ({"max_fen_per_charge": -1}, "greater than 0"),
    ({"typo_days": 3}, "unknown settings"),
    ({"liquidation_pending_lessons": "confirm"}, "unknown settings"),  # a frozen
    # institution's pending lessons are never confirmed: the setting went (issue 22)
    ({"complaint_routing": {"subject": "police"}}, "complaint_routing"),
    ({"vacations": [{"name": "x", "first_day": "2026-02-01", "last_day": "2026-01-01"}]},
     "last_day before first_day"),
    ({"guided_prices": {"source": "s", "offline": [{"up_to_students": None, "fen": 1},
                                                   {"up_to_students": 9, "fen": 2}]}},
     "open-ended"),
    ({"guided_prices": {"source": "s", "offline": [{"up_to_students": 20, "fen": 1},
                                                   {"up_to_students": 9, "fen": 2},
                                                   {"up_to_students": None, "fen": 2}]}},
     "ascend"),
    ({"counties": ["4401"]}, "pattern"),
    ({"counties": ["110105"]}, "counties outside its province"),
    ({"offline_ends_by": "25:00"}, "time"),
    ({"online_ends_by": "21:00+08:00"}, "without seconds or offset"),
    ({"offline_ends_by": "20:30:59"}, "without seconds or offset"),
    ({"lessons_start_from": "21:00"}, "must be before"),
    ({"max_fen_per_charge": True}, "valid integer"),
    ({"max_lessons_per_charge": "60"}, "valid integer"),
    ({"complaint_routing": {"default": "education", "sprots": "sports"}}, "names only"),
]


@pytest.mark.parametrize(("changes", "why"), BAD_VERSIONS)
def test_a_bad_province_file_is_refused_when_loaded(changes: dict[str, Any], why: str) -> None:
    province = {"region": "44", "name": "广东省", "versions": [
        {"effective_from": "2024-01-01", "source": "gd", **changes}]}
    with pytest.raises(ValueError, match=why):
        _book(province)


@pytest.mark.parametrize("version", [
    {"source": "no date"},
    {"effective_from": "2024-01-01"},
    {"effective_from": "someday", "source": "s"},
])
def test_every_version_names_its_date_and_source(version: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="effective_from date and a source"):
        _book({"region": "44", "name": "广东省", "versions": [version]})


@pytest.mark.parametrize("region", ["4", "440", "4401x", "11", "44ab"])
def test_a_layer_sits_inside_its_province_at_a_real_level(region: str) -> None:
    with pytest.raises(ValueError, match="outside its province"):
        _book({"region": "44", "name": "广东省", "versions": [], "regions": [
            {"region": region, "name": "x", "versions": []}]})


def test_the_packaged_policies_load_with_the_price_tables_of_domain_md() -> None:
    book = bootstrap.policies()
    day = date(2026, 12, 7)
    beijing = book.policy("110105", day).guided_prices
    assert beijing is not None
    assert [beijing.base_fen(Mode.OFFLINE, n) for n in (9, 10, 35, 36)] == [
        8000, 6000, 6000, 4000]
    assert beijing.base_fen(Mode.ONLINE, 100) == 2000
    shenzhen = book.policy("440305", day).guided_prices
    assert shenzhen is not None
    assert [shenzhen.base_fen(Mode.OFFLINE, n) for n in (10, 11, 20, 21, 30, 31)] == [
        7000, 5000, 5000, 4000, 4000, 3500]
    assert book.policy("440106", day).guided_prices is None  # Guangzhou: no table loaded
    national = book.policy("440106", day)
    assert (national.max_lessons_per_charge, national.max_fen_per_charge,
            national.max_months_per_charge, national.renewal_max_lessons_left) == (
        60, 500_000, 3, 20)
