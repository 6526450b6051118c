"""Local policy governs local clocks: every deadline and rule reads the policy of the
institution's own region, its county's rules, else its city's, else its province's
(chalicelib/domain/policy_book.py). Orders, lessons and refund requests carry that region
(`region_code`); a complaint names its institution, whose region is read here (a case's
`jurisdiction` is the province for an online institution, not where the institution is)."""

from __future__ import annotations

from chalicelib.domain.complaints.complaint import Complaint
from chalicelib.domain.policy import Policy
from chalicelib.service.context import Context


def of_institution(ctx: Context, institution_id: str) -> Policy:
    institution = ctx.store.institution(institution_id)
    if institution is None:
        raise LookupError(f"no institution {institution_id}")
    return ctx.policy(institution.region_code)


def of_case(ctx: Context, case: Complaint) -> Policy:
    """The policy of the region of the institution a complaint is about."""
    return of_institution(ctx, case.institution_id)
