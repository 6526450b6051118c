"""Students: a parent links a child."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from chalicelib.api.schemas.common import LINE, Page, Strict, Time


class StudentLink(Strict):
    name: Annotated[str, Field(min_length=1, max_length=50), LINE]
    grade: Annotated[str, Field(min_length=1, max_length=20), LINE]


class StudentView(BaseModel):
    student_id: str
    name: str
    grade: str
    created_at: Time


class StudentPage(Page):
    items: list[StudentView]
