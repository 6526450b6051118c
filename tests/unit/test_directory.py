"""The directory parents search (chalicelib/domain/shop/directory.py): what a name is indexed
under, and what a search keeps."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from chalicelib.domain.institutions.catalog import (
    Custodian,
    Discipline,
    Institution,
    InstitutionStatus,
    TrainingType,
)
from chalicelib.domain.modes import Mode
from chalicelib.domain.shop import directory

NOW = datetime(2026, 3, 2, 1, tzinfo=UTC)
LISTED = Institution(
    "ins_01", "小星星美术 Star", "91440106MA5CQ8XK31", TrainingType.NON_SUBJECT,
    Discipline.ARTS, Mode.OFFLINE, "440106", "广州", Custodian("银行", "SUP1", "GEN1"),
    InstitutionStatus.WHITELISTED, "applicant", NOW, whitelisted_at=NOW)


@pytest.mark.parametrize(("text", "normalised"), [
    ("ＳＴＡＲ ｐｉａｎｏ", "starpiano"),  # full width, case, space
    ("小星星·美术（天河）", "小星星美术天河"),  # punctuation
    ("  ", ""),
])
def test_names_and_keywords_are_compared_as_letters_and_digits(text: str,
                                                                 normalised: str) -> None:
    assert directory.normalise(text) == normalised


def test_a_name_is_indexed_by_its_distinct_pairs_up_to_48() -> None:
    assert directory.keyword_pairs("小星星星") == ("小星", "星星")
    long = "".join(chr(0x4E00 + n) for n in range(60))  # 60 distinct characters
    pairs = directory.keyword_pairs(long)
    assert len(pairs) == directory.KEYWORD_PAIRS == 48
    assert pairs[-1] == long[47:49]  # the 49th character is the last one indexed


def test_an_institution_is_indexed_from_its_first_whitelisting() -> None:
    assert directory.facets(replace(LISTED, status=InstitutionStatus.PENDING_REVIEW,
                                    whitelisted_at=None)) == frozenset()
    facets = directory.facets(LISTED)
    assert {"discipline#arts", "mode#offline", "kw#小星", "kw#美术", "kw#st"} <= facets
    blacklisted = replace(LISTED, status=InstitutionStatus.BLACKLISTED)
    assert directory.facets(blacklisted) == facets  # still indexed; searches leave it out


@pytest.mark.parametrize(("search", "found"), [
    (directory.Search(keyword="星美"), True),
    (directory.Search(keyword="ＳＴＡＲ"), True),
    (directory.Search(keyword="美术星"), False),
    (directory.Search("4401", Discipline.ARTS), True),
    (directory.Search("4403", Discipline.ARTS), False),
    (directory.Search(mode=Mode.ONLINE), False),
    (directory.Search(discipline=Discipline.SPORTS), False),
])
def test_a_search_keeps_what_matches_every_term(search: directory.Search, found: bool) -> None:
    assert search.finds(LISTED) is found


@pytest.mark.parametrize("now", [
    replace(LISTED, frozen_at=NOW),
    replace(LISTED, status=InstitutionStatus.PENDING_REVIEW),
    replace(LISTED, status=InstitutionStatus.BLACKLISTED),
])
def test_a_search_leaves_out_what_parents_may_not_buy_from(now: Institution) -> None:
    assert not directory.Search(keyword="小星").finds(now)


def test_the_partition_read_is_the_keyword_s_then_the_discipline_s_then_the_mode_s() -> None:
    assert directory.Search(keyword="ＳＴar", discipline=Discipline.ARTS).facet == "kw#st"
    assert directory.Search(discipline=Discipline.ARTS, mode=Mode.ONLINE).facet == (
        "discipline#arts")
    assert directory.Search(mode=Mode.ONLINE).facet == "mode#online"
    with pytest.raises(ValueError):
        _ = directory.Search("44").facet
