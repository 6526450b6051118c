"""The one composition root: settings -> adapters -> the context every use case receives.

Lambda builds it once per container (on first use); tests and the local stack install their
own with `use(...)`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import boto3

from chalicelib.adapters import ids
from chalicelib.adapters.bank.http_gateway import HttpBankGateway
from chalicelib.adapters.clock import SystemClock
from chalicelib.adapters.dynamo.due import DynamoSchedule
from chalicelib.adapters.dynamo.idempotency import DynamoIdempotencyStore
from chalicelib.adapters.dynamo.store import DynamoStore
from chalicelib.adapters.dynamo.tables import Tables
from chalicelib.adapters.metrics import EmbeddedMetrics
from chalicelib.adapters.push import LoggedPush, SnsPush
from chalicelib.adapters.sqs_publisher import SqsPublisher
from chalicelib.adapters.tokens import TokenVerifier
from chalicelib.domain.calendar import CalendarOverrides, WorkingDayCalendar
from chalicelib.domain.policy_book import PolicyBook
from chalicelib.service.context import Context
from chalicelib.service.ports import BankGateway, Clock, Metrics, Push
from chalicelib.settings import Settings

POLICIES = Path(__file__).parent / "policies"


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    context: Context
    verifier: TokenVerifier
    idempotency: DynamoIdempotencyStore


_installed: Runtime | None = None


def build(
    settings: Settings,
    *,
    dynamodb: Any = None,
    sqs: Any = None,
    bank: BankGateway | None = None,
    clock: Clock | None = None,
    metrics: Metrics | None = None,
    push: Push | None = None,
) -> Runtime:
    dynamodb = dynamodb or boto3.client("dynamodb")
    sqs = sqs or boto3.client("sqs")
    tables = Tables(dynamodb, settings.platform_table, settings.journal_table)

    def queue_url(url: str, name: str) -> str:
        return url or str(sqs.get_queue_url(QueueName=name)["QueueUrl"])

    context = Context(
        store=DynamoStore(tables),
        schedule=DynamoSchedule(tables),
        bank=bank or HttpBankGateway(settings.bank_url),
        publisher=SqsPublisher(
            sqs,
            queue_url(settings.settlement_queue_url, settings.settlement_queue_name),
            queue_url(settings.sweep_queue_url, settings.sweep_queue_name),
            queue_url(settings.liquidation_queue_url, settings.liquidation_queue_name),
            queue_url(settings.complaint_queue_url, settings.complaint_queue_name),
        ),
        push=push or _push(settings),
        clock=clock or SystemClock(),
        metrics=metrics or EmbeddedMetrics(settings.stage),
        policies=_policies(settings),
        calendar=calendar(),
        new_id=ids.new_id,
        derived_id=ids.derived_id,
        province_code=settings.province_code,
    )
    verifier = TokenVerifier(
        issuer=settings.auth_issuer,
        audience=settings.auth_audience,
        clock=context.clock,
        hs256_secret=settings.auth_hs256_secret,
        jwks_json=settings.auth_jwks_json,
    )
    return Runtime(settings, context, verifier, DynamoIdempotencyStore(tables))


def _push(settings: Settings) -> Push:
    if settings.notification_topic_arn:
        return SnsPush(boto3.client("sns"), settings.notification_topic_arn)
    return LoggedPush()


def _policies(settings: Settings) -> PolicyBook:
    return policies(settings.policy_file)


def policies(policy_file: str = "") -> PolicyBook:
    """The national policy and every packaged province's (chalicelib/policies/), a province
    file given as POLICY_FILE replacing the packaged one of its region."""
    provinces = {path.stem: _json(path) for path in sorted(POLICIES.glob("[0-9][0-9].json"))}
    if policy_file:
        replacement = _json(Path(policy_file))
        provinces[str(replacement.get("region", ""))] = replacement
    return PolicyBook.from_files(_json(POLICIES / "national.json"), provinces.values())


def calendar() -> WorkingDayCalendar:
    """China's working days with the operator's overrides (chalicelib/policies/calendar.json)."""
    data = _json(POLICIES / "calendar.json")
    return WorkingDayCalendar(CalendarOverrides(
        holidays=frozenset(date.fromisoformat(d) for d in data["holidays"]),
        working_days=frozenset(date.fromisoformat(d) for d in data["working_days"]),
    ))


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def use(runtime: Runtime | None) -> None:
    """Install a runtime (tests, local stack); None goes back to building from the environment."""
    global _installed
    _installed = runtime
    _from_environment.cache_clear()


@cache
def _from_environment() -> Runtime:
    return build(Settings.from_environment())


def runtime() -> Runtime:
    return _installed or _from_environment()


def settings() -> Settings:
    return runtime().settings


def context() -> Context:
    return runtime().context


def verifier() -> TokenVerifier:
    return runtime().verifier


def idempotency_store() -> DynamoIdempotencyStore:
    return runtime().idempotency
