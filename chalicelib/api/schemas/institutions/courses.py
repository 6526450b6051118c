"""Courses: submission, view, listings."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from chalicelib.api.schemas.common import Page, PageQuery, PositiveFen, Strict, Text
from chalicelib.domain.escrow.lesson import MAX_LESSON_MINUTES
from chalicelib.domain.escrow.schedule import MAX_SLOTS
from chalicelib.domain.institutions.catalog import Discipline, Subject
from chalicelib.domain.modes import Mode
from chalicelib.domain.money import MAX_LESSONS
from chalicelib.domain.policy import TimeOfDay


class Slot(Strict):
    weekday: int = Field(ge=1, le=7, strict=True)
    """ISO weekday: 1 = Monday .. 7 = Sunday."""
    starts_at: TimeOfDay
    """HH:MM, Asia/Shanghai; the lesson lasts the course's lesson_minutes."""


class CourseSubmission(Strict):
    title: Text
    subject: Subject | None = None
    """Subject courses (学科类) only: morality_and_law (道德与法治), chinese (语文), history (历史),
    geography (地理), mathematics (数学), foreign_language (外语), physics (物理), chemistry
    (化学), biology (生物)."""
    discipline: Discipline | None = None
    """Non-subject courses: the institution's own discipline."""
    mode: Mode
    lesson_minutes: int = Field(ge=10, le=MAX_LESSON_MINUTES, strict=True)
    class_size: int = Field(ge=1, le=500, strict=True)
    price_per_lesson_fen: PositiveFen
    lessons_total: int = Field(ge=1, le=MAX_LESSONS, strict=True)
    starts_on: date
    ends_on: date
    timetable: list[Slot] = Field(min_length=1, max_length=MAX_SLOTS)
    """The weekly timetable."""


class SlotView(BaseModel):
    weekday: int
    starts_at: TimeOfDay


class CourseView(BaseModel):
    course_id: str
    institution_id: str
    title: str
    subject: str
    discipline: Discipline | None
    mode: Mode
    lesson_minutes: int
    class_size: int
    price_per_lesson_fen: int
    lessons_total: int
    starts_on: date
    ends_on: date
    timetable: list[SlotView]
    status: str


class CoursePage(Page):
    items: list[CourseView]


class CourseQuery(PageQuery):
    status: str = Field(default="approved",
                        pattern=r"^(approved|off_sale|pending_review|rejected)$")
    """approved: on sale; off_sale: approved, taken off sale (its institution and regulators
    only)."""
