"""An institution's name cannot imitate another's in search: names are compared as the
directory reads them (NFKC, case folded, letters and digits only), and a name whose form
equals a whitelisted, pending or blacklisted institution's of the province is refused at
application and at rename (409 `institution_name_taken`); a rejected application's name and
a renamed institution's old name are free again."""

from __future__ import annotations

from functools import partial

import pytest

from tests.support import flows
from tests.support.harness import Platform
from tests.support.snapshot import assert_refused

ORIGINAL = "小星星 Art 美术培训学校"
IMITATIONS = [
    "小星星 Art 美术培训学校",  # the same
    "小星星ART美术培训学校",  # spaces and case aside
    "小星星 Ａｒｔ 美术培训学校",  # full width
    "小星星·art·美术培训学校。",  # punctuation aside
]


def apply(p: Platform, who: str, name: str, region: str = "440106") -> tuple[int, str, str]:
    applied = p.post("/v1/institutions", p.token(who, "institution"),
                     flows.application(region, name=name))
    return applied.status, applied.code if applied.status >= 400 else "", (
        applied.body.get("institution_id", "") if applied.status < 400 else "")


@pytest.mark.parametrize("imitation", IMITATIONS)
def test_a_name_imitating_a_whitelisted_institution_is_refused(
    platform: Platform, imitation: str,
) -> None:
    p = platform
    flows.whitelisted(p, name=ORIGINAL)
    applicant = p.token("applicant-imitating", "institution")
    assert_refused(p, partial(p.post, "/v1/institutions", applicant,
                              flows.application("440305", name=imitation)),
                   409, "institution_name_taken")


def test_a_name_pending_review_is_taken_and_a_rejected_one_is_free_again(
    platform: Platform,
) -> None:
    p = platform
    status, _, first = apply(p, "applicant-first", ORIGINAL)
    assert status == 201
    assert apply(p, "applicant-second", IMITATIONS[1])[:2] == (409, "institution_name_taken")
    rejected = p.post(f"/v1/regulator/institutions/{first}/reject", flows.competent(p),
                      {"reason": "材料不全"})
    assert rejected.status == 200, rejected.body
    assert apply(p, "applicant-second", IMITATIONS[1])[0] == 201
    assert apply(p, "applicant-third", ORIGINAL)[:2] == (409, "institution_name_taken")


def test_a_rename_cannot_take_another_name_and_frees_its_own(platform: Platform) -> None:
    p = platform
    flows.whitelisted(p, name=ORIGINAL)
    mover, staff, _ = flows.whitelisted(p, name="飞跃美术工作室")
    path = f"/v1/institutions/{mover['institution_id']}/profile"
    assert_refused(p, partial(p.post, path, staff, {"name": IMITATIONS[2]}), 409,
                   "institution_name_taken")
    renamed = p.post(path, staff, {"name": "飞跃书画院"})
    assert renamed.status == 200, renamed.body
    assert apply(p, "applicant-old-name", "飞跃 美术工作室")[0] == 201  # free again
    assert apply(p, "applicant-new-name", "飞跃书画院")[:2] == (409, "institution_name_taken")
    same = p.post(path, staff, {"name": "飞跃 书画院"})  # its own name, spaced otherwise
    assert same.status == 200, same.body


def test_a_blacklisted_institution_keeps_its_name(platform: Platform) -> None:
    p = platform
    listed, _, _ = flows.whitelisted(p, name=ORIGINAL)
    blacklisted = p.post(f"/v1/regulator/institutions/{listed['institution_id']}/blacklist",
                         flows.competent(p), {"reason": "无证办学被查处"})
    assert blacklisted.status == 200, blacklisted.body
    assert apply(p, "applicant-after-blacklist", ORIGINAL)[:2] == (409,
                                                                   "institution_name_taken")


def test_a_name_without_a_letter_or_digit_is_refused(platform: Platform) -> None:
    p = platform
    applicant = p.token("applicant-dots", "institution")
    assert_refused(p, partial(p.post, "/v1/institutions", applicant,
                              flows.application(name="···")), 422, "institution_name_unsearchable")
