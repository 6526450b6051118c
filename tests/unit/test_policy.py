"""Province policy is data with effective dates; the version in force is picked by date."""

from __future__ import annotations

from datetime import date

import pytest

from chalicelib.domain.policy import Policy, PolicyBook


def test_a_later_version_overrides_only_what_it_changes_from_its_date_on() -> None:
    book = PolicyBook.from_data({"versions": [
        {"effective_from": "2021-07-24"},
        {"effective_from": "2025-01-01", "auto_confirm_working_days": 7},
    ]})
    assert book.effective_on(date(2024, 12, 31)).auto_confirm_working_days == 15
    later = book.effective_on(date(2025, 1, 1))
    assert later.auto_confirm_working_days == 7
    assert later.max_fen_per_charge == Policy().max_fen_per_charge


def test_no_policy_is_in_force_before_the_first_version() -> None:
    with pytest.raises(ValueError):
        PolicyBook.from_data({"versions": [{"effective_from": "2021-07-24"}]}).effective_on(
            date(2020, 1, 1))


@pytest.mark.parametrize("name", ["auto_confirm_working_days", "max_fen_per_charge"])
def test_a_policy_number_must_be_positive(name: str) -> None:
    with pytest.raises(ValueError):
        PolicyBook.from_data({"versions": [{"effective_from": "2021-07-24", name: 0}]})


def test_an_unknown_policy_setting_is_refused_rather_than_ignored() -> None:
    with pytest.raises(TypeError):
        PolicyBook.from_data({"versions": [{"effective_from": "2021-07-24", "typo_days": 3}]})
