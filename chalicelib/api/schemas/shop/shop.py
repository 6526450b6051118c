"""A shop: its page, its announcements, and consultations between a parent and it."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from chalicelib.api.schemas.common import LINE, LINES, Page, PageQuery, Strict, Time
from chalicelib.api.schemas.institutions.courses import CourseView
from chalicelib.api.schemas.institutions.institutions import InstitutionView
from chalicelib.api.schemas.shop.reviews import RatingView
from chalicelib.domain.shop.shop import TEXT_LIMIT, TITLE_LIMIT

ShopText = Annotated[str, Field(min_length=1, max_length=TEXT_LIMIT), LINES]


class AnnouncementBody(Strict):
    title: Annotated[str, Field(min_length=1, max_length=TITLE_LIMIT), LINE]
    text: ShopText


class AnnouncementView(BaseModel):
    announcement_id: str
    institution_id: str
    title: str
    text: str
    posted_at: Time


class AnnouncementPage(Page):
    items: list[AnnouncementView]


class ShopView(BaseModel):
    institution: InstitutionView
    rating: RatingView
    courses: list[CourseView]
    """On sale now (none while the institution may not sell: frozen, or off the whitelist)."""
    courses_next_cursor: str | None
    """Where `GET /v1/institutions/{id}/courses` goes on."""
    announcements: list[AnnouncementView]
    """The latest few; `GET /v1/institutions/{id}/announcements` lists them all."""


class ConsultationBody(Strict):
    question: ShopText


class ConsultationAnswer(Strict):
    text: ShopText


class ConsultationView(BaseModel):
    consultation_id: str
    institution_id: str
    question: str
    asked_at: Time
    status: str
    answer: str
    answered_at: Time | None


class ConsultationPage(Page):
    items: list[ConsultationView]


class ConsultationQuery(PageQuery):
    status: Literal["", "asked", "answered"] = ""
