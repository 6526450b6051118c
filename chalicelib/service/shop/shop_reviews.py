"""Reviews on an institution's shop (chalicelib/domain/shop/review.py): a parent reviews an order
once its first lesson was confirmed, the institution replies once, and the rating is the
sum of the reviews' shards."""

from __future__ import annotations

import zlib
from dataclasses import replace

from chalicelib.domain.errors import NotFound, RuleViolation, StateConflict
from chalicelib.domain.shop.review import (
    RATING_SHARDS,
    TEXT_LIMIT,
    Rating,
    Review,
    ReviewStatus,
    reviewable,
)
from chalicelib.service import retry
from chalicelib.service.caller import Caller, Role
from chalicelib.service.context import Context
from chalicelib.service.escrow import orders
from chalicelib.service.institutions import institutions
from chalicelib.service.ports import Page


def write_review(ctx: Context, caller: Caller, order_id: str, stars: int, text: str
                 ) -> tuple[Review, bool]:
    """The parent's review of their order; (the review, whether this call wrote it). The
    same review sent again is returned; a different second one is refused."""
    caller.require(Role.PARENT)
    order = orders.visible(ctx, caller, order_id)
    text = text[:TEXT_LIMIT]

    def attempt() -> tuple[Review, bool]:
        existing = ctx.store.review(order.order_id)  # (again: a twin may have written it)
        if existing is not None:
            if (existing.stars, existing.text) == (stars, text):
                return existing, False
            raise StateConflict("每个订单只能评价一次", code="review_exists", order_id=order_id)
        if not reviewable(order):
            raise RuleViolation("确认至少一节课后才能评价", code="review_before_confirmed_lesson",
                                order_id=order_id)
        fresh = Review(order.order_id, order.institution_id, order.course_id, caller.sub,
                       stars, text, ctx.now())
        ctx.store.write().create(fresh, "review").count_rating(
            order.institution_id, _shard(order.order_id), stars).commit()
        return fresh, True

    return retry.on_conflict(attempt, retry_when=lambda rejected: True)


def reply(ctx: Context, caller: Caller, order_id: str, text: str) -> Review:
    """The institution's one reply to a review of one of its orders."""
    own = caller.own_institution()
    text = text[:TEXT_LIMIT]

    def attempt() -> Review:
        found = ctx.store.review(order_id)  # (again: a twin may have replied)
        if found is None or found.institution_id != own:
            raise NotFound("评价不存在", code="review_not_found", order_id=order_id)
        if found.status is ReviewStatus.REPLIED:
            if found.reply == text:
                return found
            raise StateConflict("每条评价只能回复一次", code="review_already_replied")
        after = replace(found, status=ReviewStatus.REPLIED, reply=text, replied_at=ctx.now())
        ctx.store.write().replace(found, after, "review").commit()
        return after

    return retry.on_conflict(attempt, retry_when=lambda rejected: True)


def of_institution(ctx: Context, caller: Caller, institution_id: str, *, limit: int,
                   cursor: str | None) -> tuple[Page[Review], Rating]:
    """A shop's reviews, newest first, and its rating (the institution as the caller may
    see it: whitelisted, or theirs)."""
    institution = institutions.get(ctx, caller, institution_id)
    return (ctx.store.reviews_of(institution.institution_id, limit, cursor),
            ctx.store.rating(institution.institution_id))


def rating(ctx: Context, institution_id: str) -> Rating:
    return ctx.store.rating(institution_id)


def _shard(order_id: str) -> int:
    return zlib.crc32(order_id.encode()) % RATING_SHARDS
