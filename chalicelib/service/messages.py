"""Queue message bodies (validated on the way in, like every other edge)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class SettlementMessage(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    order_id: str = Field(pattern=r"^ord_[0-9A-Z]{26}$")
    consumption_id: str = Field(pattern=r"^con_[0-9A-Z]{26}$")
    attempt: int = Field(ge=1, le=1000)
