"""A lesson taught: one class session of a course, attended by some orders' students."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

MAX_ATTENDING_ORDERS = 100


@dataclass(frozen=True)
class Lesson:
    lesson_id: str
    institution_id: str
    course_id: str
    teacher_id: str
    started_at: datetime
    ended_at: datetime
    order_ids: tuple[str, ...]
    recorded_at: datetime
