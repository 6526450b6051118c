"""Complaints: every case reaches the competent department of its jurisdiction, on time.

    filed --routing--> institution --answers--> awaiting_parent --accepts--> resolved
      |                    |                          |      \\--silent past its days--> resolved
      |                    | silent past its days     | rejects
      |                    v                          v
      +--(safety, fund risk, illegal training;--> department --resolves, with an outcome--> resolved
          hotline calls; escalated refunds        |   ^    \\--transfers (department or region)
          and disputes)                           |   |        with a reason: its due date kept
                                                  +---+
                                   overdue: escalated one level (county -> city -> province)
                                   above the highest office that held it, flagged, with a new
                                   clock there; overdue at the province: flagged and left with
                                   the province (chalicelib/domain/complaints/case_transfer.py)

Every case has exactly one holder (`holder`): the platform while it is routed, then the
institution, the parent, or one department at one region; a resolved case is held by nobody.
Clocks count working days (chalicelib/domain/calendar.py); a case is due by the end of its
due day, Asia/Shanghai, and is reminded at the start of it. The parent rates a resolved case
once. Every step lands in the timeline (`Step`), written in the same transaction as the
change it records.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from chalicelib.domain.calendar import SHANGHAI
from chalicelib.domain.institutions.catalog import Department, Institution, TrainingType
from chalicelib.domain.modes import Mode
from chalicelib.domain.regions import MUNICIPALITIES


class Category(StrEnum):
    REFUND = "refund"
    TEACHING_QUALITY = "teaching_quality"
    SAFETY = "safety"
    FALSE_ADVERTISING = "false_advertising"
    FEES = "fees"
    FUND_RISK = "fund_risk"
    ILLEGAL_TRAINING = "illegal_training"
    OTHER = "other"


ALERTING = frozenset({Category.SAFETY, Category.FUND_RISK, Category.ILLEGAL_TRAINING})
"""Categories that skip the institution and raise an alert for the department."""


class Source(StrEnum):
    APP = "app"
    HOTLINE = "12345"
    REFUND = "refund_escalation"
    """A refund rejection the parent escalated
    (chalicelib/service/refunds/refund_escalations.py)."""
    DISPUTE = "dispute_escalation"
    """A disputed lesson still open past its answer-by day
    (chalicelib/service/refunds/disputes.py)."""


class Stage(StrEnum):
    FILED = "filed"
    INSTITUTION = "institution"
    AWAITING_PARENT = "awaiting_parent"
    DEPARTMENT = "department"
    RESOLVED = "resolved"


CLOCKED = frozenset({Stage.INSTITUTION, Stage.AWAITING_PARENT, Stage.DEPARTMENT})


class Decision(StrEnum):
    """What a department's resolution of a linked case does with the money."""

    ORDER_REFUND = "order_refund"
    DISMISS_REFUND = "dismiss_refund"
    RELEASE_LESSON = "release_lesson"
    RETURN_LESSON = "return_lesson"


DECISIONS = {
    Source.REFUND: frozenset({Decision.ORDER_REFUND, Decision.DISMISS_REFUND}),
    Source.DISPUTE: frozenset({Decision.RELEASE_LESSON, Decision.RETURN_LESSON}),
}
"""The decisions each linked kind of case takes (other cases take none)."""


class Sla(StrEnum):
    ON_TIME = "on_time"
    DUE_SOON = "due_soon"
    """Due by the end of today."""
    OVERDUE = "overdue"


class Action(StrEnum):
    FILED = "filed"
    ROUTED = "routed"
    ANSWERED = "answered"
    ACCEPTED = "accepted"
    ACCEPTED_BY_SILENCE = "accepted_by_silence"
    REJECTED = "rejected"
    INSTITUTION_OVERDUE = "institution_overdue"
    REMINDED = "reminded"
    ESCALATED = "escalated"
    OVERDUE_AT_TOP = "overdue_at_top"
    TRANSFERRED = "transferred"
    NOTE = "note"
    RESOLVED = "resolved"
    RATED = "rated"


def competent_department(institution: Institution, table: dict[str, str]) -> Department:
    """By the routing table (policy `complaint_routing`): subject training by its type, other
    training by its discipline, anything unlisted by `default`."""
    key = "subject" if institution.training_type is TrainingType.SUBJECT else institution.discipline
    return Department(table.get(key, table["default"]))


def jurisdiction(institution: Institution) -> str:
    """The region whose department takes the case: an offline institution's county, an online
    one's approving province (as a six-digit code, `440000`)."""
    if institution.mode is Mode.ONLINE:
        return institution.region_code[:2] + "0000"
    return institution.region_code


def higher_region(region: str) -> str | None:
    """One level up: county -> city -> province; None above the province. A municipality's
    district, and a county-level city a province administers directly (`xx90xx`), go
    straight to the province."""
    if region.endswith("0000"):
        return None
    if region.endswith("00") or region[:2] in MUNICIPALITIES or region[2:4] == "90":
        return region[:2] + "0000"
    return region[:4] + "00"


