"""The reference model: what the simulator knows each order and lesson must be, kept from
the answers the platform gave and the rules written down in docs/ (not from its code), and
the transitions it may make on its own (expiry, auto-confirmation, settlement)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import chinese_calendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
RECORD_WINDOW = timedelta(hours=72)
LENGTH_TOLERANCE_MINUTES = 10
CLOCK_SKEW = timedelta(minutes=5)  # a lesson may be recorded this long before it ends
LESSONS_START_FROM = time(6, 0)
OFFLINE_ENDS_BY = time(20, 30)  # every course of the run is offline
COURSE_LESSONS = 30  # tests/support/flows.course_body
RENEWAL_MAX_LEFT = 20  # a child may buy more of a course only with at most 20 lessons left
MAX_LESSONS_PER_CHARGE = 60
MAX_FEN_PER_CHARGE = 500_000
MAX_LESSON_MINUTES = 300  # the longest course lesson (240) and the longest tolerance (60)
EXTRA_LESSONS_PER_WEEK = 1  # make-up lessons beyond a course's weekly timetable slots


@dataclass(frozen=True)
class Clocks:
    """A region's deadlines in working days (and a payout's in calendar days)."""

    confirm: int
    """Silence confirms a lesson after these, counted from the day it was recorded."""
    refund_decision: int
    """Silence approves a refund request after these."""
    dispute_answer: int
    """A dispute still open after these goes to the regulator."""
    refund_cooldown: int
    """After a dismissed escalation, no request opens on the order for these."""
    payout_after_start: int
    """Calendar days in which a refund asked after the course started reaches the payer."""


PAYOUT_BEFORE_START = 5
CLOCKS = {
    "440106": Clocks(confirm=15, refund_decision=5, dispute_answer=10, refund_cooldown=10,
                     payout_after_start=15),
    "440104": Clocks(confirm=20, refund_decision=3, dispute_answer=7, refund_cooldown=10,
                     payout_after_start=10),
}
"""The simulated province's two regions (tests/support/policies/44.json, which the run
loads): Tianhe keeps the national defaults, Yuexiu has a county's own clocks."""
REGIONS = tuple(CLOCKS)

ORDER_MOVES = {
    "pending_payment": {"pending_payment", "paid", "expired"},
    "paid": {"paid", "completed"},
    "completed": {"completed"},
    "expired": {"expired"},
}
CONSUMPTION_MOVES = {
    "pending_confirmation": {"pending_confirmation", "disputed", "confirmed", "releasing",
                             "withdrawn"},
    "disputed": {"disputed", "confirmed", "releasing", "withdrawn"},
    "withdrawn": {"withdrawn"},
    "confirmed": {"confirmed", "releasing", "released", "needs_review"},
    "releasing": {"releasing", "confirmed", "released", "needs_review"},
    "needs_review": {"needs_review", "confirmed", "releasing", "released"},
    "released": {"released"},
}
CONFIRMED = frozenset({"confirmed", "releasing", "released", "needs_review"})
REFUND_MOVES = {
    "pending_decision": {"pending_decision", "rejected", "refunding"},
    "rejected": {"rejected", "escalated"},
    "escalated": {"escalated", "refunding", "rejected"},
    "refunding": {"refunding", "approved", "refunded", "needs_review"},
    "approved": {"approved", "refunding"},
    "needs_review": {"needs_review", "approved"},  # ops pay it out again
    "refunded": {"refunded"},
}
APPROVED = frozenset({"refunding", "approved", "refunded", "needs_review"})
REVIEW_MOVES = {  # an institution's and a course's review; a blacklisting, and its lifting
    "pending_review": {"pending_review", "whitelisted", "approved", "rejected", "blacklisted"},
    "whitelisted": {"whitelisted", "blacklisted"},
    "blacklisted": {"blacklisted", "pending_review"},  # lifted: reviewed again
    "approved": {"approved"},
    "rejected": {"rejected", "blacklisted"},
}
def offices(region: str) -> tuple[tuple[str, str], ...]:
    """The regulators' offices supervising an institution (arts) of county `region`: culture
    is competent, education coordinates; county, city and province."""
    city, province = f"{region[:4]}00", f"{region[:2]}0000"
    return (("culture", region), ("culture", city), ("culture", province),
            ("education", region), ("education", province))


class Violation(AssertionError):
    """The platform did something the model says it must not."""


def business_date(instant: datetime) -> date:
    return instant.astimezone(SHANGHAI).date()


def confirm_by(recorded_at: datetime, region: str) -> date:
    """The region's Nth working day after the recording's business date (chinese-calendar's
    own statutory days and swapped weekends)."""
    return working_days_after(recorded_at, CLOCKS[region].confirm)


