"""A student's or a teacher's time-slot items (chalicelib/domain/escrow/timeslots.py states the
rule): one conditional update per slot a lesson touches, inside the consuming transaction.
Student (`stu_…`) and staff (`stf_…`) ids never collide, so both share one key shape."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chalicelib.adapters.dynamo.expressions import UpdateExpression
from chalicelib.domain.escrow import timeslots
from chalicelib.domain.escrow.timeslots import Footprint


def slot_key(person_id: str, footprint: Footprint) -> dict[str, str]:
    return {
        "pk": f"slot#{person_id}",
        "sk": footprint.slot_start_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def occupy(footprint: Footprint, lesson_id: str) -> UpdateExpression:
    """Claim `footprint`, on condition it overlaps nothing already in its slot."""
    expression = UpdateExpression()
    prefix_end, suffix_start = expression.name("prefix_end"), expression.name("suffix_start")
    if footprint.from_slot_start:
        end = expression.value(footprint.busy_to)
        expression.require(f"attribute_not_exists({prefix_end})")
        expression.require(f"attribute_not_exists({suffix_start}) OR {suffix_start} >= {end}")
        expression.set("prefix_end", footprint.busy_to).set("prefix_lesson", lesson_id)
    if footprint.to_slot_end:
        start = expression.value(footprint.busy_from)
        expression.require(f"attribute_not_exists({suffix_start})")
        expression.require(f"attribute_not_exists({prefix_end}) OR {prefix_end} <= {start}")
        expression.set("suffix_start", footprint.busy_from).set("suffix_lesson", lesson_id)
    retention = int(timeslots.RETENTION.total_seconds())
    return expression.set("expires_at_epoch", footprint.slot_end + retention)


def pace_key(student_id: str, course_id: str, week: str) -> dict[str, str]:
    """A student's lessons of a course in one ISO week."""
    return {"pk": f"pace#{student_id}", "sk": f"{course_id}#{week}"}


def count_lesson(week: str, limit: int) -> UpdateExpression:
    """One more lesson in the week, on condition it holds fewer than `limit`; kept the
    slots' retention after the week ends."""
    expression = UpdateExpression()
    lessons = expression.name("lessons")
    expression.require(f"attribute_not_exists({lessons}) OR {lessons} < "
                       f"{expression.value(limit)}")
    expression.increment("lessons", 1)
    week_ends = datetime.fromisocalendar(int(week[:4]), int(week[6:]), 7).replace(tzinfo=UTC)
    keep = int((week_ends + timedelta(days=1) + timeslots.RETENTION).timestamp())
    return expression.set("expires_at_epoch", keep)
