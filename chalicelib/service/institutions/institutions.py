"""Institutions: apply to join, and the regulator's whitelist decision."""

from __future__ import annotations

from typing import Protocol, TypeVar

from chalicelib.domain.errors import NotFound, RuleViolation, StateConflict
from chalicelib.domain.institutions import institution_rules
from chalicelib.domain.institutions.catalog import (
    Custodian,
    Discipline,
    Institution,
    InstitutionStatus,
    TrainingType,
)
from chalicelib.domain.modes import Mode
from chalicelib.service import retry
from chalicelib.service.caller import Caller, Role, region_prefix
from chalicelib.service.context import Context
from chalicelib.service.institutions import bank_accounts, institution_names
from chalicelib.service.ports import Page


class _OfAnInstitution(Protocol):
    @property
    def institution_id(self) -> str: ...


T = TypeVar("T", bound=_OfAnInstitution)


def apply(
    ctx: Context,
    caller: Caller,
    institution_id: str,
    *,
    name: str,
    uscc: str,
    permit_number: str,
    training_type: TrainingType,
    discipline: Discipline,
    mode: Mode,
    region_code: str,
    address: str,
    custodian: Custodian,
) -> Institution:
    caller.require(Role.INSTITUTION)
    institution_rules.check_credit_code(uscc)
    institution_rules.check_licence(training_type, discipline)
    ours = region_code if region_code.startswith(ctx.province_code) else ctx.province_code
    institution_rules.check_region(region_code, province_code=ctx.province_code,
                                   policy=ctx.policy(ours))  # another province's: refused
    if not custodian.accounts_distinct:
        raise RuleViolation(
            "监管账户与一般账户不能是同一个账户", code="custodian_accounts_identical",
        )
    institution = Institution(
        institution_id=institution_id,
        name=name,
        uscc=uscc,
        permit_number=permit_number,
        training_type=training_type,
        discipline=discipline,
        mode=mode,
        region_code=region_code,
        address=address,
        custodian=custodian,
        status=InstitutionStatus.PENDING_REVIEW,
        applicant_sub=caller.sub,
        created_at=ctx.now(),
    )

    def attempt() -> Institution:
        found = ctx.store.institution(institution_id)  # a retry of this very application
        if found is not None and found.applicant_sub == caller.sub:
            return found
        holder = _credit_code_holder(ctx, uscc, institution_id)
        write = ctx.store.write().create(institution, "institution").register_credit_code(
            uscc, institution_id, replacing=holder)
        institution_names.claim(ctx, write, institution, code_from=holder)
        bank_accounts.register(ctx, write, institution_id, uscc, custodian).commit()
        return institution

    return retry.on_conflict(attempt, retry_when=lambda rejected: True)


def _credit_code_holder(ctx: Context, uscc: str, institution_id: str) -> str | None:
    """The institution registered under this credit code, if any, that a new application
    may take it from: an application rejected, never admitted (its applicant may try
    again), or this very application (a retry). Blacklisted, still applying, or admitted
    once (it may hold parents' money, whatever its status): refused."""
    holder_id = ctx.store.credit_code_holder(uscc)
    if holder_id is None or holder_id == institution_id:
        return holder_id
    holder = ctx.store.institution(holder_id)
    if holder is None or (holder.status is InstitutionStatus.REJECTED
                          and not holder.ever_whitelisted):
        return holder_id
    if holder.status is InstitutionStatus.BLACKLISTED:
        raise RuleViolation("该统一社会信用代码的机构已被列入黑名单，不能再次申请",
                            code="uscc_blacklisted")
    raise _already_registered()


def _already_registered() -> StateConflict:
    return StateConflict("该统一社会信用代码已有机构申请或入驻，请登录原机构账号办理",
                         code="uscc_already_registered")


def visible_to_regulator(ctx: Context, caller: Caller, institution_id: str) -> Institution:
    institution = ctx.store.institution(institution_id)
    if institution is None or not caller.supervises(institution):
        caller.require(Role.REGULATOR)
        raise NotFound("机构不存在", code="institution_not_found", institution_id=institution_id)
    return institution


def selling(ctx: Context, institution_id: str) -> Institution:
    """An institution parents may buy from: whitelisted and not frozen."""
    institution = ctx.store.institution(institution_id)
    if institution is None or institution.status is not InstitutionStatus.WHITELISTED:
        raise NotFound("机构不存在或未列入白名单", code="institution_not_found",
                       institution_id=institution_id)
    if institution.frozen:
        raise RuleViolation("机构已被监管部门冻结，暂停招生收费", code="institution_frozen",
                            institution_id=institution_id)
    return institution


def own_or_applied(ctx: Context, caller: Caller, institution_id: str) -> Institution:
    """The institution its staff act for, or whose application the caller made."""
    caller.require(Role.INSTITUTION)
    institution = ctx.store.institution(institution_id)
    if institution is not None and (caller.institution_id == institution_id
                                    or institution.applicant_sub == caller.sub):
        return institution
    raise NotFound("机构不存在", code="institution_not_found", institution_id=institution_id)


def get(ctx: Context, caller: Caller, institution_id: str) -> Institution:
    institution = ctx.store.institution(institution_id)
    if institution is not None and (
        institution.status is InstitutionStatus.WHITELISTED
        or caller.supervises(institution)
        or (caller.role is Role.INSTITUTION and caller.institution_id == institution_id)
        or (caller.role is Role.INSTITUTION and institution.applicant_sub == caller.sub)
    ):
        return institution
    raise NotFound("机构不存在", code="institution_not_found", institution_id=institution_id)


def listing(
    ctx: Context, caller: Caller, *, status: str, region: str, limit: int,
    cursor: str | None,
) -> Page[Institution]:
    """Parents see the whitelist; regulators see any status inside their jurisdiction, and
    the frozen institutions (`FROZEN_LISTING`). Applications awaiting review are a
    department's review queue: those it decides, by jurisdiction (an index, no filter)."""
    if status != InstitutionStatus.WHITELISTED:
        caller.require(Role.REGULATOR)
    prefix = region_prefix(region) if region else ""
    if caller.role is Role.REGULATOR:
        own = region_prefix(caller.region)
        prefix = prefix if prefix.startswith(own) else own
    if status == InstitutionStatus.PENDING_REVIEW:
        if not caller.region or caller.department is None:
            return Page([], None)
        return ctx.store.institutions_awaiting(caller.department, prefix, limit, cursor)
    page = ctx.store.institutions_by_status(status, prefix, limit, cursor)
    if caller.role is Role.REGULATOR and status != InstitutionStatus.WHITELISTED:
        page = Page([i for i in page.items if caller.supervises(i)], page.next_cursor)
    return page


def supervised_only(ctx: Context, caller: Caller, page: Page[T]) -> Page[T]:
    """The items of `page` (each of an `institution_id`) whose institution the regulator
    supervises; each institution read once per page."""
    institutions: dict[str, Institution | None] = {}

    def supervises(item: T) -> bool:
        institution_id = item.institution_id
        if institution_id not in institutions:
            institutions[institution_id] = ctx.store.institution(institution_id)
        found = institutions[institution_id]
        return found is not None and caller.supervises(found)

    return Page([item for item in page.items if supervises(item)], page.next_cursor)
