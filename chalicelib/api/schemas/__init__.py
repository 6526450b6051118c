"""Request and response bodies, one module per resource (pydantic at the edge; the OpenAPI
document is generated from them). Money is `*_fen` integers; times are ISO 8601 with the
Asia/Shanghai offset."""

from chalicelib.api.schemas.bank import BankAck, BankNotification, PaymentReceived, TransferOutcome
from chalicelib.api.schemas.common import Page, PageQuery
from chalicelib.api.schemas.courses import CoursePage, CourseQuery, CourseSubmission, CourseView
from chalicelib.api.schemas.institutions import (
    CustodianBody,
    Decision,
    FreezeDecision,
    InstitutionApplication,
    InstitutionPage,
    InstitutionQuery,
    InstitutionView,
)
from chalicelib.api.schemas.lessons import (
    Answer,
    ConsumptionPage,
    ConsumptionQuery,
    ConsumptionView,
    Dispute,
    DisputeDecision,
    LessonRecord,
    RecordedLesson,
    RefusedOrder,
    Withdrawal,
)
from chalicelib.api.schemas.liquidations import LiquidationView
from chalicelib.api.schemas.orders import (
    CreatedOrder,
    OrderPage,
    OrderQuery,
    OrderRequest,
    OrderView,
    PaymentInstructions,
)
from chalicelib.api.schemas.public import Health
from chalicelib.api.schemas.refunds import (
    RefundAsk,
    RefundDecision,
    RefundEscalation,
    RefundPage,
    RefundQuery,
    RefundView,
    RegulatorRefundDecision,
    RegulatorRefundQuery,
)
from chalicelib.api.schemas.students import StudentLink, StudentPage, StudentView

__all__ = [
    "Answer", "BankAck", "BankNotification", "ConsumptionPage", "ConsumptionQuery",
    "ConsumptionView", "CoursePage", "CourseQuery", "CourseSubmission", "CourseView",
    "CreatedOrder", "CustodianBody", "Decision", "Dispute", "DisputeDecision",
    "FreezeDecision", "Health",
    "InstitutionApplication", "InstitutionPage", "InstitutionQuery", "InstitutionView",
    "LessonRecord", "LiquidationView",
    "OrderPage", "OrderQuery", "OrderRequest", "OrderView", "Page",
    "PageQuery", "PaymentInstructions", "PaymentReceived", "RecordedLesson", "RefundAsk",
    "RefundDecision", "RefundEscalation", "RefundPage", "RefundQuery", "RefundView",
    "RefusedOrder", "RegulatorRefundDecision", "RegulatorRefundQuery", "StudentLink",
    "StudentPage", "StudentView", "TransferOutcome", "Withdrawal",
]
