"""Policy: the rules in force for a region, and the versions they were made of."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from chalicelib.api.schemas.common import Strict
from chalicelib.domain.policy import Policy


class PolicyQuery(Strict):
    region: str = Field(default="", pattern=r"^([0-9]{2}|[0-9]{4}|[0-9]{6})?$")
    """A province (2 digits), city (4) or county (6); the stack's province if omitted."""


class PolicyVersionView(BaseModel):
    region: str
    """"" for the national layer."""
    name: str
    effective_from: date
    source: str
    changes: list[str]
    """The settings this version sets."""


class PolicyView(BaseModel):
    region: str
    effective_on: date
    policy: Policy
    versions: list[PolicyVersionView]
    """The versions in force, widest region first, oldest first inside a region."""
    next_change_on: date | None
    """When a version already loaded for this region takes effect next."""
