"""Courses: an institution submits one, its regulator approves it, parents see approved ones."""

from __future__ import annotations

from datetime import date

from chalicelib.domain.catalog import (
    Course,
    CourseStatus,
    Discipline,
    Institution,
    InstitutionStatus,
    Mode,
    TrainingType,
)
from chalicelib.domain.errors import NotFound, RuleViolation
from chalicelib.service import institutions, review
from chalicelib.service.caller import Caller, Role, region_prefix
from chalicelib.service.context import Context
from chalicelib.service.creation import create_once
from chalicelib.service.ports import Page


def submit(
    ctx: Context,
    caller: Caller,
    course_id: str,
    *,
    title: str,
    subject: str,
    discipline: Discipline | None,
    mode: Mode,
    lesson_minutes: int,
    class_size: int,
    price_per_lesson_fen: int,
    lessons_total: int,
    starts_on: date,
    ends_on: date,
    timetable: str,
) -> Course:
    institution = ctx.store.institution(caller.own_institution())
    if institution is None:
        raise NotFound("机构不存在", code="institution_not_found")
    if institution.status is not InstitutionStatus.WHITELISTED:
        raise RuleViolation("机构尚未列入白名单，不能提交课程", code="institution_not_whitelisted")
    if mode is not institution.mode:
        raise RuleViolation("课程的授课方式与机构许可不符", code="course_mode_not_licensed")
    if institution.training_type is TrainingType.SUBJECT and not subject:
        raise RuleViolation("学科类课程须注明学科", code="course_subject_required")
    if institution.training_type is TrainingType.NON_SUBJECT and discipline is None:
        raise RuleViolation("非学科类课程须注明类别", code="course_discipline_required")
    if ends_on < starts_on:
        raise RuleViolation("课程结束日期早于开始日期", code="course_dates_invalid")
    course = Course(
        course_id=course_id,
        institution_id=institution.institution_id,
        region_code=institution.region_code,
        title=title,
        subject=subject,
        discipline=discipline,
        mode=mode,
        lesson_minutes=lesson_minutes,
        class_size=class_size,
        price_per_lesson_fen=price_per_lesson_fen,
        lessons_total=lessons_total,
        starts_on=starts_on,
        ends_on=ends_on,
        timetable=timetable,
        status=CourseStatus.PENDING_REVIEW,
        created_at=ctx.now(),
    )
    return create_once(
        ctx, course, "course",
        existing=lambda: ctx.store.course(course_id),
        same_caller=lambda found: found.institution_id == institution.institution_id,
    )


def decide(ctx: Context, caller: Caller, course_id: str, *, approve: bool, reason: str) -> Course:
    caller.require(Role.REGULATOR)
    course = ctx.store.course(course_id)
    institution = ctx.store.institution(course.institution_id) if course else None
    if course is None or institution is None or not caller.supervises(institution):
        raise NotFound("课程不存在", code="course_not_found", course_id=course_id)
    return review.decide(
        ctx, caller, course,
        target=CourseStatus.APPROVED if approve else CourseStatus.REJECTED,
        pending_status=CourseStatus.PENDING_REVIEW, kind="course", reason=reason,
    )


def on_sale(ctx: Context, course_id: str) -> tuple[Course, Institution]:
    """An approved course and its institution, whitelisted and not frozen, or NotFound /
    RuleViolation."""
    course = ctx.store.course(course_id)
    if course is None:
        raise NotFound("课程不存在", code="course_not_found", course_id=course_id)
    if course.status is not CourseStatus.APPROVED:
        raise RuleViolation("课程尚未通过审核，不能购买", code="course_not_approved")
    return course, institutions.selling(ctx, course.institution_id)


def of_institution(
    ctx: Context, caller: Caller, institution_id: str, *, status: CourseStatus, limit: int,
    cursor: str | None,
) -> Page[Course]:
    if status is not CourseStatus.APPROVED:
        if caller.role is Role.REGULATOR:
            institutions.visible_to_regulator(ctx, caller, institution_id)
        else:
            caller.require_staff_of(institution_id)
    else:
        institutions.get(ctx, caller, institution_id)
    return ctx.store.courses_of(institution_id, status, limit, cursor)


def pending_review(
    ctx: Context, caller: Caller, *, limit: int, cursor: str | None
) -> Page[Course]:
    caller.require(Role.REGULATOR)
    page = ctx.store.courses_by_status(
        CourseStatus.PENDING_REVIEW, region_prefix(caller.region), limit, cursor
    )
    return institutions.supervised_only(ctx, caller, page)
