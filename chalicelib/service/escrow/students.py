"""A parent's children: orders are only ever for one of them."""

from __future__ import annotations

from chalicelib.domain.errors import NotFound
from chalicelib.domain.institutions.catalog import Student
from chalicelib.service.caller import Caller, Role
from chalicelib.service.context import Context
from chalicelib.service.creation import create_once
from chalicelib.service.ports import Page


def link(ctx: Context, caller: Caller, student_id: str, *, name: str, grade: str) -> Student:
    caller.require(Role.PARENT)
    student = Student(student_id, caller.sub, name, grade, ctx.now())
    return create_once(
        ctx, student, "student",
        existing=lambda: ctx.store.student(caller.sub, student_id),
        same_caller=lambda found: found.parent_sub == caller.sub,
    )


def of_parent(ctx: Context, caller: Caller, *, limit: int, cursor: str | None) -> Page[Student]:
    caller.require(Role.PARENT)
    return ctx.store.students_of(caller.sub, limit, cursor)


def own(ctx: Context, caller: Caller, student_id: str) -> Student:
    student = ctx.store.student(caller.sub, student_id)
    if student is None:
        raise NotFound("学生不存在", code="student_not_found", student_id=student_id)
    return student
