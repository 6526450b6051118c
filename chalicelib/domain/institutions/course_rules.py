"""What a course must be to be sold (DOMAIN.md, Institutions and Courses and prices): inside
its institution's licence, and for subject training at most the government-guided price."""

from __future__ import annotations

from chalicelib.domain.errors import RuleViolation
from chalicelib.domain.institutions.catalog import Discipline, Institution, TrainingType
from chalicelib.domain.modes import Mode
from chalicelib.domain.policy import Policy


def check_licence(
    institution: Institution, *, subject: str, discipline: Discipline | None, mode: Mode,
) -> None:
    """An institution sells only its licensed mode, and its own type: subject courses (with a
    subject) if it is a subject institution, courses of its discipline otherwise."""
    if mode is not institution.mode:
        raise RuleViolation(
            f"机构许可的授课方式为{_mode_name(institution.mode)}，不能开设{_mode_name(mode)}课程",
            code="course_mode_not_licensed", licensed_mode=institution.mode.value,
        )
    if institution.training_type is TrainingType.SUBJECT:
        if not subject:
            raise RuleViolation("学科类机构的课程须注明学科", code="course_subject_required")
        if discipline not in (None, Discipline.ACADEMIC):
            raise RuleViolation("学科类机构不能开设非学科类课程",
                                code="course_type_not_licensed")
        return
    if subject:
        raise RuleViolation("非学科类机构不能开设学科类课程", code="course_type_not_licensed")
    if discipline is None:
        raise RuleViolation("非学科类课程须注明类别", code="course_discipline_required")
    if discipline is not institution.discipline:
        raise RuleViolation(
            "课程类别与机构许可的类别不符", code="course_discipline_not_licensed",
            licensed_discipline=institution.discipline.value,
        )


def guided_ceiling_fen(*, mode: Mode, class_size: int, lesson_minutes: int,
                       policy: Policy) -> tuple[int, int] | None:
    """(base price, the most a lesson may cost) for a subject course, or None where the
    region has no guided price for the mode. The base is for a standard-length lesson: it is
    pro-rated by minutes, plus the markup, rounded down to the fen (exact integers)."""
    table = policy.guided_prices
    base = table.base_fen(mode, class_size) if table is not None else None
    if base is None:
        return None
    standard = policy.standard_lesson_minutes[mode]
    ceiling = (base * lesson_minutes * (100 + policy.guided_price_markup_percent)
               // (standard * 100))
    return base, ceiling


def check_guided_price(*, mode: Mode, class_size: int, lesson_minutes: int,
                       price_per_lesson_fen: int, policy: Policy) -> None:
    found = guided_ceiling_fen(mode=mode, class_size=class_size,
                               lesson_minutes=lesson_minutes, policy=policy)
    if found is None:
        raise RuleViolation(
            f"本地区尚未公布{_mode_name(mode)}学科类培训的政府指导价，暂不能提交学科类课程",
            code="guided_price_unavailable", mode=mode.value,
        )
    base, ceiling = found
    if price_per_lesson_fen > ceiling:
        raise RuleViolation(
            f"每课时价格 {price_per_lesson_fen} 分超过政府指导价上限 {ceiling} 分"
            f"（基准价 {base} 分 / {policy.standard_lesson_minutes[mode]} 分钟，按 "
            f"{lesson_minutes} 分钟折算，上浮 {policy.guided_price_markup_percent}%）",
            code="course_price_above_guided", base_fen=base, max_fen=ceiling,
            price_per_lesson_fen=price_per_lesson_fen,
        )


def _mode_name(mode: Mode) -> str:
    return "线上" if mode is Mode.ONLINE else "线下"
