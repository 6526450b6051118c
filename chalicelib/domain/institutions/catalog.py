"""Institutions, courses and students: who sells what to whom."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum

from chalicelib.domain.escrow.bank import account_number
from chalicelib.domain.institutions import measures
from chalicelib.domain.institutions.measures import Office
from chalicelib.domain.modes import Mode


class TrainingType(StrEnum):
    SUBJECT = "subject"
    NON_SUBJECT = "non_subject"


class Discipline(StrEnum):
    ACADEMIC = "academic"
    SPORTS = "sports"
    ARTS = "arts"
    SCIENCE = "science"
    OTHER = "other"


class Subject(StrEnum):
    """The subjects of subject training (学科类)."""

    MORALITY_AND_LAW = "morality_and_law"  # 道德与法治
    CHINESE = "chinese"  # 语文
    HISTORY = "history"  # 历史
    GEOGRAPHY = "geography"  # 地理
    MATHEMATICS = "mathematics"  # 数学
    FOREIGN_LANGUAGE = "foreign_language"  # 外语
    PHYSICS = "physics"  # 物理
    CHEMISTRY = "chemistry"  # 化学
    BIOLOGY = "biology"  # 生物


class Department(StrEnum):
    EDUCATION = "education"
    SCIENCE = "science"
    CULTURE = "culture"
    SPORTS = "sports"


class InstitutionStatus(StrEnum):
    PENDING_REVIEW = "pending_review"
    CHANGES_REQUESTED = "changes_requested"
    """The department asked for changes: the institution edits its profile, which sends it
    back to review."""
    WHITELISTED = "whitelisted"
    REJECTED = "rejected"
    BLACKLISTED = "blacklisted"
    """Named on the blacklist by its department, with a reason: never sells again."""


EDITABLE = frozenset({InstitutionStatus.PENDING_REVIEW, InstitutionStatus.CHANGES_REQUESTED,
                      InstitutionStatus.WHITELISTED})
"""The statuses in which an institution may edit its profile."""


@dataclass(frozen=True)
class StatusChange:
    """One change of an institution's status, kept beside it: who, when, why."""

    institution_id: str
    change_id: str
    at: datetime
    from_status: InstitutionStatus
    to_status: InstitutionStatus
    actor: str
    reason: str


FROZEN_LISTING = "frozen"
"""Where frozen institutions are listed (for regulators), out of the whitelist parents see."""


class CourseStatus(StrEnum):
    PENDING_REVIEW = "pending_review"
    APPROVED = "approved"
    """Approved and on sale."""
    OFF_SALE = "off_sale"
    """Approved, taken off sale by its institution: no new purchases; lessons already bought
    are still taught and recorded. It can be put back on sale."""
    REJECTED = "rejected"


TAUGHT = frozenset({CourseStatus.APPROVED, CourseStatus.OFF_SALE})
"""The course statuses whose lessons may be recorded."""


