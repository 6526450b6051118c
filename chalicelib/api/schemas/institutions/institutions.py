"""Institutions: applying to join, the regulator's decision, listings."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from chalicelib.api.schemas.common import (
    LINE,
    LINES,
    OPTIONAL_LINES,
    BankAccount,
    Page,
    PageQuery,
    RegionCode,
    Strict,
    Text,
    Time,
)
from chalicelib.api.schemas.shop.reviews import RatingView
from chalicelib.domain.institutions import uscc
from chalicelib.domain.institutions.catalog import Discipline, TrainingType
from chalicelib.domain.modes import Mode


class CustodianBody(Strict):
    bank: Text
    supervised_account: BankAccount
    general_account: BankAccount


class InstitutionApplication(Strict):
    name: Text
    uscc: Annotated[str, Field(pattern=uscc.SHAPE.pattern)]
    """The unified social credit code, its check character verified (GB 32100)."""
    permit_number: Annotated[str, Field(min_length=4, max_length=40), LINE]
    """The school-running permit (办学许可证) number."""
    training_type: TrainingType
    discipline: Discipline
    mode: Mode
    region_code: RegionCode
    address: Text
    custodian: CustodianBody


class OfficeView(BaseModel):
    """A regulator's office: a department at a region (six digits)."""

    department: str
    region: str


class InstitutionView(BaseModel):
    institution_id: str
    name: str
    uscc: str
    permit_number: str
    training_type: TrainingType
    discipline: Discipline
    mode: Mode
    region_code: str
    address: str
    status: str
    custodian_bank: str
    created_at: Time
    frozen: bool
    frozen_at: Time | None
    freeze_reason: str
    freeze_office: OfficeView | None = None
    """The office that imposed the freeze under way: only it, or its department above it,
    lifts it."""
    unfrozen_at: Time | None = None
    """When its last freeze was lifted."""
    blacklist_office: OfficeView | None = None
    """The office that blacklisted it (while blacklisted): only it, or its department above
    it, lifts the blacklisting."""
    liquidated_at: Time | None
    """When a regulator ordered its liquidation (frozen for good, every order refunded)."""
    rating: RatingView | None = None
    """Its reviews' stars and count: on its shop page (`GET /v1/institutions/{id}`)."""


class InstitutionPage(Page):
    items: list[InstitutionView]


class InstitutionQuery(PageQuery):
    status: str = Field(
        default="whitelisted",
        pattern=r"^(whitelisted|pending_review|changes_requested|rejected|blacklisted|frozen)$",
    )
    region: str = Field(default="", pattern=r"^([0-9]{2}|[0-9]{4}|[0-9]{6})?$")
    discipline: Discipline | None = None
    """Search the whitelist (status `whitelisted` only) by discipline, mode and keyword."""
    mode: Mode | None = None
    keyword: str = Field(default="", max_length=50)
    """Found in the name (two characters or more, spaces and punctuation aside)."""


class Decision(Strict):
    reason: Annotated[str, OPTIONAL_LINES] = Field(default="", max_length=500)


class ReasonRequired(Strict):
    reason: Annotated[str, Field(min_length=1, max_length=500), LINES]
    """Recorded with the decision (a freeze, an unfreeze, a liquidation, a request for
    changes, a blacklisting) and in the status history."""


class ProfileEdit(Strict):
    """The fields to change; the rest stay. Type, discipline, mode and region are the
    licence's: a new licence is a new application."""

    name: Text | None = None
    address: Text | None = None
    permit_number: Annotated[str, Field(min_length=4, max_length=40), LINE] | None = None
    custodian: CustodianBody | None = None
    """A new custodian bank or accounts: a whitelisted institution goes back to review."""


class StatusChangeView(BaseModel):
    change_id: str
    at: Time
    from_status: str
    to_status: str
    actor: str
    reason: str


class StatusChangePage(Page):
    items: list[StatusChangeView]
