"""Local HS256 tokens, signed with the stack's secret and carrying its `iss` and `aud`."""

from __future__ import annotations

import time

from chalicelib.api.auth import mint_hs256
from infra.local.config import AuthConfig

DEFAULT_TTL_SECONDS = 3600


def mint(
    auth: AuthConfig,
    *,
    role: str,
    sub: str,
    institution_id: str = "",
    region: str = "",
    department: str = "",
    ttl_seconds: int = DEFAULT_TTL_SECONDS,
) -> str:
    """A bearer token for the local stack (empty claims are left out)."""
    return mint_hs256(
        auth.secret,
        issuer=auth.issuer,
        audience=auth.audience,
        sub=sub,
        role=role,
        ttl_seconds=ttl_seconds,
        now=int(time.time()),
        institution_id=institution_id,
        region=region,
        department=department,
    )
