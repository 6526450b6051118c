"""An institution's shop page: its profile and rating, the courses it sells now, and its
latest announcements; the rest of each list pages on at its own route."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.domain.institutions.catalog import (
    Course,
    CourseStatus,
    Institution,
    InstitutionStatus,
)
from chalicelib.domain.shop.review import Rating
from chalicelib.domain.shop.shop import Announcement
from chalicelib.service.caller import Caller
from chalicelib.service.context import Context
from chalicelib.service.institutions import institutions
from chalicelib.service.ports import Page

COURSES_SHOWN = 20
ANNOUNCEMENTS_SHOWN = 3


@dataclass(frozen=True)
class Shop:
    institution: Institution
    rating: Rating
    courses: Page[Course]
    """On sale, only while the institution may sell (whitelisted, not frozen)."""
    announcements: Page[Announcement]


def page(ctx: Context, caller: Caller, institution_id: str) -> Shop:
    institution = institutions.get(ctx, caller, institution_id)
    selling = institution.status is InstitutionStatus.WHITELISTED and not institution.frozen
    courses = (ctx.store.courses_of(institution_id, CourseStatus.APPROVED, COURSES_SHOWN, None)
               if selling else Page([], None))
    return Shop(institution, ctx.store.rating(institution_id), courses,
                ctx.store.announcements_of(institution_id, ANNOUNCEMENTS_SHOWN, None))
