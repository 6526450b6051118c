"""Students: a parent links a child."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from chalicelib.api.schemas.common import Page, Strict, Time


class StudentLink(Strict):
    name: Annotated[str, Field(min_length=1, max_length=50)]
    grade: Annotated[str, Field(min_length=1, max_length=20)]


class StudentView(BaseModel):
    student_id: str
    name: str
    grade: str
    created_at: Time


class StudentPage(Page):
    items: list[StudentView]