def week_of(instant: datetime) -> tuple[int, int]:
    """The ISO week a lesson began in, Asia/Shanghai."""
    year, week, _ = business_date(instant).isocalendar()
    return year, week


def working_days_after(instant: datetime, days: int) -> date:
    day, counted = business_date(instant), 0
    while counted < days:
        day += timedelta(days=1)
        counted += is_workday(day)
    return day


def is_workday(day: date) -> bool:
    """chinese-calendar's statutory days and swapped weekends; in a year it has no data for
    (2027 on), Monday to Friday, as the platform's calendar documents (a run crossing New
    Year meets it: unseen seeds 27003 and 27103)."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return day.weekday() < 5


def may_undo(office: tuple[str, str], imposed_by: tuple[str, str]) -> bool:
    """DOMAIN.md: a measure is lifted by the department that imposed it, at its level or
    above (a higher level's code is a prefix of the lower's, trailing zeros dropped)."""
    def level(region: str) -> str:
        return region[:2] if region.endswith("0000") else (
            region[:4] if region.endswith("00") else region)
    return office[0] == imposed_by[0] and level(imposed_by[1]).startswith(level(office[1]))


def ends_in_hours(started: datetime, ended: datetime) -> bool:
    """An offline lesson ends by 20:30 of the day it began."""
    start, end = started.astimezone(SHANGHAI), ended.astimezone(SHANGHAI)
    return end.date() == start.date() and end.time() <= OFFLINE_ENDS_BY


def in_teaching_hours(started: datetime, ended: datetime) -> bool:
    return (started.astimezone(SHANGHAI).time() >= LESSONS_START_FROM
            and ends_in_hours(started, ended))


def end_of(day: date) -> datetime:
    """The first instant after `day` (Asia/Shanghai): a deadline on `day` has passed."""
    return datetime.combine(day + timedelta(days=1), datetime.min.time(), SHANGHAI)


@dataclass
class Shop:
    institution_id: str
    staff: dict[str, str]
    course_id: str
    supervised: str
    general: str
    price: int
    minutes: int
    starts_on: date
    ends_on: date
    teacher_id: str
    region: str = "440106"
    lessons_per_week: int = 22
    """Its timetable's weekly slots plus the make-up lessons."""


@dataclass
class Institution:
    """One that applied: its status is what the regulator's answers said."""

    institution_id: str
    staff: dict[str, str]
    supervised: str
    general: str
    status: str = "pending_review"
    frozen: bool = False
    liquidating: bool = False
    """A regulator ordered its liquidation (frozen for good): the answer's `started_at`."""
    liquidation_started: str = ""
    teacher_id: str = ""
    """A teacher whose background check the department passed; "" for one that applied
    without any (its whitelisting is refused)."""
    name: str = ""
    freeze_office: tuple[str, str] = ("", "")
    """(department, region) of the office that imposed the freeze under way."""
    frozen_with_blacklisting: bool = False
    thawed_by: tuple[str, str] = ("", "")
    """The office whose lifting (of a freeze, or of the blacklisting a freeze came with) last
    thawed it, kept through later freezes: its lifting sent again is answered as a retry."""
    blacklist_office: tuple[str, str] = ("", "")
    frozen_spans: list[tuple[datetime, datetime | None]] = field(default_factory=list)
    """When it was frozen, as its regulators were told (the last open while frozen):
    silence confirms none of its lessons inside one."""
    generals: list[tuple[datetime, str]] = field(default_factory=list)
    """Each general account its department approved, and from when: a release instructed
    from then on goes to it (tests/simulation/accounts.py)."""
    proposed_general: str = ""
    """A change of custodian accounts waiting in review ("" none)."""
    proposed_supervised: str = ""
    decided: tuple[str, str] = ("", "")
    """Where its competent regulator's last decision moved it (whitelisted, rejected), and
    for what reason (a review's, or an account change's): the same decision sent again once
    it moved on is answered 200, as it is (issue 22, 7); one the regulator took since, if
    only for another reason, makes it a new decision, refused (409) where it may not be."""

    def froze(self, at: datetime, office: tuple[str, str], *, blacklisting: bool) -> None:
        self.frozen, self.freeze_office = True, office
        self.frozen_with_blacklisting = blacklisting
        self.frozen_spans.append((at, None))

    def thawed(self, at: datetime) -> None:
        self.frozen, self.frozen_with_blacklisting = False, False
        self.frozen_spans[-1] = (self.frozen_spans[-1][0], at)

    def frozen_at(self, instant: datetime) -> bool:
        return any(start <= instant and (end is None or instant < end)
                   for start, end in self.frozen_spans)
    region: str = "440106"

    @property
    def listed(self) -> bool:
        """On the whitelist parents search and buy from."""
        return self.status == "whitelisted" and not self.frozen


