"""The keys a token may be signed with, each bound to the one algorithm it verifies under.

A stage has either one HS256 shared secret (local, dev and test stages, chalicelib/settings.py)
or a JWKS of RS256/ES256 public keys, picked by the token's `kid`. A key never verifies under
any algorithm but its own, so a token cannot choose how it is checked: an HS256 token "signed"
with an RSA key's PEM, or an ES256 token naming an RSA key, fails the algorithm check. A JWKS
that holds anything else (a shared secret, private key material, another algorithm, a key
without a `kid`) is refused when the verifier is built, so a misconfigured stage fails at start.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from chalicelib.domain.errors import Unauthenticated

PUBLIC_KEY_TYPES: dict[str, type[Any]] = {"RS256": RSAPublicKey, "ES256": EllipticCurvePublicKey}
ASYMMETRIC = tuple(PUBLIC_KEY_TYPES)


class SigningKeys:
    def __init__(self, *, hs256_secret: str = "", jwks_json: str = "") -> None:
        if bool(hs256_secret) == bool(jwks_json):
            raise ValueError("configure exactly one of an HS256 secret and a JWKS")
        self._shared = _shared_secret(hs256_secret) if hs256_secret else None
        self._by_kid = _public_keys(jwks_json) if jwks_json else {}

    def for_header(self, header: dict[str, Any]) -> jwt.PyJWK:
        """The key a token's (unverified) header names; its `alg` is checked against it later."""
        if self._shared is not None:
            return self._shared
        kid = header.get("kid")
        key = self._by_kid.get(kid) if isinstance(kid, str) else None
        if key is None:
            raise Unauthenticated("未知的签名密钥", code="invalid_token")
        return key


def _shared_secret(secret: str) -> jwt.PyJWK:
    k = base64.urlsafe_b64encode(secret.encode()).rstrip(b"=").decode()
    return jwt.PyJWK({"kty": "oct", "k": k, "alg": "HS256"})


def _public_keys(jwks_json: str) -> dict[str, jwt.PyJWK]:
    document = json.loads(jwks_json)
    entries = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(entries, list) or not entries:
        raise ValueError("the JWKS holds no keys")
    keys: dict[str, jwt.PyJWK] = {}
    for entry in entries:
        kid, key = _public_key(entry)
        if kid in keys:
            raise ValueError(f"the JWKS holds two keys with kid {kid!r}")
        keys[kid] = key
    return keys


def _public_key(entry: Any) -> tuple[str, jwt.PyJWK]:
    if not isinstance(entry, dict):
        raise ValueError("a JWKS key must be a JSON object")
    kid = entry.get("kid")
    if not isinstance(kid, str) or not kid:
        raise ValueError("every JWKS key needs a kid")
    if entry.get("kty") == "oct":
        raise ValueError(f"JWKS key {kid!r} is a shared secret: only public keys verify here")
    if entry.get("use", "sig") != "sig" or entry.get("alg") not in (None, *ASYMMETRIC):
        raise ValueError(f"JWKS key {kid!r} must be for RS256 or ES256 signatures")
    try:
        key = jwt.PyJWK(entry)  # without "alg", PyJWT infers it from kty and crv
    except jwt.PyJWTError as error:
        raise ValueError(f"JWKS key {kid!r} is unusable: {error}") from error
    _check_public(kid, key)
    return kid, key


def _check_public(kid: str, key: jwt.PyJWK) -> None:
    expected = PUBLIC_KEY_TYPES.get(key.algorithm_name)
    if expected is None or not isinstance(key.key, expected):
        raise ValueError(f"JWKS key {kid!r} must be an RS256 or ES256 public key")
    try:
        key.Algorithm.prepare_key(key.key)  # an ES256 key must be on P-256
    except jwt.PyJWTError as error:
        raise ValueError(f"JWKS key {kid!r} is unusable: {error}") from error
    weak = key.Algorithm.check_key_length(key.key)
    if weak:
        raise ValueError(f"JWKS key {kid!r}: {weak}")
