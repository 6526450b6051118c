"""Staff: the institution registers them, records their consent and certificates; the
competent department records their background checks (chalicelib/domain/institutions/staff.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from typing import Any

from chalicelib.domain.calendar import business_date
from chalicelib.domain.errors import NotFound, RuleViolation, StateConflict
from chalicelib.domain.institutions.catalog import Institution
from chalicelib.domain.institutions.staff import (
    CheckResult,
    StaffMember,
    StaffRole,
    check_due,
    is_resident_id,
    masked,
)
from chalicelib.service import retry
from chalicelib.service.caller import Caller, Role
from chalicelib.service.context import Context
from chalicelib.service.creation import create_once
from chalicelib.service.institutions import institutions
from chalicelib.service.ports import Page

MAX_STAFF_READ = 1_000
"""How many staff the whitelist criterion reads looking for one whose check is current."""


def register(ctx: Context, caller: Caller, staff_id: str, *, name: str, role: StaffRole,
             id_number: str) -> StaffMember:
    institution_id = caller.own_institution()
    if ctx.store.institution(institution_id) is None:
        raise NotFound("机构不存在", code="institution_not_found")
    if not is_resident_id(id_number):
        raise RuleViolation("身份证号码校验位不正确，请核对", code="id_number_invalid")
    member = StaffMember(staff_id, institution_id, name, role, masked(id_number), ctx.now())
    return create_once(
        ctx, member, "staff", existing=lambda: ctx.store.staff_member(staff_id),
        same_caller=lambda found: found.institution_id == institution_id,
    )


def sign_consent(ctx: Context, caller: Caller, staff_id: str, *, signed_on: date) -> StaffMember:
    def attempt() -> StaffMember:
        member = _own(ctx, caller, staff_id)
        if signed_on > business_date(ctx.now()):
            raise RuleViolation("签署日期不能晚于今天", code="date_in_future")
        return _update(ctx, member, consent_signed_on=signed_on)

    return _reading_again(attempt)


def certify(ctx: Context, caller: Caller, staff_id: str, *, certificate_number: str
            ) -> StaffMember:
    def attempt() -> StaffMember:
        member = _own(ctx, caller, staff_id)
        if member.role is not StaffRole.TEACHER:
            raise RuleViolation("只有教师登记教师资格证", code="not_a_teacher")
        return _update(ctx, member, certificate_number=certificate_number)

    return _reading_again(attempt)


def record_check(ctx: Context, caller: Caller, staff_id: str, *, result: CheckResult,
                 checked_on: date) -> StaffMember:
    """The department competent for the institution records a check's result; the next one
    is due `background_check_valid_months` later."""
    def attempt() -> StaffMember:
        member = ctx.store.staff_member(staff_id)
        institution = _competent_for(ctx, caller, member, staff_id)
        assert member is not None
        if member.consent_signed_on is None:
            raise StateConflict("员工尚未签署背景审查授权书", code="consent_missing")
        if not member.consent_signed_on <= checked_on <= business_date(ctx.now()):
            raise RuleViolation("审查日期须在授权之后、不晚于今天", code="check_date_invalid",
                                consent_signed_on=str(member.consent_signed_on))
        months = ctx.policy(institution.region_code).background_check_valid_months
        return _update(ctx, member, check_result=result, checked_on=checked_on,
                       check_due_on=check_due(checked_on, months), checked_by=caller.sub)

    return _reading_again(attempt)


def of_institution(ctx: Context, caller: Caller, institution_id: str, *, limit: int,
                   cursor: str | None) -> Page[StaffMember]:
    if caller.role is Role.REGULATOR:
        institutions.visible_to_regulator(ctx, caller, institution_id)
    else:
        caller.require_staff_of(institution_id)
    return ctx.store.staff_of(institution_id, limit, cursor)


def any_checked(ctx: Context, institution_id: str) -> bool:
    """Whether one of the institution's staff has a background check current today."""
    today, cursor, read = business_date(ctx.now()), None, 0
    while read < MAX_STAFF_READ:
        page = ctx.store.staff_of(institution_id, 100, cursor)
        if any(member.check_current_on(today) for member in page.items):
            return True
        read += len(page.items)
        cursor = page.next_cursor
        if cursor is None:
            return False
    return False


def _own(ctx: Context, caller: Caller, staff_id: str) -> StaffMember:
    institution_id = caller.own_institution()
    member = ctx.store.staff_member(staff_id)
    if member is None or member.institution_id != institution_id:
        raise NotFound("员工不存在", code="staff_not_found", staff_id=staff_id)
    return member


def _competent_for(ctx: Context, caller: Caller, member: StaffMember | None, staff_id: str
                   ) -> Institution:
    caller.require(Role.REGULATOR)
    institution = ctx.store.institution(member.institution_id) if member else None
    if institution is None or not caller.supervises(institution):
        raise NotFound("员工不存在", code="staff_not_found", staff_id=staff_id)
    caller.require_competent_for(institution)
    return institution


def _update(ctx: Context, member: StaffMember, **changes: Any) -> StaffMember:
    """Record `changes`; what is recorded already (the same consent, certificate or check
    sent again) is answered as it is, unwritten."""
    if all(getattr(member, name) == value for name, value in changes.items()):
        return member
    updated = replace(member, version=member.version + 1, **changes)
    ctx.store.write().replace(member, updated, "staff").commit()
    return updated


def _reading_again(attempt: Callable[[], StaffMember]) -> StaffMember:
    """Run `attempt` (it reads the member, judges and writes) again when its write finds
    the member rewritten since (the institution and its department record on one member)
    or meets the engine's conflict: a record is never refused for contention alone."""
    return retry.on_conflict(attempt, retry_when=lambda rejected: True)
