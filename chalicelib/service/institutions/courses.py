"""Courses: an institution submits one, its regulator approves it, parents see approved ones."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from chalicelib.domain.errors import NotFound, RuleViolation
from chalicelib.domain.escrow import charges, schedule
from chalicelib.domain.institutions import course_rules
from chalicelib.domain.institutions.catalog import (
    TAUGHT,
    Course,
    CourseStatus,
    Discipline,
    Institution,
    InstitutionStatus,
    Subject,
    TimetableSlot,
)
from chalicelib.domain.modes import Mode
from chalicelib.service import retry, review
from chalicelib.service.caller import Caller, Role, region_prefix
from chalicelib.service.context import Context
from chalicelib.service.creation import create_once
from chalicelib.service.institutions import institutions
from chalicelib.service.ports import Page


def submit(
    ctx: Context,
    caller: Caller,
    course_id: str,
    *,
    title: str,
    subject: Subject | None,
    discipline: Discipline | None,
    mode: Mode,
    lesson_minutes: int,
    class_size: int,
    price_per_lesson_fen: int,
    lessons_total: int,
    starts_on: date,
    ends_on: date,
    timetable: list[TimetableSlot],
) -> Course:
    """Every automatic check runs before the course reaches a regulator: the licence, the
    caps of one charge, the guided price (subject courses) and the timetable's rules; each
    refusal names what to change. A retry of the request finds its course first, whatever
    became of the institution since."""
    submitted = ctx.store.course(course_id)
    if submitted is not None and submitted.institution_id == caller.own_institution():
        return submitted
    institution = ctx.store.institution(caller.own_institution())
    if institution is None:
        raise NotFound("机构不存在", code="institution_not_found")
    if institution.status is not InstitutionStatus.WHITELISTED:
        raise RuleViolation("机构尚未列入白名单，不能提交课程", code="institution_not_whitelisted")
    course_rules.check_licence(institution, subject=subject or "", discipline=discipline,
                               mode=mode)
    policy = ctx.policy(institution.region_code)
    charges.check_course_fits_one_charge(
        lessons_total=lessons_total, price_per_lesson_fen=price_per_lesson_fen,
        starts_on=starts_on, ends_on=ends_on, policy=policy,
    )
    if subject:
        course_rules.check_guided_price(
            mode=mode, class_size=class_size, lesson_minutes=lesson_minutes,
            price_per_lesson_fen=price_per_lesson_fen, policy=policy,
        )
    schedule.check_timetable(timetable, subject=bool(subject), mode=mode,
                             lesson_minutes=lesson_minutes, policy=policy)
    course = Course(
        course_id=course_id,
        institution_id=institution.institution_id,
        region_code=institution.region_code,
        title=title,
        subject=subject or "",
        discipline=None if subject else discipline,
        mode=mode,
        lesson_minutes=lesson_minutes,
        class_size=class_size,
        price_per_lesson_fen=price_per_lesson_fen,
        lessons_total=lessons_total,
        starts_on=starts_on,
        ends_on=ends_on,
        timetable=tuple(timetable),
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
    caller.require_competent_for(institution)
    return review.decide(
        ctx, caller, lambda: _stored(ctx, course_id),
        target=CourseStatus.APPROVED if approve else CourseStatus.REJECTED,
        pending_status=CourseStatus.PENDING_REVIEW, kind="course", reason=reason,
        moved_on=TAUGHT if approve else (),
    )


def _stored(ctx: Context, course_id: str) -> Course:
    course = ctx.store.course(course_id)
    if course is None:
        raise NotFound("课程不存在", code="course_not_found", course_id=course_id)
    return course


def put_on_sale(ctx: Context, caller: Caller, course_id: str, *, on_sale: bool) -> Course:
    """The institution takes an approved course off sale, or puts it back; doing what is
    already done returns the course. A write that loses a race (another change of the
    course, or the engine's own conflict) reads the course again and tries once more."""
    own = caller.own_institution()
    target = CourseStatus.APPROVED if on_sale else CourseStatus.OFF_SALE

    def attempt() -> Course:
        course = ctx.store.course(course_id)
        if course is None or course.institution_id != own:
            raise NotFound("课程不存在", code="course_not_found", course_id=course_id)
        if course.status is target:
            return course
        if course.status not in TAUGHT:
            raise RuleViolation("只有审核通过的课程才能上架或下架", code="course_not_approved",
                                status=str(course.status))
        moved = replace(course, status=target)
        ctx.store.write().replace(course, moved, "course").commit()
        return moved

    return retry.on_conflict(attempt, retry_when=lambda rejected: True)


def on_sale(ctx: Context, course_id: str) -> tuple[Course, Institution]:
    """An approved course and its institution, whitelisted and not frozen, or NotFound /
    RuleViolation."""
    course = ctx.store.course(course_id)
    if course is None:
        raise NotFound("课程不存在", code="course_not_found", course_id=course_id)
    if course.status is CourseStatus.OFF_SALE:
        raise RuleViolation("课程已下架，暂停购买", code="course_off_sale")
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
    """The courses awaiting the caller's department's review in its jurisdiction (the
    courses it decides: an index, no filter)."""
    caller.require(Role.REGULATOR)
    if not caller.region or caller.department is None:
        return Page([], None)
    return ctx.store.courses_awaiting(caller.department, region_prefix(caller.region), limit,
                                      cursor)
