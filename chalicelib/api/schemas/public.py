"""Unauthenticated answers."""

from __future__ import annotations

from pydantic import BaseModel, Field

from chalicelib.api.schemas.common import Time


class Health(BaseModel):
    status: str
    version: str
    stage: str
    province_code: str
    clock: Time | None = Field(
        default=None, description="The platform clock: the local stage only, where it can be "
        "moved (`infra.cli clock advance`); deployed stages read the system clock.")
