"""Bearer tokens -> Caller. Every token is checked for signature, `exp`, `nbf` (when present),
`iss` and `aud`.

Local and dev stages may verify HS256 with a shared secret; other stages verify RS256/ES256
against configured public keys (a JWKS document), each key only under its own algorithm
(chalicelib/adapters/signing_keys.py). Times are judged by the platform's clock, not the machine's:
the library's own time checks are off. Whatever is wrong with a token, the answer is 401
`invalid_token` (`missing_token` when there is none), never a 500.
"""

from __future__ import annotations

import re

import jwt
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, ValidationError

from chalicelib.adapters.signing_keys import SigningKeys
from chalicelib.domain.errors import Unauthenticated
from chalicelib.domain.institutions.catalog import Department
from chalicelib.service.caller import Caller, Role
from chalicelib.service.ports import Clock

MAX_TOKEN_CHARS = 8192
COMPACT_JWS = re.compile(r"[A-Za-z0-9_=-]+\.[A-Za-z0-9_=-]+\.[A-Za-z0-9_=-]+")
INVALID = "登录凭证无效或已过期"


class Claims(BaseModel):
    model_config = ConfigDict(extra="ignore")

    sub: StrictStr = Field(min_length=1, max_length=128)
    role: Role
    exp: StrictInt
    nbf: StrictInt = 0  # absent: valid from the start
    institution_id: str = Field(default="", pattern=r"^(ins_[0-9A-Z]{26})?$")
    region: str = Field(default="", pattern=r"^([0-9]{6})?$")
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
        """Exactly one of `hs256_secret` and `jwks_json`; a bad JWKS raises ValueError."""
        self.clock = clock
        self.issuer = issuer
        self.audience = audience
        self._keys = SigningKeys(hs256_secret=hs256_secret, jwks_json=jwks_json)

    def caller(self, authorization: str | None) -> Caller:
        claims = self._verified(_compact(_bearer(authorization)))
        now = int(self.clock.now().timestamp())
        if claims.exp <= now or claims.nbf > now:
            raise Unauthenticated(INVALID, code="invalid_token")
        if claims.role is Role.REGULATOR and not (claims.region and claims.department):
            raise Unauthenticated("监管身份缺少辖区或部门", code="invalid_token")
        return Caller(
            sub=claims.sub,
            role=claims.role,
            institution_id=claims.institution_id,
            region=claims.region,
            department=claims.department,
        )

    def _verified(self, token: str) -> Claims:
        try:
            key = self._keys.for_header(jwt.get_unverified_header(token))
            payload = jwt.decode(
                token,
                key=key,
                algorithms=[key.algorithm_name],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "iss", "aud", "sub"], "verify_exp": False,
                         "verify_iat": False, "verify_nbf": False},
            )
            return Claims.model_validate(payload)
        except (jwt.PyJWTError, ValidationError) as error:
            raise Unauthenticated(INVALID, code="invalid_token") from error


def _bearer(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("缺少登录凭证", code="missing_token")
    return token.strip()


def _compact(token: str) -> str:
    """Only bounded, ASCII base64url segments reach PyJWT: it encodes the token as UTF-8 first
    (a lone surrogate would raise UnicodeEncodeError, not a PyJWTError) and scans every byte."""
    if len(token) > MAX_TOKEN_CHARS or not COMPACT_JWS.fullmatch(token):
        raise Unauthenticated(INVALID, code="invalid_token")
    return token


def mint_hs256(
    secret: str, *, issuer: str, audience: str, sub: str, role: str, ttl_seconds: int = 3600,
    now: int, **claims: str,
) -> str:
    """A local/dev token (the `token` tool and the tests use this)."""
    payload = {"sub": sub, "role": role, "iss": issuer, "aud": audience, "iat": now,
               "exp": now + ttl_seconds, **{k: v for k, v in claims.items() if v}}
    return jwt.encode(payload, secret, algorithm="HS256")
