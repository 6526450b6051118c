"""A department's decisions on an institution: whitelist, reject, ask for changes (blacklisting:
chalicelib/service/institutions/blacklisting.py). Only the competent department acts
(`Caller.require_competent_for`); every change of status, whoever makes it, is written with
its entry in the status history, in one transaction. A decision whose write finds the
institution rewritten since it was read (a freeze's fan-out, the institution's own edit,
the engine's transaction conflict) reads it again and decides again (`reading_again`)."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import replace
from typing import TypeVar

from chalicelib.domain.errors import RuleViolation, StateConflict
from chalicelib.domain.institutions.catalog import Institution, InstitutionStatus, StatusChange
from chalicelib.domain.shop import directory
from chalicelib.service import retry
from chalicelib.service.caller import Caller, Role
from chalicelib.service.context import Context
from chalicelib.service.escrow import escrow
from chalicelib.service.institutions import (
    bank_accounts,
    freezes,
    institution_names,
    institutions,
    staff,
)
from chalicelib.service.ports import Page, WriteRejected, every_page

PENDING = frozenset({InstitutionStatus.PENDING_REVIEW})
T = TypeVar("T")
CHANGED = "institution_changed"
"""The refusal of a write that found the institution rewritten since it was read."""


def decide(
    ctx: Context, caller: Caller, institution_id: str, *, approve: bool, reason: str
) -> Institution:
    """Whitelist an institution only when every criterion holds: its custodian bank and two
    accounts registered, a staff member whose background check is current, and (a new
    supervised account) nothing held in the one it replaces; or reject it, with reasons.
    Whitelisting approves its custodian accounts: releases go to that general account."""
    target = InstitutionStatus.WHITELISTED if approve else InstitutionStatus.REJECTED

    def attempt() -> Institution:
        institution = _competent(ctx, caller, institution_id)
        if approve and institution.status is InstitutionStatus.PENDING_REVIEW:
            _check_whitelist_criteria(ctx, institution)
            escrow.require_empty(ctx, institution, institution.custodian)
        return move(ctx, institution, target, actor=caller.sub, reason=reason,
                    allowed_from=PENDING)

    return reading_again(attempt)


def request_changes(ctx: Context, caller: Caller, institution_id: str, *, reason: str
                    ) -> Institution:
    """Send an application back with what to change; the institution's next edit of its
    profile returns it to review."""
    return reading_again(lambda: move(
        ctx, _competent(ctx, caller, institution_id), InstitutionStatus.CHANGES_REQUESTED,
        actor=caller.sub, reason=reason, allowed_from=PENDING))


def history(ctx: Context, caller: Caller, institution_id: str, *, limit: int,
            cursor: str | None) -> Page[StatusChange]:
    """The status history, oldest first: the institution's own staff and its regulators."""
    if caller.role is Role.REGULATOR:
        institutions.visible_to_regulator(ctx, caller, institution_id)
    else:
        institutions.own_or_applied(ctx, caller, institution_id)
    return ctx.store.status_history(institution_id, limit, cursor)


def move(ctx: Context, institution: Institution, target: InstitutionStatus, *, actor: str,
         reason: str, allowed_from: Collection[InstitutionStatus]) -> Institution:
    """A department's decision: `institution` moved to `target`; moving it where it already
    is returns it (a retry, or a twin decision), and so does the decision taken already by
    the same actor, whatever happened to the institution since (`decided_already`)."""
    if institution.status is target:
        return institution
    if institution.status not in allowed_from:
        if decided_already(ctx, institution.institution_id, actor, target, reason):
            return institution
        raise StateConflict("机构当前状态不允许此操作", code="institution_not_pending",
                            status=str(institution.status))
    now = ctx.now()
    decided = replace(institution, status=target, decided_at=now, decided_by=actor,
                      decision_reason=reason)
    if target is InstitutionStatus.WHITELISTED:
        decided = replace(decided, reviewed_custodian=institution.custodian,
                          whitelisted_at=institution.whitelisted_at or now)
    return rewrite(ctx, institution, decided, actor=actor, reason=reason)


def rewrite(ctx: Context, before: Institution, after: Institution, *, actor: str, reason: str
            ) -> Institution:
    """Write `after` over `before` (conditioned on what was read), with a history entry if
    its status changed; a freeze's fan-out under way stays on the schedule."""
    listing = directory.facets(after)
    if before.indexed or not before.ever_whitelisted:
        listed, add = frozenset(before.indexed), listing - frozenset(before.indexed)
    else:  # whitelisted before the directory existed: every entry written now
        listed, add = directory.facets(before), listing
    after = replace(after, indexed=tuple(sorted(listing)))
    write = ctx.store.write().replace(before, after, "institution",
                                      due=freezes.fan_out_due(after, ctx))
    institution_names.claim(ctx, write, after, before=before)  # a rename: the new name
    if add or listed - listing:  # first whitelisted, or renamed
        write.index_directory(after.institution_id, after.region_code, add=add,
                              drop=listed - listing)
    if after.custodian != before.custodian:  # its new accounts are an institution's too
        bank_accounts.register(ctx, write, after.institution_id, after.uscc, after.custodian)
    if after.status is not before.status:
        write.create(StatusChange(before.institution_id, ctx.new_id("hst"), ctx.now(),
                                  before.status, after.status, actor, reason), "history")
    try:
        write.commit()
    except WriteRejected as rejected:
        raise StateConflict("该机构已被他人处理，请刷新", code=CHANGED) from rejected
    return after


def reading_again(attempt: Callable[[], T]) -> T:
    """Run `attempt` (it reads the institution, judges it and writes through `rewrite`) again
    while its write finds the institution rewritten since its read, so a caller is never
    refused for someone else's unrelated write: it judges the institution as it is now
    (and is refused what that refuses). At most `retry.MAX_ATTEMPTS` times; then the last
    `institution_changed` stands."""
    for attempts in range(1, retry.MAX_ATTEMPTS + 1):
        try:
            return attempt()
        except StateConflict as conflict:
            if conflict.code != CHANGED or attempts == retry.MAX_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


def decided_already(ctx: Context, institution_id: str, actor: str, target: InstitutionStatus,
                    reason: str) -> bool:
    """The actor's latest entry in the institution's status history moved it to `target`
    for this reason: this very decision was taken (a client's retry after a timeout), and
    the institution moved on since. Read only when the decision would be refused."""
    history = every_page(lambda cursor: ctx.store.status_history(institution_id, 100, cursor))
    mine = [change for change in history if change.actor == actor]
    return bool(mine) and (mine[-1].to_status, mine[-1].reason) == (target, reason)


def _competent(ctx: Context, caller: Caller, institution_id: str) -> Institution:
    institution = institutions.visible_to_regulator(ctx, caller, institution_id)
    caller.require_competent_for(institution)
    return institution


def _check_whitelist_criteria(ctx: Context, institution: Institution) -> None:
    unmet = [criterion for criterion, holds in (
        ("custodian_accounts", bool(institution.custodian.bank)
         and institution.custodian.accounts_distinct),
        ("staff_checked", staff.any_checked(ctx, institution.institution_id)),
    ) if not holds]
    if unmet:
        raise RuleViolation(
            "机构尚不满足白名单条件：须登记存管银行与监管、一般两个账户，且至少一名员工背景审查已通过",
            code="whitelist_criteria_unmet", unmet=unmet,
        )
