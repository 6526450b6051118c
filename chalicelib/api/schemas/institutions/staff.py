"""Staff: registration, consent, certificates, background checks."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BaseModel, Field

from chalicelib.api.schemas.common import Page, Strict, Text, Time
from chalicelib.domain.institutions.staff import CheckResult, StaffRole


class StaffRegistration(Strict):
    name: Text
    role: StaffRole
    id_number: Annotated[str, Field(pattern=r"^[0-9]{17}[0-9Xx]$")]
    """The resident identity number: its check character is verified, and only a masked
    form is kept."""


class ConsentBody(Strict):
    signed_on: date
    """The day the staff member signed consent to the background check."""


class CertificateBody(Strict):
    certificate_number: Annotated[str, Field(pattern=r"^[0-9]{17}$")]
    """The teacher qualification certificate (教师资格证) number."""


class CheckBody(Strict):
    result: CheckResult
    checked_on: date


class StaffView(BaseModel):
    staff_id: str
    institution_id: str
    name: str
    role: StaffRole
    id_number_masked: str
    created_at: Time
    consent_signed_on: date | None
    check_result: CheckResult | None
    checked_on: date | None
    check_due_on: date | None
    """The check must be repeated by this day; after it the teacher may not teach."""
    certificate_number: str


class StaffPage(Page):
    items: list[StaffView]
