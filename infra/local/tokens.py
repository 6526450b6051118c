"""Local HS256 tokens, signed with the stack's secret and carrying its `iss` and `aud`."""

from __future__ import annotations

import time

from chalicelib.adapters.tokens import mint_hs256
from infra.local.clock import existing
from infra.local.config import AuthConfig, data_dir

DEFAULT_TTL_SECONDS = 24 * 3600
"""A day of platform time: enough to walk through the README with the clock moved a few
hours; mint again after moving it days."""


def mint(
    auth: AuthConfig,
    *,
    role: str,
    sub: str,
    institution_id: str = "",
    region: str = "",
    department: str = "",
    ttl_seconds: int = DEFAULT_TTL_SECONDS,
    now: int | None = None,
) -> str:
    """A bearer token for the local stack (empty claims are left out), valid from `now`
    (default: the platform clock of the local data, if it has one, else real time): the
    stack checks expiry against its platform clock."""
    return mint_hs256(
        auth.secret,
        issuer=auth.issuer,
        audience=auth.audience,
        sub=sub,
        role=role,
        ttl_seconds=ttl_seconds,
        now=now if now is not None else platform_now(),
        institution_id=institution_id,
        region=region,
        department=department,
    )


def platform_now() -> int:
    clock = existing(data_dir())
    return int(clock.now().timestamp()) if clock is not None else int(time.time())
