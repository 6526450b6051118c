"""Consultations: a parent asks an institution a question on its shop, the institution
answers once (chalicelib/domain/shop/shop.py). Each side is told in its inbox, by a notice
written with the change."""

from __future__ import annotations

from dataclasses import replace

from chalicelib.domain.errors import NotFound, StateConflict
from chalicelib.domain.institutions.catalog import InstitutionStatus
from chalicelib.domain.messages.notice import Event, institution_inbox, parent_inbox
from chalicelib.domain.shop.shop import TEXT_LIMIT, Consultation, ConsultationStatus
from chalicelib.service import retry
from chalicelib.service.caller import Caller, Role
from chalicelib.service.context import Context
from chalicelib.service.institutions import institutions
from chalicelib.service.messages import notices
from chalicelib.service.ports import Page, WriteRejected


def ask(ctx: Context, caller: Caller, institution_id: str, consultation_id: str,
        question: str) -> Consultation:
    """A parent's question to a whitelisted institution, under the id the request's
    Idempotency-Key reserved: a retry finds it asked."""
    caller.require(Role.PARENT)
    asked = ctx.store.consultation(consultation_id)
    if asked is not None and (asked.parent_sub, asked.institution_id) == (caller.sub,
                                                                          institution_id):
        return asked  # a retry, whatever became of the institution since
    institution = institutions.get(ctx, caller, institution_id)
    if institution.status is not InstitutionStatus.WHITELISTED:
        raise NotFound("机构不存在", code="institution_not_found", institution_id=institution_id)
    fresh = Consultation(consultation_id, institution_id, caller.sub, question[:TEXT_LIMIT],
                         ctx.now())
    write = ctx.store.write().create(fresh, "consultation")
    told = notices.tell(ctx, write, institution_inbox(institution_id), Event.CONSULTATION_ASKED,
                        consultation_id, "家长提出了一条咨询")
    try:
        write.commit()
    except WriteRejected:
        found = ctx.store.consultation(consultation_id)
        if found is None or found.parent_sub != caller.sub:
            raise
        return found
    notices.push_now(ctx, [told])
    return fresh


def answer(ctx: Context, caller: Caller, consultation_id: str, text: str) -> Consultation:
    """The institution's one answer; the same answer sent again is returned."""
    own = caller.own_institution()
    text = text[:TEXT_LIMIT]

    def attempt() -> Consultation:
        found = ctx.store.consultation(consultation_id)  # (again: a twin may have answered)
        if found is None or found.institution_id != own:
            raise NotFound("咨询不存在", code="consultation_not_found",
                           consultation_id=consultation_id)
        if found.status is ConsultationStatus.ANSWERED:
            if found.answer == text:
                return found
            raise StateConflict("每条咨询只能回复一次", code="consultation_already_answered")
        after = replace(found, status=ConsultationStatus.ANSWERED, answer=text,
                        answered_at=ctx.now(), answered_by=caller.sub)
        write = ctx.store.write().replace(found, after, "consultation")
        told = notices.tell(ctx, write, parent_inbox(found.parent_sub),
                            Event.CONSULTATION_ANSWERED, consultation_id, "机构回复了您的咨询")
        write.commit()
        notices.push_now(ctx, [told])
        return after

    return retry.on_conflict(attempt, retry_when=lambda rejected: True)


def visible(ctx: Context, caller: Caller, consultation_id: str) -> Consultation:
    """One consultation: to the parent who asked and to the institution asked."""
    found = ctx.store.consultation(consultation_id)
    if found is not None and (
        (caller.role is Role.PARENT and found.parent_sub == caller.sub)
        or (caller.role is Role.INSTITUTION and caller.institution_id == found.institution_id)
    ):
        return found
    raise NotFound("咨询不存在", code="consultation_not_found", consultation_id=consultation_id)


def listing(ctx: Context, caller: Caller, *, status: str, limit: int, cursor: str | None
            ) -> Page[Consultation]:
    """A parent's questions, or an institution's consultations (by status), newest first."""
    caller.require(Role.PARENT, Role.INSTITUTION)
    if caller.role is Role.PARENT:
        page = ctx.store.consultations_of_parent(caller.sub, limit, cursor)
        return Page([c for c in page.items if not status or c.status == status],
                    page.next_cursor)
    return ctx.store.consultations_of_institution(caller.own_institution(), status, limit,
                                                  cursor)
