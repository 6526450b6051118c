"""An institution's staff (DOMAIN.md, Staff): every one passes a background check (sexual
offences, employment bans) with signed consent before starting, repeated every
`background_check_valid_months`; a subject teacher holds a teacher qualification certificate.

The institution registers its staff, records their consent and their certificates; the
check's result is recorded by the supervising department, never by the institution that would
like it to pass. A lesson may be taught only by a teacher whose check is current on the
lesson's day and, for a subject course, who holds a certificate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from dateutil.relativedelta import relativedelta

from chalicelib.domain.errors import RuleViolation

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
"""The resident identity number's check character (GB 11643, ISO 7064 MOD 11-2)."""


class StaffRole(StrEnum):
    TEACHER = "teacher"
    ASSISTANT = "assistant"
    MANAGER = "manager"
    OTHER = "other"


class CheckResult(StrEnum):
    PASSED = "passed"
    FAILED = "failed"


@dataclass(frozen=True)
class StaffMember:
    staff_id: str
    institution_id: str
    name: str
    role: StaffRole
    id_number_masked: str
    """Only the masked identity number is kept: region, then the last four."""
    created_at: datetime
    version: int = 1
    """Counts the writes: each is conditioned on the version it read."""
    consent_signed_on: date | None = None
    check_result: CheckResult | None = None
    checked_on: date | None = None
    check_due_on: date | None = None
    """The check must be repeated by this day (checked_on + the policy's months)."""
    checked_by: str = ""
    certificate_number: str = ""
    """The teacher qualification certificate (教师资格证) number, "" if none."""

    def check_current_on(self, day: date) -> bool:
        return (self.check_result is CheckResult.PASSED and self.check_due_on is not None
                and day <= self.check_due_on)


def is_resident_id(number: str) -> bool:
    """18 characters: 17 digits and a check character (a digit or X)."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    total = sum(int(c) * w for c, w in zip(number[:17], ID_WEIGHTS, strict=True))
    return ID_CHECK[total % 11] == number[17].upper()


def masked(number: str) -> str:
    return f"{number[:6]}{'*' * 8}{number[-4:]}"


def check_due(checked_on: date, valid_months: int) -> date:
    due: date = checked_on + relativedelta(months=valid_months)
    return due


def check_can_teach(teacher: StaffMember | None, *, institution_id: str, day: date,
                    subject: bool) -> None:
    """Refuse a lesson taught by someone who may not teach it on `day`."""
    if teacher is None or teacher.institution_id != institution_id:
        raise RuleViolation("授课教师不是本机构登记的员工", code="teacher_not_of_institution")
    if teacher.role is not StaffRole.TEACHER:
        raise RuleViolation(f"{teacher.name} 不是登记的教师，不能授课", code="not_a_teacher",
                            staff_id=teacher.staff_id)
    if teacher.check_result is not CheckResult.PASSED:
        raise RuleViolation(
            f"{teacher.name} 的背景审查尚未通过，不能授课", code="teacher_check_not_passed",
            staff_id=teacher.staff_id,
        )
    if not teacher.check_current_on(day):
        raise RuleViolation(
            f"{teacher.name} 的背景审查已于 {teacher.check_due_on} 到期，须重新审查后才能授课",
            code="teacher_check_lapsed", staff_id=teacher.staff_id,
            check_due_on=str(teacher.check_due_on),
        )
    if subject and not teacher.certificate_number:
        raise RuleViolation(
            f"{teacher.name} 没有登记教师资格证，不能讲授学科类课程",
            code="teacher_certificate_missing", staff_id=teacher.staff_id,
        )
