"""The simulator's people sign in again when their token's life ends (a run can be longer
than a token's 90 days): the same caller, never a token the platform refuses as expired."""

from __future__ import annotations

from datetime import timedelta

from tests.support import flows
from tests.support.harness import TOKEN_TTL_SECONDS, Platform


def test_a_token_past_its_life_is_replaced_by_one_with_the_same_claims(
    moto_platform: Platform,
) -> None:
    """The simulator alone uses it; the engine has no part in it."""
    p = moto_platform
    shop = flows.open_shop(p)
    staff = dict(shop.staff)
    assert p.signed_in(staff) == shop.staff  # still valid: kept as it is

    p.clock.advance(timedelta(seconds=TOKEN_TTL_SECONDS))
    assert p.get(f"/v1/institutions/{shop.institution_id}", staff).code == "invalid_token"
    assert p.signed_in(staff) is staff and staff != shop.staff  # renewed in place
    seen = p.get(f"/v1/institutions/{shop.institution_id}", staff)
    assert seen.status == 200, seen.body
    assert seen.body["institution_id"] == shop.institution_id


def test_what_is_not_a_token_of_ours_is_left_as_it_is(moto_platform: Platform) -> None:
    moto_platform.clock.advance(timedelta(seconds=TOKEN_TTL_SECONDS))
    for who in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic abc"}):
        before = dict(who)
        assert moto_platform.signed_in(who) == before