@dataclass(frozen=True)
class Custodian:
    bank: str
    supervised_account: str
    general_account: str

    @property
    def accounts_distinct(self) -> bool:
        """Releases move money supervised -> general: the two must be different accounts
        (compared as a bank would read them: case and hyphens aside)."""
        return account_number(self.supervised_account) != account_number(self.general_account)

    @property
    def accounts(self) -> tuple[str, str]:
        return self.supervised_account, self.general_account

    def same_escrow(self, other: Custodian) -> bool:
        """The parents' money would stay where it is: the same supervised account at the
        same bank (a general account may change without moving anything)."""
        return (self.bank, account_number(self.supervised_account)) == (
            other.bank, account_number(other.supervised_account))


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
    permit_number: str = ""
    """The school-running permit (办学许可证) number; "" on applications made before it was
    asked for."""
    whitelisted_at: datetime | None = None
    """When it was first whitelisted: from then on it may hold parents' money, so it can be
    frozen and liquidated whatever its status later (back in review, blacklisted)."""
    profile_version: int = 0
    """Counts its profile edits: every rewrite of the institution requires the version it
    read, so a decision never reverts an edit made meanwhile."""
    decided_at: datetime | None = None
    decided_by: str = ""
    decision_reason: str = ""
    frozen_at: datetime | None = None
    """Set while a regulator has the institution frozen
    (chalicelib/service/institutions/freezes.py)."""
    frozen_by: str = ""
    freeze_reason: str = ""
    freeze_office: Office | None = None
    """The office that imposed the freeze under way: only it, or its department above it,
    lifts it (chalicelib/domain/institutions/measures.py)."""
    frozen_with_blacklisting: bool = False
    """The freeze came with the institution's blacklisting: lifting that lifts it."""
    unfrozen_at: datetime | None = None
    """When its last freeze was lifted: its pending lessons' windows start again from then."""
    unfrozen_by: str = ""
    unfreeze_reason: str = ""
    """Who lifted its last freeze, and why (kept through later freezes, as `unfrozen_at`):
    a retry of that lifting is known for what it is (chalicelib/service/institutions/freezes.py)."""
    blacklist_office: Office | None = None
    """The office that blacklisted it (while blacklisted)."""
    freeze_generation: int = 0
    """Counts freezes and unfreezes: the fan-out stamps it onto each order with the marker,
    so an older pass never overwrites a newer one."""
    fanout_pass: int = 0
    """Which pass of the freeze marker's fan-out onto the orders is due (1, 2), 0 when done."""
    fanout_cursor: str = ""
    """Where the due pass goes on (the orders index's cursor), "" from the start."""
    liquidated_at: datetime | None = None
    """When a regulator ordered its liquidation (chalicelib/domain/institutions/liquidation.py):
    frozen for good, every order's unconsumed money refunded."""
    indexed: tuple[str, ...] = ()
    """The directory partitions listing it (chalicelib/domain/shop/directory.py), written with
    it: a change of them drops exactly these."""
    reviewed_custodian: Custodian | None = None
    """The custodian accounts its department approved last (set at each whitelisting):
    releases go to this general account, while a change (`custodian`) waits in review."""

    @property
    def frozen(self) -> bool:
        return self.frozen_at is not None

    @property
    def freeze_imposed_by(self) -> Office:
        """Who imposed the freeze under way (a freeze recorded before offices were: its
        competent department at its jurisdiction)."""
        return self.freeze_office or measures.presumed(self.department, self.jurisdiction_code)

    @property
    def blacklist_imposed_by(self) -> Office:
        return self.blacklist_office or measures.presumed(self.department,
                                                          self.jurisdiction_code)

    @property
    def approved_custodian(self) -> Custodian | None:
        """The accounts its department last approved; None if unknown (never whitelisted,
        or whitelisted before they were kept and since sent back to review)."""
        if self.reviewed_custodian is not None:
            return self.reviewed_custodian
        return self.custodian if self.status is InstitutionStatus.WHITELISTED else None

    @property
    def ever_whitelisted(self) -> bool:
        return self.whitelisted_at is not None or self.status is InstitutionStatus.WHITELISTED

    @property
    def department(self) -> Department:
        return competent_department(self.training_type is TrainingType.SUBJECT, self.discipline)

    @property
    def jurisdiction_code(self) -> str:
        return jurisdiction(self.mode, self.region_code)


def competent_department(subject: bool, discipline: Discipline | None) -> Department:
    """Subject training -> education; other training by its discipline; anything unassigned
    -> education."""
    if subject or discipline is None:
        return Department.EDUCATION
    return _DEPARTMENT_BY_DISCIPLINE.get(discipline, Department.EDUCATION)


def jurisdiction(mode: Mode, region_code: str) -> str:
    """Offline: the county where it is. Online: the province that approved it."""
    return region_code[:2] if mode is Mode.ONLINE else region_code


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
    timetable: tuple[TimetableSlot, ...]
    status: CourseStatus
    created_at: datetime
    decided_at: datetime | None = None
    decided_by: str = ""
    decision_reason: str = ""

    @property
    def is_subject(self) -> bool:
        """Subject training (学科类): the course names a subject."""
        return bool(self.subject)

    @property
    def department(self) -> Department:
        """Its institution's competent department (a course fits its institution's licence)."""
        return competent_department(self.is_subject, self.discipline)

    @property
    def jurisdiction_code(self) -> str:
        return jurisdiction(self.mode, self.region_code)


@dataclass(frozen=True)
class TimetableSlot:
    """A weekly lesson: ISO weekday (1 = Monday .. 7 = Sunday) and start time, Asia/Shanghai;
    it lasts the course's `lesson_minutes` (rules: chalicelib/domain/escrow/schedule.py)."""

    weekday: int
    starts_at: time

    def label(self) -> str:
        return f"{WEEKDAYS[self.weekday]} {self.starts_at:%H:%M}"


WEEKDAYS = ("", "周一", "周二", "周三", "周四", "周五", "周六", "周日")
"""ISO weekday numbers (1 = Monday) as people read them."""


@dataclass(frozen=True)
class Student:
    student_id: str
    parent_sub: str
    name: str
    grade: str
    created_at: datetime