@dataclass(frozen=True)
class Clock:
    """A stage's deadline: due by the end of `due_on` (Asia/Shanghai), reminded at its start."""

    due_on: date
    estimated: bool

    @property
    def due_at(self) -> datetime:
        return datetime.combine(self.due_on + timedelta(days=1), time(), SHANGHAI)

    @property
    def remind_at(self) -> datetime:
        return datetime.combine(self.due_on, time(), SHANGHAI)


@dataclass(frozen=True)
class Complaint:
    complaint_id: str
    source: Source
    category: Category
    institution_id: str
    text: str
    filed_by: str
    """Who filed it: the parent, or the hotline operator who took the call."""
    filed_at: datetime
    stage: Stage
    version: int
    """Counts the steps: every change is conditioned on it, and names its timeline step."""
    parent_sub: str = ""
    """The parent in the app ("" for a hotline call: the caller is named below)."""
    order_id: str = ""
    attachments: tuple[str, ...] = ()
    caller_name: str = ""
    caller_phone: str = ""
    """A hotline caller's, stored whole and shown masked to everyone but the department."""
    refund_id: str = ""
    consumption_id: str = ""
    """The refund request or disputed lesson an escalated case is about."""
    department: Department | None = None
    jurisdiction: str = ""
    """Where routing sent it (the institution's county, or its approving province)."""
    region: str = ""
    """Where the department holding it sits: the jurisdiction, or where escalations and
    transfers took it."""
    highest_region: str = ""
    """The highest level that has held the case since it was routed (chalicelib/domain/
    case_transfer.py): an overdue case escalates above it ("" before this field: `region`)."""
    due_on: date | None = None
    due_estimated: bool = False
    reminded: bool = False
    floor_granted: bool = False
    """A transfer under this clock gave the receiving office the floor of working days; the
    next keeps the due date as it is. A new clock clears it."""
    escalations: int = 0
    flagged: bool = False
    """Overdue at least once: escalated, or left overdue at the province."""
    overdue_at_top: bool = False
    """The department's clock ran out at the province: nobody above to escalate to."""
    recheck_at: datetime | None = None
    """A linked case left overdue at the province: when the schedule looks again whether
    its money was settled some other way (daily)."""
    alert: bool = False
    answer: str = ""
    answered_at: datetime | None = None
    outcome: str = ""
    decision: Decision | None = None
    resolved_at: datetime | None = None
    resolved_by: str = ""
    rating: int = 0
    rating_comment: str = ""
    rated_at: datetime | None = None

    @property
    def holder(self) -> str:
        """Who must act next: exactly one party while the case is open."""
        if self.stage is Stage.FILED:
            return "platform"
        if self.stage is Stage.INSTITUTION:
            return f"institution:{self.institution_id}"
        if self.stage is Stage.AWAITING_PARENT:
            return f"parent:{self.parent_sub}"
        if self.stage is Stage.DEPARTMENT:
            return f"regulator:{self.department}:{self.region}"
        return "nobody"

    @property
    def clock(self) -> Clock | None:
        if self.stage not in CLOCKED or self.due_on is None:
            return None
        return Clock(self.due_on, self.due_estimated)

    @property
    def next_tick(self) -> datetime | None:
        """When the schedule must look at it again: the reminder, then the deadline; for a
        case left overdue at the province (flagged, its clock spent) never, but a linked
        one daily, until its money is settled."""
        clock = self.clock
        if clock is None:
            return None
        if self.overdue_at_top:
            return self.recheck_at
        return clock.due_at if self.reminded else clock.remind_at

    def sla(self, now: datetime) -> Sla | None:
        clock = self.clock
        if clock is None:
            return None
        if now >= clock.due_at:
            return Sla.OVERDUE
        if now >= clock.remind_at:
            return Sla.DUE_SOON
        return Sla.ON_TIME

    @property
    def hidden_from_institution(self) -> bool:
        """A safety, fund-risk or illegal-training report is the department's alone until it
        is resolved: the institution is not warned while the department looks into it."""
        return self.category in ALERTING and self.stage is not Stage.RESOLVED

    @property
    def linked(self) -> bool:
        return self.source in DECISIONS


@dataclass(frozen=True)
class Step:
    """One line of a case's timeline."""

    complaint_id: str
    seq: int
    at: datetime
    action: Action
    actor: str
    """`parent:<sub>`, `institution:<sub>`, `regulator:<sub>` or `platform`."""
    stage: Stage
    """The stage after the step."""
    holder: str
    reason: str = ""


def advance(before: Complaint, **changes: object) -> Complaint:
    """The next version of a case."""
    return replace(before, version=before.version + 1, **changes)  # type: ignore[arg-type]


def mask_name(name: str) -> str:
    """张三丰 -> 张**: the family name only."""
    return name[:1] + "*" * (len(name) - 1) if name else ""


def mask_phone(phone: str) -> str:
    """13812345678 -> 138****5678."""
    if len(phone) <= 7:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
