"""Institutions, courses and students: who sells what to whom."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum


class TrainingType(StrEnum):
    SUBJECT = "subject"
    NON_SUBJECT = "non_subject"


class Discipline(StrEnum):
    ACADEMIC = "academic"
    SPORTS = "sports"
    ARTS = "arts"
    SCIENCE = "science"
    OTHER = "other"


class Mode(StrEnum):
    OFFLINE = "offline"
    ONLINE = "online"


class Department(StrEnum):
    EDUCATION = "education"
    SCIENCE = "science"
    CULTURE = "culture"
    SPORTS = "sports"


class InstitutionStatus(StrEnum):
    PENDING_REVIEW = "pending_review"
    WHITELISTED = "whitelisted"
    REJECTED = "rejected"


FROZEN_LISTING = "frozen"
"""Where frozen institutions are listed (for regulators), out of the whitelist parents see."""


class CourseStatus(StrEnum):
    PENDING_REVIEW = "pending_review"
    APPROVED = "approved"
    REJECTED = "rejected"


@dataclass(frozen=True)
class Custodian:
    bank: str
    supervised_account: str
    general_account: str

    @property
    def accounts_distinct(self) -> bool:
        """Releases move money supervised -> general: the two must be different accounts
        (compared as a bank would read them: case and hyphens aside)."""
        return _account(self.supervised_account) != _account(self.general_account)


def _account(number: str) -> str:
    return number.replace("-", "").upper()


@dataclass(frozen=True)
class Institution:
    institution_id: str
    name: str
    uscc: str
    training_type: TrainingType
    discipline: Discipline
    mode: Mode
    region_code: str
    address: str
    custodian: Custodian
    status: InstitutionStatus
    applicant_sub: str
    created_at: datetime
    decided_at: datetime | None = None
    decided_by: str = ""
    decision_reason: str = ""
    frozen_at: datetime | None = None
    """Set while a regulator has the institution frozen (chalicelib/service/freezes.py)."""
    frozen_by: str = ""
    freeze_reason: str = ""
    freeze_generation: int = 0
    """Counts freezes and unfreezes: the fan-out stamps it onto each order with the marker,
    so an older pass never overwrites a newer one."""
    fanout_pass: int = 0
    """Which pass of the freeze marker's fan-out onto the orders is due (1, 2), 0 when done."""
    fanout_cursor: str = ""
    """Where the due pass goes on (the orders index's cursor), "" from the start."""
    liquidated_at: datetime | None = None
    """When a regulator ordered its liquidation (chalicelib/domain/liquidation.py): frozen
    for good, every order's unconsumed money refunded."""

    @property
    def frozen(self) -> bool:
        return self.frozen_at is not None

    @property
    def department(self) -> Department:
        """The competent department: subject -> education; otherwise by discipline."""
        if self.training_type is TrainingType.SUBJECT:
            return Department.EDUCATION
        return _DEPARTMENT_BY_DISCIPLINE.get(self.discipline, Department.EDUCATION)

    @property
    def jurisdiction_code(self) -> str:
        """Offline: the county where it is. Online: the province that approved it."""
        if self.mode is Mode.ONLINE:
            return self.region_code[:2]
        return self.region_code


_DEPARTMENT_BY_DISCIPLINE = {
    Discipline.SPORTS: Department.SPORTS,
    Discipline.ARTS: Department.CULTURE,
    Discipline.SCIENCE: Department.SCIENCE,
}


@dataclass(frozen=True)
class Course:
    course_id: str
    institution_id: str
    region_code: str
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
    status: CourseStatus
    created_at: datetime
    decided_at: datetime | None = None
    decided_by: str = ""
    decision_reason: str = ""


@dataclass(frozen=True)
class Student:
    student_id: str
    parent_sub: str
    name: str
    grade: str
    created_at: datetime
