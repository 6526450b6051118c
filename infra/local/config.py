"""What the local stack reads from the environment, with clearly local-only defaults.

`infra.cli` reads the same values, so tokens it mints verify against a running stack.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from infra.local.clock import ClockError, parse_start

HOST = "127.0.0.1"
STAGE = "local"
AWS_REGION = "cn-north-1"
FAKE_CREDENTIAL = "local"
"""The local stack's AWS access key and secret: DynamoDB Local keeps one database file per
access key and region, so every client of the stack must use the same."""
PROJECT_DIR = Path(__file__).resolve().parents[2]
DEFAULT_DATA_DIR = PROJECT_DIR / "var" / "local"

# Local-only secrets: never used by any deployed stage (those verify RS256/ES256 via JWKS).
DEFAULT_AUTH_SECRET = "local-only-auth-secret-do-not-deploy"
DEFAULT_BANK_SECRET = "local-only-bank-secret-do-not-deploy"
DEFAULT_ISSUER = "ots-local"
DEFAULT_AUDIENCE = "ots-platform"
MIN_SECRET_LENGTH = 16


class ConfigError(ValueError):
    """An environment variable has a value the local stack cannot use."""


class Engine(StrEnum):
    """What holds the tables (LOCAL_ENGINE). SQS is always the in-memory emulator."""

    DYNAMODB_LOCAL = "dynamodb-local"
    """AWS's DynamoDB Local (Java 17+), data on disk; falls back to moto without Java."""
    MOTO = "moto"
    """The all-Python emulator, in memory: data ends with the stack."""


@dataclass(frozen=True)
class AuthConfig:
    """How local tokens are signed and checked (HS256, `iss` and `aud`)."""

    secret: str
    issuer: str
    audience: str
    secret_is_default: bool

    @classmethod
    def from_environment(cls, env: Mapping[str, str] | None = None) -> AuthConfig:
        env = os.environ if env is None else env
        secret = env.get("AUTH_HS256_SECRET") or DEFAULT_AUTH_SECRET
        _check_secret("AUTH_HS256_SECRET", secret)
        return cls(
            secret=secret,
            issuer=env.get("AUTH_ISSUER") or DEFAULT_ISSUER,
            audience=env.get("AUTH_AUDIENCE") or DEFAULT_AUDIENCE,
            secret_is_default=secret == DEFAULT_AUTH_SECRET,
        )


@dataclass(frozen=True)
class LocalConfig:
    """Everything `python -m infra.local` is configured by. Port 0 picks a free port."""

    auth: AuthConfig
    bank_secret: str
    api_port: int
    bank_port: int
    moto_port: int
    dynamodb_port: int
    province_code: str
    schedule_seconds: float
    engine: Engine
    data_dir: Path
    """Where DynamoDB Local's tables, the sandbox bank's state and endpoints.json live."""
    start_time: datetime | None = None
    """LOCAL_START_TIME: where the platform clock starts on fresh data."""

    @property
    def bank_secret_is_default(self) -> bool:
        return self.bank_secret == DEFAULT_BANK_SECRET

    @classmethod
    def from_environment(cls, env: Mapping[str, str] | None = None) -> LocalConfig:
        env = os.environ if env is None else env
        bank_secret = env.get("BANK_WEBHOOK_SECRET") or DEFAULT_BANK_SECRET
        _check_secret("BANK_WEBHOOK_SECRET", bank_secret)
        province = env.get("PROVINCE_CODE") or "44"
        if not (len(province) == 2 and province.isdigit()):
            raise ConfigError(f"PROVINCE_CODE must be two digits, got {province!r}")
        return cls(
            auth=AuthConfig.from_environment(env),
            bank_secret=bank_secret,
            api_port=_port(env, "API_PORT", 8000),
            bank_port=_port(env, "BANK_PORT", 8001),
            moto_port=_port(env, "MOTO_PORT", 4566),
            dynamodb_port=_port(env, "DYNAMODB_PORT", 8002),
            province_code=province,
            schedule_seconds=_positive(env, "SCHEDULE_SECONDS", 30.0),
            engine=_engine(env),
            data_dir=data_dir(env),
            start_time=_start_time(env),
        )


def data_dir(env: Mapping[str, str] | None = None) -> Path:
    """LOCAL_DATA_DIR, or var/local in the project (git-ignored)."""
    env = os.environ if env is None else env
    raw = env.get("LOCAL_DATA_DIR", "")
    return Path(raw).expanduser().resolve() if raw else DEFAULT_DATA_DIR


def _start_time(env: Mapping[str, str]) -> datetime | None:
    raw = env.get("LOCAL_START_TIME", "")
    if not raw:
        return None
    try:
        return parse_start(raw)
    except ClockError as error:
        raise ConfigError(str(error)) from None


def _engine(env: Mapping[str, str]) -> Engine:
    raw = env.get("LOCAL_ENGINE", "") or Engine.DYNAMODB_LOCAL.value
    try:
        return Engine(raw)
    except ValueError:
        choices = ", ".join(e.value for e in Engine)
        raise ConfigError(f"LOCAL_ENGINE must be one of {choices}; got {raw!r}") from None


def _check_secret(name: str, value: str) -> None:
    if len(value) < MIN_SECRET_LENGTH:
        raise ConfigError(f"{name} must be at least {MIN_SECRET_LENGTH} characters")


def _port(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "")
    if not raw:
        return default
    try:
        port = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a port number, got {raw!r}") from None
    if not 0 <= port <= 65535:
        raise ConfigError(f"{name} must be between 0 and 65535, got {port}")
    return port


def _positive(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "")
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds, got {raw!r}") from None
    if not value > 0:
        raise ConfigError(f"{name} must be positive, got {raw!r}")
    return value