@dataclass
class Course:
    """One submitted for review; approved, it is on sale as a Shop."""

    course_id: str
    institution: int
    price: int
    minutes: int
    starts_on: date
    ends_on: date
    status: str = "pending_review"
    slots: int = 21
    """Its weekly timetable's slots."""


@dataclass
class Refund:
    refund_id: str
    order_id: str
    lessons: int
    amount: int
    status: str
    returned: int = 0
    """Fen of lessons withdrawn while it awaited its decision: approval refunds them too."""
    returned_lessons: int = 0
    dismissed: bool = False
    """Escalated by the parent and dismissed by the regulator: it stays rejected."""
    rejected: bool = False
    """Rejected by its institution once (the simulator's one reason): that rejection sent
    again, escalated or decided since, is answered 200 with the request as it is."""
    escalated: bool = False
    """Escalated by the parent once (the simulator's one text): the escalation sent again,
    whatever became of it, is answered 200 with the request as it is (issue 22, 7)."""
    decide_after: datetime | None = None
    """The end of its decide-by day (its region's working days from the request): silence
    approves it only after."""


@dataclass
class Question:
    """A parent's consultation of an institution, and the answer given ("" none yet)."""

    consultation_id: str
    institution_id: str
    family: int
    answer: str = ""


@dataclass
class Family:
    sub: str
    parent: dict[str, str]
    student_id: str
    payer: str
    named: list[str] = field(default_factory=list)
    """Accounts the parent named for refunds whose route failed."""

    @property
    def accounts(self) -> list[str]:
        return [self.payer, *self.named]


@dataclass
class Order:
    order_id: str
    family: int
    shop: int
    lessons: int
    amount: int
    reference: str
    account: str
    expires_at: datetime
    key: str
    body: dict[str, Any]
    created_at: datetime
    status: str = "pending_payment"
    paid_at: datetime | None = None
    paid_at_bank: int = 0
    """Fen the sim's families sent to the bank under this order's reference."""
    consumptions: list[str] = field(default_factory=list)
    """Every lesson recorded for it, withdrawn ones too."""
    withdrawn: int = 0
    refunded: int = 0
    """Lessons a refund took back (approved: reserved, paid out or being paid)."""
    open_refund: str = ""
    """The refund request awaiting a decision, if any."""
    liquidated: bool = False
    """Its institution's liquidation finished with it (seen in the tables)."""
    refund_again_on: date | None = None
    """A regulator dismissed its escalated request: no request opens before this day."""

    @property
    def remaining(self) -> int:
        return self.lessons - len(self.consumptions) + self.withdrawn - self.refunded


@dataclass
class Consumption:
    consumption_id: str
    order_id: str
    student_id: str
    started: datetime
    ended: datetime
    recorded_at: datetime
    amount: int
    status: str = "pending_confirmation"
    parent_confirmed: bool = False
    escalate_after: datetime | None = None
    """Disputed: the end of its answer-by day, when it may go to the regulator."""
    escalated: bool = False
    window_from: datetime | None = None
    """Pending when a freeze of its institution ended then: its parent's window starts
    again from that day (docs/decisions.md, issue 22)."""
    region: str = "440106"
    """Its institution's: whose clocks it runs on."""
    upheld_note: str = ""
    """The note its institution upheld it with: the same uphold again is its own action
    again, answered with the lesson as it is now, whatever happened since."""

    @property
    def silent_until(self) -> datetime:
        """The end of the confirm-by day (counted in its region's working days from the
        recording, or again from the end of a freeze that found it pending): silence
        confirms only after it."""
        return end_of(confirm_by(self.window_from or self.recorded_at, self.region))


@dataclass
class Case:
    """A complaint case someone filed (or an escalation opened), as last seen."""

    complaint_id: str
    institution_id: str
    family: int
    """The filing family, -1 for a hotline call (or a case the platform opened)."""
    stage: str = "filed"
    version: int = 1
    escalations: int = 0
    due_on: date | None = None
    floor_granted: bool = False


def _reachable(moves: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = {start}, [start]
    while todo:
        for nxt in moves.get(todo.pop(), set()) - seen:
            seen.add(nxt)
            todo.append(nxt)
    return seen


def move(kind: str, moves: dict[str, set[str]], what: str, before: str, after: str) -> None:
    """`after` must be reachable from `before` (a step may make several moves: the last
    day's drain confirms, settles and books a lesson before anyone looks)."""
    if after not in _reachable(moves, before):
        raise Violation(f"{kind} {what} moved {before} -> {after}")


def overlaps(a: tuple[datetime, datetime], b: tuple[datetime, datetime]) -> bool:
    return a[0] < b[1] and b[0] < a[1]
