"""Courses: submission, view, listings."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from chalicelib.api.schemas.common import Page, PageQuery, PositiveFen, Strict, Text
from chalicelib.domain.catalog import Discipline, Mode
from chalicelib.domain.money import MAX_LESSONS


class CourseSubmission(Strict):
    title: Text
    subject: str = Field(default="", max_length=20)
    discipline: Discipline | None = None
    mode: Mode
    lesson_minutes: int = Field(ge=10, le=240, strict=True)
    class_size: int = Field(ge=1, le=500, strict=True)
    price_per_lesson_fen: PositiveFen
    lessons_total: int = Field(ge=1, le=MAX_LESSONS, strict=True)
    starts_on: date
    ends_on: date
    timetable: str = Field(default="", max_length=2000)


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
    timetable: str
    status: str


class CoursePage(Page):
    items: list[CourseView]


class CourseQuery(PageQuery):
    status: str = Field(default="approved", pattern=r"^(approved|pending_review|rejected)$")
