"""Measures and who undoes them: a freeze or a blacklisting is lifted only by the office that
imposed it or its own department above it (a county never lifts a city's freeze, another
department never lifts it); a blacklisting freezes whatever money the institution holds, so
it is paid nothing and releases nothing until its blacklisting is lifted; a frozen
institution posts no announcement."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from chalicelib import bootstrap
from chalicelib.domain.errors import StateConflict
from chalicelib.domain.institutions.catalog import InstitutionStatus
from chalicelib.service.institutions import freezes, institution_reviews
from tests.e2e.test_freezes import swept_later
from tests.e2e.test_refunds import PRICE, taught_order
from tests.support import flows
from tests.support.harness import Platform

REASON = {"reason": "涉嫌虚假宣传，立案调查"}
COUNTY = {"sub": "reg-th-culture", "region": "440106", "department": "culture"}
CITY = {"sub": "reg-gz-culture", "region": "440100", "department": "culture"}
PROVINCE = {"sub": "reg-gd-culture", "region": "440000", "department": "culture"}
COUNTY_EDUCATION = {"sub": "reg-th-edu", "region": "440106", "department": "education"}


def act(p: Platform, institution_id: str, action: str, office: dict[str, str]) -> Any:
    return p.post(f"/v1/regulator/institutions/{institution_id}/{action}",
                  flows.regulator(p, **office), REASON)


def test_only_the_office_that_froze_or_its_department_above_it_lifts_a_freeze(
    platform: Platform,
) -> None:
    p = platform
    shop = flows.open_shop(p, price=PRICE)  # arts, in 440106: culture is competent
    frozen = act(p, shop.institution_id, "freeze", CITY)
    assert frozen.status == 200, frozen.body
    assert frozen.body["freeze_office"] == {"department": "culture", "region": "440100"}
    for office in (COUNTY, flows.REGULATOR, COUNTY_EDUCATION):  # lower, or another department
        refused = act(p, shop.institution_id, "unfreeze", office)
        assert (refused.status, refused.code) == (403, "measure_imposed_elsewhere"), office
        assert refused.body["error"]["details"]["imposed_by_region"] == "440100"
    assert p.get(f"/v1/institutions/{shop.institution_id}",
                 flows.regulator(p)).body["frozen"] is True
    lifted = act(p, shop.institution_id, "unfreeze", CITY)
    assert (lifted.status, lifted.body["frozen"]) == (200, False), lifted.body
    assert lifted.body["unfrozen_at"] and lifted.body["freeze_office"] is None

    assert act(p, shop.institution_id, "freeze", COUNTY).status == 200
    assert act(p, shop.institution_id, "unfreeze", PROVINCE).status == 200  # above it
    assert act(p, shop.institution_id, "freeze", flows.REGULATOR).status == 200  # education
    refused = p.post(f"/v1/regulator/institutions/{shop.institution_id}/unfreeze",
                     flows.regulator(p, **PROVINCE), {"reason": "另行解冻"})
    assert (refused.status, refused.code) == (403, "measure_imposed_elsewhere")  # not its own
    repeated = act(p, shop.institution_id, "unfreeze", PROVINCE)  # its lifting sent again
    assert (repeated.status, repeated.body["frozen"]) == (200, True)  # (issue 22, point 7)
    assert act(p, shop.institution_id, "unfreeze", flows.REGULATOR).status == 200
    p.check()


def test_a_blacklisting_stops_payments_and_releases_until_its_office_lifts_it(
    platform: Platform,
) -> None:
    p = platform
    shop, fam, order, (taught,) = taught_order(p, lessons=3, taught=1)
    later = flows.family(p, "小红")
    unpaid = flows.buy(p, shop, later, lessons=2)
    flows.confirm(p, fam, taught)  # its release waits on the settlement queue

    banned = act(p, shop.institution_id, "blacklist", PROVINCE)
    assert banned.status == 200, banned.body
    assert (banned.body["status"], banned.body["frozen"]) == ("blacklisted", True)
    assert banned.body["blacklist_office"] == {"department": "culture", "region": "440000"}
    p.drain_sweeps()  # the freeze marker reaches its orders
    swept_later(p)
    held = flows.order_of(p, fam.parent, order["order_id"])
    assert (held["released_fen"], held["lessons_confirmed_unreleased"]) == (0, 1)
    assert p.bank.balance(shop.general_account) == 0
    flows.pay(p, later, unpaid)  # no new money: it goes back to the payer
    p.settle_everything()
    assert flows.order_of(p, later.parent, unpaid["order_id"])["status"] == "pending_payment"
    assert p.bank.balance(later.payer_account) == 0
    p.check()

    refused = act(p, shop.institution_id, "unfreeze", PROVINCE)
    assert (refused.status, refused.code) == (409, "institution_blacklisted")
    for office in (CITY, flows.REGULATOR):  # lower, or another department
        refused = act(p, shop.institution_id, "unblacklist", office)
        assert (refused.status, refused.code) == (403, "measure_imposed_elsewhere"), office
    lifted = act(p, shop.institution_id, "unblacklist", PROVINCE)
    assert lifted.status == 200, lifted.body
    assert (lifted.body["status"], lifted.body["frozen"]) == ("pending_review", False)
    again = p.post(f"/v1/regulator/institutions/{shop.institution_id}/unblacklist",
                   flows.regulator(p, **PROVINCE), {"reason": "再次解除"})
    assert (again.status, again.code) == (409, "institution_not_blacklisted")
    repeated = act(p, shop.institution_id, "unblacklist", PROVINCE)  # the same, sent again
    assert (repeated.status, repeated.body["status"]) == (200, "pending_review")
    p.drain_sweeps()
    swept_later(p)  # the release that waited goes
    assert flows.order_of(p, fam.parent, order["order_id"])["released_fen"] == PRICE
    history = p.get(f"/v1/institutions/{shop.institution_id}/history", flows.competent(p))
    assert [(h["from_status"], h["to_status"]) for h in history.body["items"]][-2:] == [
        ("whitelisted", "blacklisted"), ("blacklisted", "pending_review")]
    p.check()


def test_a_freeze_of_its_own_outlives_the_blacklisting_it_was_made_during(
    platform: Platform,
) -> None:
    """Education freezes an institution the culture department had blacklisted: lifting the
    blacklisting does not lift education's freeze."""
    p = platform
    shop = flows.open_shop(p, price=PRICE)
    assert act(p, shop.institution_id, "blacklist", PROVINCE).status == 200
    taken = act(p, shop.institution_id, "freeze", flows.REGULATOR)
    assert taken.body["freeze_office"] == {"department": "education", "region": "440000"}
    lifted = act(p, shop.institution_id, "unblacklist", PROVINCE)
    assert (lifted.body["status"], lifted.body["frozen"]) == ("pending_review", True)
    refused = act(p, shop.institution_id, "unfreeze", PROVINCE)
    assert (refused.status, refused.code) == (403, "measure_imposed_elsewhere")
    assert act(p, shop.institution_id, "unfreeze", flows.REGULATOR).status == 200


