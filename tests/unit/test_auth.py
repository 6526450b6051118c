"""Token verification: HS256 for local and dev, RS256/ES256 against a JWKS everywhere else."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from chalicelib.adapters.clock import ManualClock
from chalicelib.api.auth import TokenVerifier
from chalicelib.domain.errors import Unauthenticated
from chalicelib.service.caller import Role

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
CLAIMS = {"iss": "ots-prod", "aud": "ots-platform", "sub": "p1", "role": "parent",
          "exp": int(NOW.timestamp()) + 600}
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())


def jwks() -> str:
    rsa_jwk = json.loads(RSAAlgorithm.to_jwk(RSA_KEY.public_key()))
    ec_jwk = json.loads(ECAlgorithm.to_jwk(EC_KEY.public_key()))
    return json.dumps({"keys": [{**rsa_jwk, "kid": "rsa-1", "alg": "RS256", "use": "sig"},
                                {**ec_jwk, "kid": "ec-1", "alg": "ES256", "use": "sig"}]})


def verifier(**overrides: str) -> TokenVerifier:
    options = {"issuer": "ots-prod", "audience": "ots-platform", "jwks_json": jwks(), **overrides}
    return TokenVerifier(clock=ManualClock(NOW), **options)


def bearer(token: str) -> str:
    return f"Bearer {token}"


@pytest.mark.parametrize(("key", "alg", "kid"), [(RSA_KEY, "RS256", "rsa-1"),
                                                 (EC_KEY, "ES256", "ec-1")])
def test_a_token_signed_by_a_configured_key_gives_its_caller(key: object, alg: str,
                                                             kid: str) -> None:
    token = jwt.encode(CLAIMS, key, algorithm=alg, headers={"kid": kid})  # type: ignore[arg-type]
    caller = verifier().caller(bearer(token))
    assert (caller.sub, caller.role) == ("p1", Role.PARENT)


def test_a_token_signed_with_an_unknown_key_id_is_refused() -> None:
    token = jwt.encode(CLAIMS, RSA_KEY, algorithm="RS256", headers={"kid": "rsa-2"})
    with pytest.raises(Unauthenticated):
        verifier().caller(bearer(token))


def test_an_hs256_token_is_refused_where_keys_are_asymmetric() -> None:
    forged = jwt.encode(CLAIMS, "x" * 32, algorithm="HS256", headers={"kid": "rsa-1"})
    with pytest.raises(Unauthenticated):
        verifier().caller(bearer(forged))


@pytest.mark.parametrize("change", [{"exp": int(NOW.timestamp())}, {"iss": "someone-else"},
                                    {"aud": "another-app"}, {"role": "admin"}])
def test_an_expired_foreign_or_unknown_role_token_is_refused(change: dict[str, object]) -> None:
    token = jwt.encode({**CLAIMS, **change}, RSA_KEY, algorithm="RS256", headers={"kid": "rsa-1"})
    with pytest.raises(Unauthenticated):
        verifier().caller(bearer(token))


def test_a_regulator_token_must_carry_region_and_department() -> None:
    claims = {**CLAIMS, "role": "regulator", "region": "440106"}
    token = jwt.encode(claims, RSA_KEY, algorithm="RS256", headers={"kid": "rsa-1"})
    with pytest.raises(Unauthenticated):
        verifier().caller(bearer(token))
    full = jwt.encode({**claims, "department": "education"}, RSA_KEY, algorithm="RS256",
                      headers={"kid": "rsa-1"})
    assert verifier().caller(bearer(full)).region == "440106"
