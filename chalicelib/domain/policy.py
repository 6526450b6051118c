"""Policy: the numbers the regulations leave to each province (and city, and county), as
data validated when it is loaded.

A `Policy` is the whole set of rules in force for one region on one day; it is assembled
from layers of versioned changes by `chalicelib/domain/policy_book.py`. Every number has the
national default of ../shared/DOMAIN.md; docs/policy.md lists each rule with its source.
"""

from __future__ import annotations

from datetime import date, time
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
    model_validator,
)

from chalicelib.domain.modes import Mode

MAX_RECORD_WINDOW_HOURS = 14 * 24
"""A student's time slots are kept 30 days (chalicelib/domain/escrow/timeslots.py): a lesson may
never be recorded so late that the slots it must not overlap are already forgotten."""
MAX_LENGTH_TOLERANCE_MINUTES = 60
MAX_REST_MINUTES = 60
"""Bounds of the tolerance on a lesson's length and of the break after an online lesson: with
the longest course lesson they bound the time slots one consuming write claims
(chalicelib/domain/escrow/lesson.py, MAX_LESSON)."""
DEPARTMENTS = frozenset({"education", "science", "culture", "sports"})

DEFAULT_COMPLAINT_ROUTING = {
    "subject": "education",
    "sports": "sports",
    "arts": "culture",
    "science": "science",
    "default": "education",
}
"""The competent department for a complaint: subject training by its type, other training by
its discipline (`academic`, `sports`, `arts`, `science`, `other`), anything unlisted by
`default` (education, which also coordinates)."""

CountyCode = Annotated[str, Field(pattern=r"^[0-9]{6}$")]
ROUTED = frozenset({"subject", "academic", "sports", "arts", "science", "other", "default"})
"""What complaint_routing may name: subject training, a discipline, or the default."""
def _whole_minute(value: time) -> time:
    if value.second or value.microsecond or value.tzinfo is not None:
        raise ValueError("a time of day is HH:MM (Asia/Shanghai), without seconds or offset")
    return value