def test_a_frozen_institution_posts_no_announcement(platform: Platform) -> None:
    p = platform
    shop = flows.open_shop(p, price=PRICE)
    path = f"/v1/institutions/{shop.institution_id}/announcements"
    body = {"title": "暑期班火热招生", "text": "报名立减，名额有限"}
    assert act(p, shop.institution_id, "freeze", PROVINCE).status == 200
    refused = p.post(path, shop.staff, body)
    assert (refused.status, refused.code) == (409, "institution_frozen"), refused.body
    assert p.get(path, flows.family(p).parent).body["items"] == []
    assert act(p, shop.institution_id, "unfreeze", PROVINCE).status == 200
    assert p.post(path, shop.staff, body).status == 201


def test_a_lifting_read_before_a_freeze_took_over_cannot_lift_that_freeze(
    platform: Platform,
) -> None:
    """The blacklisting's office read the institution, then education's freeze took the
    blacklisting's freeze over: the lifting written from that read is refused (it reads
    again, and finds the freeze is no longer the blacklisting's)."""
    p = platform
    shop = flows.open_shop(p, price=PRICE)
    assert act(p, shop.institution_id, "blacklist", PROVINCE).status == 200
    ctx = bootstrap.context()
    stale = ctx.store.institution(shop.institution_id)
    assert stale is not None and stale.frozen_with_blacklisting
    assert act(p, shop.institution_id, "freeze", flows.REGULATOR).status == 200
    lifted = freezes.marked(replace(stale, status=InstitutionStatus.PENDING_REVIEW),
                            frozen=False, who="reg-gd-culture", reason="撤销", now=ctx.now())
    with pytest.raises(StateConflict) as refused:
        institution_reviews.rewrite(ctx, stale, lifted, actor="reg-gd-culture", reason="撤销")
    assert refused.value.code == "institution_changed"
    assert p.get(f"/v1/institutions/{shop.institution_id}",
                 flows.regulator(p)).body["frozen"] is True
