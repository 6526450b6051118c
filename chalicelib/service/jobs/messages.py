"""Queue message bodies (validated on the way in, like every other edge)."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from chalicelib.service.ports import SweepTask


class SettlementMessage(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    order_id: str = Field(pattern=r"^ord_[0-9A-Z]{26}$")
    consumption_id: str = Field(pattern=r"^con_[0-9A-Z]{26}$")
    attempt: int = Field(ge=1, le=1000)


class SweepMessage(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    job: Literal["expire", "autoconfirm", "settle", "disputeescalate", "refunddecide", "refund",
                 "returnpayment", "freezefanout", "liquidate", "liquidationpaid",
                 "complaintroute", "complaintdue", "push"]
    shard: int = Field(ge=0, le=255)
    until: AwareDatetime
    cursor: str | None = Field(default=None, max_length=4096)

    @classmethod
    def of(cls, task: SweepTask) -> SweepMessage:
        return cls(job=task.job, shard=task.shard, until=task.until, cursor=task.cursor)  # type: ignore[arg-type]

    def task(self) -> SweepTask:
        return SweepTask(self.job, self.shard, self.until, self.cursor)


class LiquidationMessage(BaseModel):
    """One order of a liquidating institution to liquidate (chalicelib/service/
    liquidation_orders.py)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    institution_id: str = Field(pattern=r"^ins_[0-9A-Z]{26}$")
    order_id: str = Field(pattern=r"^ord_[0-9A-Z]{26}$")


class ComplaintMessage(BaseModel):
    """A filed complaint to route (chalicelib/service/complaints/complaint_routing.py)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    complaint_id: str = Field(pattern=r"^cmp_[0-9A-Z]{26}$")
