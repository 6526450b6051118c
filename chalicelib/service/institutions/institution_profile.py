"""An institution edits its profile. Answering a request for changes sends it back to
review; so does a change of custodian bank or accounts on a whitelisted institution (no
sale is paid into accounts its department has not reviewed; orders already paid keep the
accounts they were paid into), a change of its name (parents find it by name: a name
no one reviewed could pass it off as another institution or another kind of training),
and a change of its school-running permit number (the licence itself: a number no one
reviewed could be another institution's, or none). Until its department approves a new
custodian, releases go to the general account it approved last; a new supervised account
or bank is refused while the old one holds anything (chalicelib/service/escrow/escrow.py)."""

from __future__ import annotations

from dataclasses import replace

from chalicelib.domain.errors import RuleViolation, StateConflict
from chalicelib.domain.institutions.catalog import (
    EDITABLE,
    Custodian,
    Institution,
    InstitutionStatus,
)
from chalicelib.service.caller import Caller
from chalicelib.service.context import Context
from chalicelib.service.escrow import escrow
from chalicelib.service.institutions import institution_reviews, institutions


def edit(ctx: Context, caller: Caller, institution_id: str, *, name: str | None,
         address: str | None, permit_number: str | None, custodian: Custodian | None
         ) -> Institution:
    """The edit, judged again on the institution as it is when its write found it rewritten
    since it was read (a freeze's fan-out, a decision, a transaction conflict)."""
    return institution_reviews.reading_again(lambda: _edit(
        ctx, caller, institution_id, name=name, address=address, permit_number=permit_number,
        custodian=custodian))


def _edit(ctx: Context, caller: Caller, institution_id: str, *, name: str | None,
          address: str | None, permit_number: str | None, custodian: Custodian | None
          ) -> Institution:
    before = institutions.own_or_applied(ctx, caller, institution_id)
    if _in_force(before, name, address, permit_number, custodian):
        return before  # the same edit again (decided since: a retry), changing nothing
    if before.status not in EDITABLE:
        raise StateConflict("机构当前状态不能修改资料", code="institution_not_editable",
                            status=str(before.status))
    if custodian is not None and not custodian.accounts_distinct:
        raise RuleViolation("监管账户与一般账户不能是同一个账户",
                            code="custodian_accounts_identical")
    if custodian is not None and custodian != before.custodian:
        escrow.require_empty(ctx, before, custodian)
    after = replace(
        before, name=name or before.name, address=address or before.address,
        permit_number=permit_number or before.permit_number,
        custodian=custodian or before.custodian,
    )
    if after == before:
        return before
    after = replace(after, profile_version=before.profile_version + 1)
    reason = "机构修改资料"
    if before.status is InstitutionStatus.CHANGES_REQUESTED:
        after = replace(after, status=InstitutionStatus.PENDING_REVIEW)
    elif before.status is InstitutionStatus.WHITELISTED and after.custodian != before.custodian:
        after = replace(after, status=InstitutionStatus.PENDING_REVIEW)
        reason = "变更资金存管账户，须重新审核"
    elif before.status is InstitutionStatus.WHITELISTED and after.name != before.name:
        after = replace(after, status=InstitutionStatus.PENDING_REVIEW)
        reason = "变更机构名称，须重新审核"
    elif (before.status is InstitutionStatus.WHITELISTED
          and after.permit_number != before.permit_number):
        after = replace(after, status=InstitutionStatus.PENDING_REVIEW)
        reason = "变更办学许可证号，须重新审核"
    return institution_reviews.rewrite(ctx, before, after, actor=caller.sub, reason=reason)


def _in_force(institution: Institution, name: str | None, address: str | None,
              permit_number: str | None, custodian: Custodian | None) -> bool:
    """Every field the edit names already reads so."""
    return all(value is None or value == current for value, current in (
        (name, institution.name), (address, institution.address),
        (permit_number, institution.permit_number), (custodian, institution.custodian)))
