"""An institution's announcements on its shop: its staff post them, anyone signed in reads
them, newest first (chalicelib/domain/shop/shop.py)."""

from __future__ import annotations

from chalicelib.domain.errors import StateConflict
from chalicelib.domain.shop.shop import TEXT_LIMIT, TITLE_LIMIT, Announcement
from chalicelib.service import creation
from chalicelib.service.caller import Caller
from chalicelib.service.context import Context
from chalicelib.service.institutions import institutions
from chalicelib.service.ports import Page


def post(ctx: Context, caller: Caller, institution_id: str, announcement_id: str, *,
         title: str, text: str) -> Announcement:
    """Post under the id the request's Idempotency-Key reserved: a retry finds it posted. A
    frozen institution posts nothing (409 `institution_frozen`): the freeze stops its
    recruitment, and what parents read on its shop while it is frozen is what it posted
    before (docs/decisions.md, issue 22)."""
    caller.require_staff_of(institution_id)
    posted = ctx.store.announcement(institution_id, announcement_id)
    if posted is not None and posted.posted_by == caller.sub:
        return posted  # a retry, whatever became of the institution since
    institution = ctx.store.institution(institution_id)
    if institution is not None and institution.frozen:
        raise StateConflict("机构已被监管部门冻结，暂停发布公告", code="institution_frozen",
                            institution_id=institution_id)
    fresh = Announcement(announcement_id, institution_id, title[:TITLE_LIMIT], text[:TEXT_LIMIT],
                         ctx.now(), caller.sub)
    return creation.create_once(
        ctx, fresh, "announcement",
        existing=lambda: ctx.store.announcement(institution_id, announcement_id),
        same_caller=lambda found: found.posted_by == caller.sub)


def of_institution(ctx: Context, caller: Caller, institution_id: str, *, limit: int,
                   cursor: str | None) -> Page[Announcement]:
    """A shop's announcements, newest first (the institution as the caller may see it)."""
    institutions.get(ctx, caller, institution_id)
    return ctx.store.announcements_of(institution_id, limit, cursor)
