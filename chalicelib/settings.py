"""Settings of one stage, read once from the environment (.chalice/config.json sets them)."""

from __future__ import annotations

import os
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

SYMMETRIC_STAGES = ("local", "dev", "test")


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    stage: str = Field(pattern=r"^[a-z][a-z0-9-]{0,19}$")
    province_code: str = Field(pattern=r"^[0-9]{2}$")
    platform_table: str
    journal_table: str
    settlement_queue_url: str = ""
    settlement_queue_name: str = ""
    sweep_queue_url: str = ""
    sweep_queue_name: str = ""
    liquidation_queue_url: str = ""
    liquidation_queue_name: str = ""
    complaint_queue_url: str = ""
    complaint_queue_name: str = ""
    notification_topic_arn: str = ""
    """Where notices are pushed (SNS); none: they are logged (chalicelib/adapters/push.py)."""
    auth_issuer: str
    auth_audience: str
    auth_hs256_secret: str = ""
    auth_jwks_json: str = ""
    bank_webhook_secret: str = Field(min_length=16)
    bank_mode: Literal["sandbox_http", "none"] = "sandbox_http"
    bank_url: str = ""
    policy_file: str = ""

    @model_validator(mode="after")
    def _keys_fit_the_stage(self) -> Settings:
        if self.auth_hs256_secret and self.stage not in SYMMETRIC_STAGES:
            raise ValueError("HS256 tokens are for local and dev stages only; configure JWKS")
        if not (self.auth_hs256_secret or self.auth_jwks_json):
            raise ValueError("no token verification key configured")
        if self.auth_hs256_secret and self.auth_jwks_json:
            raise ValueError("configure an HS256 secret or a JWKS, not both")
        if not (self.settlement_queue_url or self.settlement_queue_name):
            raise ValueError("no settlement queue configured")
        if not (self.sweep_queue_url or self.sweep_queue_name):
            raise ValueError("no sweep queue configured")
        if not (self.liquidation_queue_url or self.liquidation_queue_name):
            raise ValueError("no liquidation queue configured")
        if not (self.complaint_queue_url or self.complaint_queue_name):
            raise ValueError("no complaint queue configured")
        return self

    @classmethod
    def from_environment(cls) -> Settings:
        env = os.environ
        stage = env.get("STAGE", "local")
        return cls(
            stage=stage,
            province_code=env.get("PROVINCE_CODE", "00"),
            platform_table=env.get("PLATFORM_TABLE", f"{stage}-platform"),
            journal_table=env.get("JOURNAL_TABLE", f"{stage}-journal"),
            settlement_queue_url=env.get("SETTLEMENT_QUEUE_URL", ""),
            settlement_queue_name=env.get("SETTLEMENT_QUEUE_NAME", f"{stage}-settlement.fifo"),
            sweep_queue_url=env.get("SWEEP_QUEUE_URL", ""),
            sweep_queue_name=env.get("SWEEP_QUEUE_NAME", f"{stage}-sweep.fifo"),
            liquidation_queue_url=env.get("LIQUIDATION_QUEUE_URL", ""),
            liquidation_queue_name=env.get("LIQUIDATION_QUEUE_NAME", f"{stage}-liquidation"),
            complaint_queue_url=env.get("COMPLAINT_QUEUE_URL", ""),
            complaint_queue_name=env.get("COMPLAINT_QUEUE_NAME", f"{stage}-complaint"),
            notification_topic_arn=env.get("NOTIFICATION_TOPIC_ARN", ""),
            auth_issuer=env.get("AUTH_ISSUER", "ots-local"),
            auth_audience=env.get("AUTH_AUDIENCE", "ots-platform"),
            auth_hs256_secret=env.get("AUTH_HS256_SECRET", ""),
            auth_jwks_json=env.get("AUTH_JWKS_JSON", ""),
            bank_webhook_secret=env.get("BANK_WEBHOOK_SECRET", ""),
            bank_mode=env.get("BANK_MODE", "sandbox_http"),  # type: ignore[arg-type]
            bank_url=env.get("BANK_URL", ""),
            policy_file=env.get("POLICY_FILE", ""),
        )
