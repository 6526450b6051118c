"""Bearer tokens -> Caller. Every token is checked for signature, `exp`, `iss` and `aud`.

Local and dev stages may verify HS256 with a shared secret; other stages verify RS256/ES256
against configured public keys (a JWKS document).
"""

from __future__ import annotations

import json
from typing import Any

import jwt
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chalicelib.domain.catalog import Department
from chalicelib.domain.errors import Unauthenticated
from chalicelib.service.caller import Caller, Role
from chalicelib.service.ports import Clock

ASYMMETRIC = ["RS256", "ES256"]


class Claims(BaseModel):
    model_config = ConfigDict(extra="ignore")

    sub: str = Field(min_length=1, max_length=128)
    role: Role
    institution_id: str = Field(default="", pattern=r"^(ins_[0-9A-Z]{26})?$")
    region: str = Field(default="", pattern=r"^(\d{6})?$")
    department: Department | None = None


class TokenVerifier:
    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        clock: Clock,
        hs256_secret: str = "",
        jwks_json: str = "",
    ) -> None:
        self.clock = clock
        self.issuer = issuer
        self.audience = audience
        self._secret = hs256_secret
        self._jwks = jwt.PyJWKSet.from_dict(json.loads(jwks_json)) if jwks_json else None

    def caller(self, authorization: str | None) -> Caller:
        token = _bearer(authorization)
        try:
            payload = jwt.decode(
                token,
                key=self._key_for(token),
                algorithms=["HS256"] if self._secret else ASYMMETRIC,
                audience=self.audience,
                issuer=self.issuer,
                # Expiry is checked below against the platform's clock, not the library's.
                options={"require": ["exp", "iss", "aud", "sub"], "verify_exp": False,
                         "verify_iat": False, "verify_nbf": False},
            )
            claims = Claims.model_validate(payload)
            if not isinstance(payload["exp"], int) or payload["exp"] <= self._now():
                raise jwt.ExpiredSignatureError("token expired")
        except (jwt.PyJWTError, ValidationError) as error:
            raise Unauthenticated("登录凭证无效或已过期", code="invalid_token") from error
        if claims.role is Role.REGULATOR and not (claims.region and claims.department):
            raise Unauthenticated("监管身份缺少辖区或部门", code="invalid_token")
        return Caller(
            sub=claims.sub,
            role=claims.role,
            institution_id=claims.institution_id,
            region=claims.region,
            department=claims.department,
        )

    def _now(self) -> int:
        return int(self.clock.now().timestamp())

    def _key_for(self, token: str) -> Any:
        if self._secret:
            return self._secret
        if self._jwks is None:
            raise Unauthenticated("未配置验证密钥", code="invalid_token")
        kid = jwt.get_unverified_header(token).get("kid")
        for key in self._jwks.keys:
            if key.key_id == kid:
                return key.key
        raise Unauthenticated("未知的签名密钥", code="invalid_token")


def _bearer(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("缺少登录凭证", code="missing_token")
    return token.strip()


def mint_hs256(
    secret: str, *, issuer: str, audience: str, sub: str, role: str, ttl_seconds: int = 3600,
    now: int, **claims: str,
) -> str:
    """A local/dev token (the `token` tool and the tests use this)."""
    payload = {"sub": sub, "role": role, "iss": issuer, "aud": audience, "iat": now,
               "exp": now + ttl_seconds, **{k: v for k, v in claims.items() if v}}
    return jwt.encode(payload, secret, algorithm="HS256")
