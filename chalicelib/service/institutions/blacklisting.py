"""Blacklisting an institution, and lifting it.

A blacklisted institution never sells, and receives nothing at all: no new money and no
releases. So an institution that may hold parents' money (ever whitelisted) is frozen by its
blacklisting, in the same write and with the same fan-out as a freeze
(chalicelib/service/institutions/freezes.py), unless a freeze is already under way (that one stays
its imposer's). While it is blacklisted no freeze is lifted (409 `institution_blacklisted`).

Only the office that blacklisted it, or its department above it, lifts the blacklisting
(chalicelib/domain/institutions/measures.py; 403 `measure_imposed_elsewhere`); the lifting sent
again by the one who lifted it answers the institution as it is now. The institution goes back
to review (`pending_review`): being whitelisted again is its department's fresh decision, with
the whitelisting criteria checked again. A freeze that came with the blacklisting is lifted
with it (a liquidation's never is); a freeze of its own stays until its own office lifts it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from chalicelib.domain.errors import Forbidden, StateConflict
from chalicelib.domain.institutions.catalog import Institution, InstitutionStatus
from chalicelib.service.caller import Caller, Role
from chalicelib.service.context import Context
from chalicelib.service.institutions import freezes, institution_reviews, institutions
from chalicelib.service.jobs import work


def blacklist(ctx: Context, caller: Caller, institution_id: str, *, reason: str) -> Institution:
    """Name an institution on the blacklist, whatever its status (again: the same answer);
    its competent department decides."""

    def decided(before: Institution, now: datetime) -> Institution:
        caller.require_competent_for(before)
        if before.status is InstitutionStatus.BLACKLISTED:
            return before
        after = replace(before, status=InstitutionStatus.BLACKLISTED,
                        blacklist_office=caller.office)
        if before.ever_whitelisted and not before.frozen:  # it may hold parents' money
            after = freezes.marked(after, frozen=True, who=caller.sub, reason=reason, now=now,
                                   office=caller.office, with_blacklisting=True)
        return after

    return _decide(ctx, caller, institution_id, reason, decided)


def lift(ctx: Context, caller: Caller, institution_id: str, *, reason: str) -> Institution:
    """Take an institution off the blacklist: back to review, and unfrozen if its freeze came
    with the blacklisting."""

    def decided(before: Institution, now: datetime) -> Institution:
        try:
            _require_liftable(caller, before)
        except (StateConflict, Forbidden):
            if institution_reviews.decided_already(ctx, institution_id, caller.sub,
                                                   InstitutionStatus.PENDING_REVIEW, reason):
                return before  # lifted by this very caller already: a retry
            raise
        after = replace(before, status=InstitutionStatus.PENDING_REVIEW, blacklist_office=None)
        if before.frozen_with_blacklisting and before.liquidated_at is None:
            after = freezes.marked(after, frozen=False, who=caller.sub, reason=reason, now=now)
        return after

    return _decide(ctx, caller, institution_id, reason, decided)


def _require_liftable(caller: Caller, institution: Institution) -> None:
    if institution.status is not InstitutionStatus.BLACKLISTED:
        raise StateConflict("该机构不在黑名单中", code="institution_not_blacklisted",
                            status=str(institution.status))
    caller.require_may_undo(institution.blacklist_imposed_by)


def _decide(ctx: Context, caller: Caller, institution_id: str, reason: str,
            decided: Callable[[Institution, datetime], Institution]) -> Institution:
    """Read the institution, let `decided` judge it, write the decision with its history
    entry; read and judge again when a freeze's fan-out (or another decision) rewrote it
    between the read and the write. A freeze changed with it starts its fan-out."""
    caller.require(Role.REGULATOR)

    def attempt() -> tuple[Institution, Institution]:
        before = institutions.visible_to_regulator(ctx, caller, institution_id)
        now = ctx.now()
        after = decided(before, now)
        if after is before:
            return before, before
        after = replace(after, decided_at=now, decided_by=caller.sub, decision_reason=reason)
        return before, institution_reviews.rewrite(ctx, before, after, actor=caller.sub,
                                                   reason=reason)

    before, written = institution_reviews.reading_again(attempt)
    if written.freeze_generation != before.freeze_generation:
        work.run_now(ctx, freezes.JOB)
    return written