Count = Annotated[int, Field(strict=True, gt=0)]
"""A positive whole number, written as one (not `true`, not "5")."""
TimeOfDay = Annotated[
    time,
    AfterValidator(_whole_minute),
    PlainSerializer(lambda t: t.strftime("%H:%M"), return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^[0-2][0-9]:[0-5][0-9]$"}),
]
"""A time of day in Asia/Shanghai, read and written as HH:MM."""


def _time_of_day(hour: int, minute: int) -> Any:
    """A default time of day, documented as it is written (HH:MM)."""
    moment = time(hour, minute)
    return Field(default=moment, json_schema_extra={"default": f"{moment:%H:%M}"})


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PriceTier(_Frozen):
    """The base price per lesson per student for classes of at most `up_to_students`
    (None: any size above the previous tier)."""

    up_to_students: Count | None
    fen: Count


class GuidedPrices(_Frozen):
    """A government-guided price table for subject training (发改价格〔2021〕1279号): the base
    price of a standard-length lesson by mode and class size. A mode without tiers has no
    guided price here: its subject courses cannot be priced until the region loads one."""

    source: str = Field(min_length=1)
    offline: tuple[PriceTier, ...] = ()
    online: tuple[PriceTier, ...] = ()

    @model_validator(mode="after")
    def _tiers_ascend_to_an_open_end(self) -> GuidedPrices:
        for mode, tiers in (("offline", self.offline), ("online", self.online)):
            if not tiers:
                continue
            bounds = [t.up_to_students for t in tiers]
            if bounds[-1] is not None or None in bounds[:-1]:
                raise ValueError(f"guided_prices.{mode}: only the last tier is open-ended")
            closed = [b for b in bounds if b is not None]
            if closed != sorted(set(closed)):
                raise ValueError(f"guided_prices.{mode}: tiers must ascend by class size")
        return self

    def base_fen(self, mode: Mode, class_size: int) -> int | None:
        """The base price for this mode and class size; None if the table has no tiers for
        the mode."""
        tiers = self.online if mode is Mode.ONLINE else self.offline
        return next((t.fen for t in tiers
                     if t.up_to_students is None or class_size <= t.up_to_students), None)


class Vacation(_Frozen):
    """A school vacation (both days included): no subject training."""

    name: str = Field(min_length=1)
    first_day: date
    last_day: date

    @model_validator(mode="after")
    def _ordered(self) -> Vacation:
        if self.last_day < self.first_day:
            raise ValueError(f"vacation {self.name}: last_day before first_day")
        return self


class Policy(_Frozen):
    effective_from: date = date(2021, 7, 24)
    auto_confirm_working_days: Count = 15
    payment_window_minutes: Count = 30
    max_lessons_per_charge: Count = 60
    max_fen_per_charge: Count = 500_000
    max_months_per_charge: Count = 3
    """One charge covers at most this many months of the course's timetable."""
    renewal_max_lessons_left: int = Field(default=20, ge=0, strict=True)
    """A parent may buy more of a course only while at most this many of its lessons remain."""
    charge_earliest_months_before_start: int = Field(default=1, ge=0, strict=True)
    """No charge earlier than this many months before the course starts."""
    settlement_grace_minutes: Count = 10
    lesson_record_window_hours: Count = Field(default=72, le=MAX_RECORD_WINDOW_HOURS)
    """A lesson must be recorded within this many hours of its end."""
    lesson_length_tolerance_minutes: Count = Field(default=10, le=MAX_LENGTH_TOLERANCE_MINUTES)
    """A lesson may be this many minutes shorter or longer than its course's lesson length."""
    extra_lessons_per_week: int = Field(default=1, ge=0, strict=True)
    """A student takes at most as many lessons of a course in a week (Monday to Sunday) as
    its weekly timetable has slots, plus this many (make-up lessons): an institution cannot
    record lessons in bulk faster than the pace it published (a platform default)."""
    standard_lesson_minutes: dict[Mode, Count] = Field(
        default_factory=lambda: {Mode.OFFLINE: 45, Mode.ONLINE: 30})
    """The length a guided price is set for; longer or shorter lessons are pro-rated."""
    guided_price_markup_percent: int = Field(default=10, ge=0, le=100, strict=True)
    """A subject lesson may cost at most the base price plus this many percent."""
    guided_prices: GuidedPrices | None = None
    """None where the region has loaded no table: subject courses cannot be priced there."""
    online_max_lesson_minutes: Count = 30
    online_min_gap_minutes: int = Field(default=10, ge=0, le=MAX_REST_MINUTES, strict=True)
    """The break a student has after an online lesson before the next lesson."""
    online_ends_by: TimeOfDay = _time_of_day(21, 0)
    offline_ends_by: TimeOfDay = _time_of_day(20, 30)
    lessons_start_from: TimeOfDay = _time_of_day(6, 0)
    """No lesson starts before this time of day (a platform default, not a notice's: with
    the ends-by rules it keeps a lesson out of the night)."""
    vacations: tuple[Vacation, ...] = ()
    """The winter and summer vacations: no subject training."""
    counties: tuple[CountyCode, ...] = ()
    """The county codes of the cities listed here: an institution in one of those cities must
    name one of them (cities not listed are not checked)."""
    background_check_valid_months: Count = 12
    """A staff member's background check must be repeated within this many months."""
    refund_decision_working_days: Count = 5
    """The institution's time to decide a refund request; silence after it approves."""
    refund_cooldown_working_days: Count = 10
    """After a regulator dismissed an escalated refund request, the order takes no request
    (new, or an older rejection escalated) for this many working days: an open request stops
    the order's releases, and a parent must not keep them stopped by asking again and
    again."""
    dispute_answer_working_days: Count = 10
    """A dispute still open after this many working days goes to the regulator."""
    refund_payout_days_before_start: Count = 5
    refund_payout_days_after_start: Count = 15
    """Calendar days from the request in which an approved refund must reach the payer."""
    complaint_institution_working_days: Count = 3
    """The institution's time to answer a complaint; silence sends it to the department."""
    complaint_parent_working_days: Count = 5
    """The parent's time to accept or reject the institution's answer; silence accepts."""
    complaint_department_working_days: Count = 13
    """The department's time to resolve a case; overdue, it escalates one level."""
    complaint_transfer_floor_working_days: Count = 3
    """A transferred case keeps its due date; a receiving office left less than this many
    working days gets this many, once per clock (chalicelib/domain/complaints/case_transfer.py)."""
    complaint_routing: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_COMPLAINT_ROUTING))

    @model_validator(mode="after")
    def _consistent(self) -> Policy:
        routing = self.complaint_routing
        if "default" not in routing or not set(routing.values()) <= DEPARTMENTS:
            raise ValueError("complaint_routing needs a `default` and names only the "
                             f"departments {sorted(DEPARTMENTS)}")
        if set(self.standard_lesson_minutes) != set(Mode):
            raise ValueError("standard_lesson_minutes needs both offline and online")
        if not set(routing) <= ROUTED:
            raise ValueError(f"complaint_routing names only {sorted(ROUTED)}")
        if self.lessons_start_from >= min(self.offline_ends_by, self.online_ends_by):
            raise ValueError("lessons_start_from must be before offline_ends_by and "
                             "online_ends_by")
        return self

    def in_vacation(self, day: date) -> Vacation | None:
        return next((v for v in self.vacations if v.first_day <= day <= v.last_day), None)

    def county_listed(self, region_code: str) -> bool:
        """False only when the region's city lists its counties and this is not one."""
        city = region_code[:4]
        listed = [c for c in self.counties if c.startswith(city)]
        return not listed or region_code in listed
