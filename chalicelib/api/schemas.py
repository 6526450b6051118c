"""Request and response bodies (pydantic at the edge; the OpenAPI document comes from here).

Money is `*_fen` integers; times are ISO 8601 with the Asia/Shanghai offset.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer, RootModel

from chalicelib.domain.calendar import SHANGHAI
from chalicelib.domain.catalog import Discipline, Mode, TrainingType
from chalicelib.domain.money import MAX_LESSONS, MAX_ORDER_FEN


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("time must carry a UTC offset")
    return value


Time = Annotated[
    datetime,
    AfterValidator(_aware),
    PlainSerializer(lambda t: t.astimezone(SHANGHAI).isoformat(), return_type=str),
]
Fen = Annotated[int, Field(ge=0, le=MAX_ORDER_FEN, strict=True)]
PositiveFen = Annotated[int, Field(gt=0, le=MAX_ORDER_FEN, strict=True)]
Text = Annotated[str, Field(min_length=1, max_length=200)]
RegionCode = Annotated[str, Field(pattern=r"^[0-9]{6}$")]


CourseId = Annotated[str, Field(pattern=r"^crs_[0-9A-Z]{26}$")]
StudentId = Annotated[str, Field(pattern=r"^stu_[0-9A-Z]{26}$")]
OrderId = Annotated[str, Field(pattern=r"^ord_[0-9A-Z]{26}$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Page(BaseModel):
    next_cursor: str | None


class PageQuery(Strict):
    limit: int = Field(default=20, ge=1, le=100)
    cursor: str | None = Field(default=None, max_length=2048)


# institutions


class CustodianBody(Strict):
    bank: Text
    supervised_account: Annotated[str, Field(pattern=r"^[0-9A-Za-z-]{6,40}$")]
    general_account: Annotated[str, Field(pattern=r"^[0-9A-Za-z-]{6,40}$")]


class InstitutionApplication(Strict):
    name: Text
    uscc: Annotated[str, Field(pattern=r"^[0-9A-HJ-NP-RTUW-Y]{2}[0-9]{6}[0-9A-HJ-NP-RTUW-Y]{10}$")]
    training_type: TrainingType
    discipline: Discipline
    mode: Mode
    region_code: RegionCode
    address: Text
    custodian: CustodianBody


class InstitutionView(BaseModel):
    institution_id: str
    name: str
    training_type: TrainingType
    discipline: Discipline
    mode: Mode
    region_code: str
    address: str
    status: str
    custodian_bank: str
    created_at: Time


class InstitutionPage(Page):
    items: list[InstitutionView]


class InstitutionQuery(PageQuery):
    status: str = Field(default="whitelisted", pattern=r"^(whitelisted|pending_review|rejected)$")
    region: str = Field(default="", pattern=r"^([0-9]{2}|[0-9]{4}|[0-9]{6})?$")


class Decision(Strict):
    reason: str = Field(default="", max_length=500)


# courses


class CourseSubmission(Strict):
    title: Text
    subject: str = Field(default="", max_length=20)
    discipline: Discipline | None = None
    mode: Mode
    lesson_minutes: int = Field(ge=10, le=240, strict=True)
    class_size: int = Field(ge=1, le=500, strict=True)
    price_per_lesson_fen: PositiveFen
    lessons_total: int = Field(ge=1, le=MAX_LESSONS, strict=True)
    starts_on: date
    ends_on: date
    timetable: str = Field(default="", max_length=2000)


class CourseView(BaseModel):
    course_id: str
    institution_id: str
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
    status: str


class CoursePage(Page):
    items: list[CourseView]


class CourseQuery(PageQuery):
    status: str = Field(default="approved", pattern=r"^(approved|pending_review|rejected)$")


# students


class StudentLink(Strict):
    name: Annotated[str, Field(min_length=1, max_length=50)]
    grade: Annotated[str, Field(min_length=1, max_length=20)]


class StudentView(BaseModel):
    student_id: str
    name: str
    grade: str
    created_at: Time


class StudentPage(Page):
    items: list[StudentView]


# orders


class OrderRequest(Strict):
    course_id: CourseId
    student_id: StudentId
    lessons: int = Field(ge=1, le=MAX_LESSONS, strict=True)


class PaymentInstructions(BaseModel):
    reference: str
    bank: str
    account: str
    expires_at: Time


class OrderView(BaseModel):
    order_id: str
    status: str
    course_id: str
    student_id: str
    institution_id: str
    amount_fen: int
    paid_fen: int
    held_fen: int
    releasing_fen: int
    released_fen: int
    refunding_fen: int
    refunded_fen: int
    lessons: int
    lessons_remaining: int
    lessons_pending_confirmation: int
    lessons_confirmed_unreleased: int
    lessons_released: int
    lessons_refunded: int
    open_disputes: int
    created_at: Time
    expires_at: Time
    paid_at: Time | None


class CreatedOrder(OrderView):
    payment: PaymentInstructions


class OrderPage(Page):
    items: list[OrderView]


class OrderQuery(PageQuery):
    institution_id: str = Field(default="", pattern=r"^(ins_[0-9A-Z]{26})?$")


# lessons and consumptions


class LessonRecord(Strict):
    course_id: CourseId
    started_at: Time
    ended_at: Time
    teacher_id: Annotated[str, Field(min_length=1, max_length=64)]
    order_ids: list[OrderId] = Field(min_length=1, max_length=100)


class ConsumptionView(BaseModel):
    consumption_id: str
    order_id: str
    lesson_id: str
    course_id: str
    student_id: str
    lesson_number: int
    amount_fen: int
    status: str
    confirm_by: date
    confirm_by_estimated: bool
    confirmed_by: str | None
    confirmed_at: Time | None
    released_at: Time | None


class RefusedOrder(BaseModel):
    """An attending order that was not consumed: a concurrent request emptied it after the
    lesson was checked, or its student was in another lesson at that time."""

    order_id: str
    code: str


class RecordedLesson(BaseModel):
    lesson_id: str
    course_id: str
    started_at: Time
    ended_at: Time
    consumptions: list[ConsumptionView]
    refused_orders: list[RefusedOrder]


class ConsumptionPage(Page):
    items: list[ConsumptionView]


class ConsumptionQuery(PageQuery):
    status: str = Field(
        default="",
        pattern=r"^(pending_confirmation|disputed|confirmed|releasing|released|needs_review)?$",
    )


class Dispute(Strict):
    reason: Annotated[str, Field(min_length=1, max_length=500)]


# bank


EventId = Annotated[str, Field(min_length=1, max_length=128)]


class PaymentReceived(Strict):
    event_id: EventId
    type: Literal["payment_received"]
    payment_reference: Annotated[str, Field(min_length=1, max_length=64)]
    amount_fen: PositiveFen
    bank_txn_id: Annotated[str, Field(min_length=1, max_length=128)]
    occurred_at: Time


class TransferOutcome(Strict):
    event_id: EventId
    type: Literal["transfer_succeeded", "transfer_failed"]
    instruction_id: Annotated[str, Field(min_length=1, max_length=128)]
    amount_fen: PositiveFen
    occurred_at: Time
    reason: str | None = Field(default=None, max_length=500)


class BankNotification(
    RootModel[Annotated[PaymentReceived | TransferOutcome, Field(discriminator="type")]]
):
    """One of the custodian bank's signed notifications (DESIGN.md §5), by `type`."""


class BankAck(BaseModel):
    event_id: str
    result: str


class Health(BaseModel):
    status: str
    version: str
    stage: str
    province_code: str
    clock: Time | None = Field(
        default=None, description="The platform clock: the local stage only, where it can be "
        "moved (`infra.cli clock advance`); deployed stages read the system clock.")
