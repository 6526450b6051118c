"""Token verification: HS256 for local and dev, RS256/ES256 against a JWKS everywhere else.

Every token that is not well formed, not signed by a configured key under that key's own
algorithm, or whose claims are not exactly what they must be, is refused as Unauthenticated
(401 `invalid_token`): never accepted and never another exception (a 500).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from hypothesis import given, settings
from hypothesis import strategies as st
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from chalicelib.adapters.clock import ManualClock
from chalicelib.adapters.tokens import TokenVerifier
from chalicelib.domain.errors import Forbidden, Unauthenticated
from chalicelib.service.caller import Caller, Role
from chalicelib.settings import Settings

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
NOW_S = int(NOW.timestamp())
CLAIMS: dict[str, Any] = {"iss": "ots-prod", "aud": "ots-platform", "sub": "p1",
                          "role": "parent", "exp": NOW_S + 600}
SECRET = "unit-test-hs256-secret-" + "0123456789abcdef" * 3  # long enough for HS512
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())
OTHER_RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
RSA_PEM = RSA_KEY.public_key().public_bytes(
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
)


def rsa_jwk(key: rsa.RSAPrivateKey = RSA_KEY, **fields: Any) -> dict[str, Any]:
    return {**json.loads(RSAAlgorithm.to_jwk(key.public_key())), **fields}


def ec_jwk(key: ec.EllipticCurvePrivateKey = EC_KEY, **fields: Any) -> dict[str, Any]:
    return {**json.loads(ECAlgorithm.to_jwk(key.public_key())), **fields}


def jwks(*keys: dict[str, Any]) -> str:
    return json.dumps({"keys": list(keys) or [
        rsa_jwk(kid="rsa-1", alg="RS256", use="sig"),
        ec_jwk(kid="ec-1", alg="ES256", use="sig"),
    ]})


def verifier(clock_at: datetime = NOW, **overrides: str) -> TokenVerifier:
    options = {"issuer": "ots-prod", "audience": "ots-platform", "jwks_json": jwks(), **overrides}
    return TokenVerifier(clock=ManualClock(clock_at), **options)


def hs256_verifier() -> TokenVerifier:
    return TokenVerifier(clock=ManualClock(NOW), issuer="ots-prod", audience="ots-platform",
                         hs256_secret=SECRET)


def bearer(token: str) -> str:
    return f"Bearer {token}"


def signed(claims: dict[str, Any] | None = None, *, key: Any = RSA_KEY, alg: str = "RS256",
           kid: str | None = "rsa-1") -> str:
    """Signed for real; the claims go in as given (jwt.encode would refuse some of them)."""
    headers = {"kid": kid} if kid is not None else None
    payload = json.dumps(CLAIMS if claims is None else claims).encode()
    return jwt.PyJWS().encode(payload, key, algorithm=alg, headers=headers)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def assembled(header: Any, payload: Any = CLAIMS, signature: bytes = b"not-a-signature") -> str:
    """A token put together by hand, for headers and payloads no library would write."""
    encode = lambda part: part if isinstance(part, bytes) else json.dumps(part).encode()  # noqa: E731
    return f"{b64(encode(header))}.{b64(encode(payload))}.{b64(signature)}"


def hmac_signed(header: dict[str, Any], secret: bytes, payload: Any = CLAIMS) -> str:
    """A token whose signature is a real HMAC-SHA256 with `secret`, whatever `alg` it claims."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(mac)}"


def assert_refused(check: TokenVerifier, authorization: str, code: str = "invalid_token") -> None:
    with pytest.raises(Unauthenticated) as refusal:
        check.caller(authorization)
    assert refusal.value.code == code


# what is accepted


@pytest.mark.parametrize(("key", "alg", "kid"), [(RSA_KEY, "RS256", "rsa-1"),
                                                 (EC_KEY, "ES256", "ec-1")])
def test_a_token_signed_by_a_configured_key_gives_its_caller(key: object, alg: str,
                                                             kid: str) -> None:
    caller = verifier().caller(bearer(signed(key=key, alg=alg, kid=kid)))
    assert (caller.sub, caller.role) == ("p1", Role.PARENT)


def test_an_hs256_token_signed_with_the_stages_secret_gives_its_caller() -> None:
    token = signed(key=SECRET, alg="HS256", kid=None)
    assert hs256_verifier().caller(bearer(token)).sub == "p1"


def test_a_jwks_key_without_alg_verifies_under_the_algorithm_its_type_implies() -> None:
    keys = jwks(rsa_jwk(kid="rsa-1"), ec_jwk(kid="ec-1"))
    assert verifier(jwks_json=keys).caller(bearer(signed())).sub == "p1"
    assert verifier(jwks_json=keys).caller(bearer(signed(key=EC_KEY, alg="ES256",
                                                         kid="ec-1"))).sub == "p1"
    assert_refused(verifier(jwks_json=keys), bearer(signed(key=EC_KEY, alg="ES256")))


# malformed tokens

MALFORMED = {
    "garbage": "garbage",
    "three dots": "...",
    "two segments": "a.b",
    "four segments": signed() + ".x",
    "a header that is not JSON": assembled(b"not json"),
    "a header that is a JSON list": assembled(["RS256", "rsa-1"]),
    "a header that is a JSON string": assembled("RS256"),
    "a deeply nested header": assembled(b"[" * 50_000 + b"]" * 50_000),
    "a payload that is not JSON": assembled({"alg": "RS256", "kid": "rsa-1"}, b"{nope"),
    "a payload that is a JSON list": assembled({"alg": "RS256", "kid": "rsa-1"}, [CLAIMS]),
    "a detached-payload header": assembled({"alg": "RS256", "kid": "rsa-1", "b64": False,
                                            "crit": ["b64"]}),
    "an unknown critical header": assembled({"alg": "RS256", "kid": "rsa-1", "crit": ["x"],
                                             "x": 1}),
    "non-ASCII characters": "héllo.wörld.sig",
    "a lone surrogate": "\ud800" + signed(),
    "a space inside": signed().replace(".", ". ", 1),
    "a huge garbage token": "a" * 1_000_000 + ".b.c",
    "a huge validly signed token": signed({**CLAIMS, "padding": "x" * 100_000}),
}


@pytest.mark.parametrize("token", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_token_is_refused_as_invalid(token: str) -> None:
    assert_refused(verifier(), bearer(token))
    assert_refused(hs256_verifier(), bearer(token))


@pytest.mark.parametrize("authorization", ["", "Bearer", "Bearer   ", "Basic abc", "bearer"])
def test_no_token_is_refused_as_missing(authorization: str) -> None:
    assert_refused(verifier(), authorization, "missing_token")


# which key, and under which algorithm

KEY_CHOICE = {
    "a kid that is a number": assembled({"alg": "RS256", "kid": 1}),
    "a kid that is a list": assembled({"alg": "RS256", "kid": ["rsa-1"]}),
    "a kid that is null": assembled({"alg": "RS256", "kid": None}),
    "no kid": signed(kid=None),
    "an empty kid": signed(kid=""),
    "an unknown kid": signed(kid="rsa-2"),
    "no alg": assembled({"kid": "rsa-1"}),
    "alg none, unsigned": assembled({"alg": "none", "kid": "rsa-1"}, signature=b""),
    "alg none, with a signature": assembled({"alg": "none", "kid": "rsa-1"}),
    "alg None in lower case": assembled({"alg": "None", "kid": "rsa-1"}),
    "alg as a list": assembled({"alg": ["RS256"], "kid": "rsa-1"}),
    "an RS256 token signed by another key": signed(key=OTHER_RSA_KEY),
    "an RS256 token with a tampered payload": (
        lambda t: t.split(".")[0] + "." + b64(json.dumps({**CLAIMS, "sub": "p2"}).encode())
        + "." + t.split(".")[2])(signed()),
    "an RS256 token with its signature cut short": signed()[:-8],
    "an RS256 token naming the EC key": signed(kid="ec-1"),
    "a PS256 token naming the RSA key": signed(alg="PS256"),
    "an RS512 token naming the RSA key": signed(alg="RS512"),
    "an ES384 token naming the EC key": signed(key=ec.generate_private_key(ec.SECP384R1()),
                                               alg="ES384", kid="ec-1"),
    "an HS256 token signed with a guessed secret": signed(key="x" * 32, alg="HS256"),
    "an HS256 token signed with the RSA public key's PEM": hmac_signed(
        {"alg": "HS256", "typ": "JWT", "kid": "rsa-1"}, RSA_PEM),
    "an HS256 token signed with the EC public key's PEM": hmac_signed(
        {"alg": "HS256", "typ": "JWT", "kid": "ec-1"},
        EC_KEY.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)),
}


@pytest.mark.parametrize("token", KEY_CHOICE.values(), ids=KEY_CHOICE.keys())
def test_a_token_not_signed_by_the_key_it_names_under_that_keys_algorithm_is_refused(
    token: str,
) -> None:
    assert_refused(verifier(), bearer(token))


def test_an_es256_token_whose_header_names_an_rsa_keys_kid_is_refused() -> None:
    """The issue's case: a token may not pick the algorithm its named key is checked with."""
    token = signed(key=EC_KEY, alg="ES256", kid="rsa-1")
    assert_refused(verifier(), bearer(token))


SYMMETRIC_ONLY = {
    "an RS256 token": signed(),
    "an ES256 token": signed(key=EC_KEY, alg="ES256", kid="ec-1"),
    "an RS256 header over an HMAC with the secret": hmac_signed(
        {"alg": "RS256", "typ": "JWT"}, SECRET.encode()),
    "an ES256 header over an HMAC with the secret": hmac_signed(
        {"alg": "ES256", "typ": "JWT"}, SECRET.encode()),
    "an HS384 token signed with the secret": signed(key=SECRET, alg="HS384", kid=None),
    "an HS512 token signed with the secret": signed(key=SECRET, alg="HS512", kid=None),
    "an HS256 token signed with another secret": signed(key="y" * 40, alg="HS256", kid=None),
    "alg none": assembled({"alg": "none"}, signature=b""),
}


@pytest.mark.parametrize("token", SYMMETRIC_ONLY.values(), ids=SYMMETRIC_ONLY.keys())
def test_a_verifier_built_with_a_secret_accepts_only_hs256_with_that_secret(token: str) -> None:
    assert_refused(hs256_verifier(), bearer(token))


# claims

BAD_CLAIMS: dict[str, dict[str, Any]] = {
    "exp now": {"exp": NOW_S},
    "exp as a string": {"exp": str(NOW_S + 600)},
    "exp as a float": {"exp": NOW_S + 600.5},
    "exp as an integral float": {"exp": float(NOW_S + 600)},
    "exp as true": {"exp": True},
    "exp as null": {"exp": None},
    "exp as a list": {"exp": [NOW_S + 600]},
    "no exp": {"exp": ...},
    "sub empty": {"sub": ""},
    "sub a number": {"sub": 7},
    "sub a list": {"sub": ["p1"]},
    "sub too long": {"sub": "p" * 129},
    "no sub": {"sub": ...},
    "role unknown": {"role": "admin"},
    "role in capitals": {"role": "Parent"},
    "role a number": {"role": 1},
    "no role": {"role": ...},
    "another issuer": {"iss": "someone-else"},
    "issuer a list": {"iss": ["ots-prod"]},
    "another audience": {"aud": "another-app"},
    "audience a number": {"aud": 1},
    "institution id malformed": {"role": "institution", "institution_id": "ins_short"},
    "institution id a number": {"role": "institution", "institution_id": 1},
    "region too short": {"role": "regulator", "region": "44010", "department": "education"},
    "region with a letter": {"role": "regulator", "region": "44010a",
                             "department": "education"},
    "region in Arabic-Indic digits": {"role": "regulator", "region": "٤٤٠١٠٦",
                                      "department": "education"},
    "region in full-width digits": {"role": "regulator", "region": "４４０１０６",
                                    "department": "education"},
    "region with a newline": {"role": "regulator", "region": "440106\n",
                              "department": "education"},
    "region a number": {"role": "regulator", "region": 440106, "department": "education"},
    "department unknown": {"role": "regulator", "region": "440106", "department": "police"},
}


def changed(claims: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    merged = {**claims, **change}
    return {name: value for name, value in merged.items() if value is not ...}


@pytest.mark.parametrize("change", BAD_CLAIMS.values(), ids=BAD_CLAIMS.keys())
def test_a_token_whose_claims_are_of_the_wrong_type_or_value_is_refused(
    change: dict[str, Any],
) -> None:
    assert_refused(verifier(), bearer(signed(changed(CLAIMS, change))))


def test_a_regulator_token_must_carry_region_and_department() -> None:
    claims = {**CLAIMS, "role": "regulator", "region": "440106"}
    assert_refused(verifier(), bearer(signed(claims)))
    full = signed({**claims, "department": "education"})
    assert verifier().caller(bearer(full)).region == "440106"


# not before, by the platform's clock


def test_a_token_not_valid_until_a_second_from_now_is_refused() -> None:
    assert_refused(verifier(), bearer(signed({**CLAIMS, "nbf": NOW_S + 1})))


def test_a_token_valid_from_this_second_or_earlier_is_accepted() -> None:
    for nbf in (NOW_S, NOW_S - 3600, 0):
        assert verifier().caller(bearer(signed({**CLAIMS, "nbf": nbf}))).sub == "p1"


def test_not_before_is_judged_by_the_platform_clock_not_the_machines() -> None:
    """The machine's clock reads some time in the 2020s; the platform's clock decides."""
    future = datetime(2100, 1, 1, tzinfo=UTC)
    at_2100 = int(future.timestamp())
    valid_in_2100 = {**CLAIMS, "nbf": at_2100 - 60, "exp": at_2100 + 600}
    assert verifier(clock_at=future).caller(bearer(signed(valid_in_2100))).sub == "p1"
    past = datetime(2000, 1, 1, tzinfo=UTC)
    at_2000 = int(past.timestamp())
    not_yet_in_2000 = {**CLAIMS, "nbf": at_2000 + 60, "exp": at_2000 + 600}
    assert_refused(verifier(clock_at=past), bearer(signed(not_yet_in_2000)))


@pytest.mark.parametrize("nbf", [str(NOW_S), NOW_S - 0.5, float(NOW_S), True, None, [NOW_S],
                                 {"at": NOW_S}], ids=repr)
def test_a_not_before_that_is_not_an_integer_is_refused(nbf: object) -> None:
    assert_refused(verifier(), bearer(signed({**CLAIMS, "nbf": nbf})))


# whom a staff token acts for

SHOP_A, SHOP_B = "ins_" + "A" * 26, "ins_" + "B" * 26


def test_staff_act_for_the_institution_their_token_names() -> None:
    token = signed({**CLAIMS, "role": "institution", "institution_id": SHOP_A})
    staff = verifier().caller(bearer(token))
    assert staff.own_institution() == SHOP_A
    assert staff.require_staff_of(SHOP_A) is staff


@pytest.mark.parametrize("asked", [SHOP_A, SHOP_B, ""])
def test_staff_whose_token_names_no_institution_act_for_none(asked: str) -> None:
    unbound = verifier().caller(bearer(signed({**CLAIMS, "role": "institution"})))
    for attempt in (unbound.own_institution, lambda: unbound.require_staff_of(asked)):
        with pytest.raises(Forbidden) as refusal:
            attempt()
        assert refusal.value.code == "not_your_institution"


def test_staff_of_one_institution_do_not_act_for_another() -> None:
    with pytest.raises(Forbidden) as refusal:
        Caller("s", Role.INSTITUTION, institution_id=SHOP_A).require_staff_of(SHOP_B)
    assert refusal.value.code == "not_your_institution"


@pytest.mark.parametrize("role", [Role.PARENT, Role.REGULATOR])
def test_only_staff_act_for_an_institution(role: Role) -> None:
    with pytest.raises(Forbidden) as refusal:
        Caller("s", role, institution_id=SHOP_A).own_institution()
    assert refusal.value.code == "role_not_allowed"


# what a JWKS may hold

BAD_JWKS = {
    "not JSON": "{keys",
    "a JSON list": json.dumps([rsa_jwk(kid="rsa-1")]),
    "no keys": json.dumps({"keys": []}),
    "keys not a list": json.dumps({"keys": rsa_jwk(kid="rsa-1")}),
    "a key that is not an object": json.dumps({"keys": ["rsa-1"]}),
    "a shared secret": jwks(rsa_jwk(kid="rsa-1"),
                            {"kty": "oct", "k": b64(b"s" * 32), "kid": "hs-1", "alg": "HS256"}),
    "a shared secret without alg": jwks({"kty": "oct", "k": b64(b"s" * 32), "kid": "hs-1"}),
    "a shared secret claiming RS256": jwks({"kty": "oct", "k": b64(b"s" * 32), "kid": "hs-1",
                                            "alg": "RS256"}),
    "an RSA key for RS512": jwks(rsa_jwk(kid="rsa-1", alg="RS512")),
    "an RSA key for PS256": jwks(rsa_jwk(kid="rsa-1", alg="PS256")),
    "an RSA key for HS256": jwks(rsa_jwk(kid="rsa-1", alg="HS256")),
    "an RSA key for none": jwks(rsa_jwk(kid="rsa-1", alg="none")),
    "an RSA key whose alg is a list": jwks(rsa_jwk(kid="rsa-1", alg=["RS256"])),
    "an RSA key claiming ES256": jwks(rsa_jwk(kid="rsa-1", alg="ES256")),
    "a P-384 key (ES384 by its curve)": jwks(ec_jwk(ec.generate_private_key(ec.SECP384R1()),
                                                    kid="ec-1")),
    "a P-384 key claiming ES256": jwks(ec_jwk(ec.generate_private_key(ec.SECP384R1()),
                                              kid="ec-1", alg="ES256")),
    "an Ed25519 key": jwks({"kty": "OKP", "crv": "Ed25519", "x": b64(b"x" * 32), "kid": "ed"}),
    "an RSA private key": jwks(json.loads(RSAAlgorithm.to_jwk(RSA_KEY)) | {"kid": "rsa-1"}),
    "an EC private key": jwks(json.loads(ECAlgorithm.to_jwk(EC_KEY)) | {"kid": "ec-1"}),
    "a 1024-bit RSA key": jwks(rsa_jwk(rsa.generate_private_key(65537, 1024), kid="rsa-1")),
    "a key for encryption": jwks(rsa_jwk(kid="rsa-1", use="enc")),
    "a key without kid": jwks(rsa_jwk()),
    "a key whose kid is a number": jwks(rsa_jwk(kid=1)),
    "two keys with one kid": jwks(rsa_jwk(kid="k"), ec_jwk(kid="k")),
    "an RSA key with a broken modulus": jwks(rsa_jwk(kid="rsa-1", n=12)),
}


@pytest.mark.parametrize("document", BAD_JWKS.values(), ids=BAD_JWKS.keys())
def test_a_jwks_holding_anything_but_rs256_and_es256_public_keys_is_refused_at_start(
    document: str,
) -> None:
    with pytest.raises(ValueError):
        verifier(jwks_json=document)


@pytest.mark.parametrize("keys", [{}, {"hs256_secret": SECRET, "jwks_json": jwks()}],
                         ids=["neither", "both"])
def test_a_verifier_needs_exactly_one_of_a_secret_and_a_jwks(keys: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        TokenVerifier(clock=ManualClock(NOW), issuer="ots-prod", audience="ots-platform",
                      **keys)


def test_a_stage_configured_with_both_a_secret_and_a_jwks_is_refused() -> None:
    stage = {"stage": "dev", "province_code": "44", "platform_table": "p", "journal_table": "j",
             "settlement_queue_name": "q.fifo", "sweep_queue_name": "s.fifo",
             "liquidation_queue_name": "l", "complaint_queue_name": "c",
             "auth_issuer": "ots-dev",
             "auth_audience": "ots-platform", "bank_webhook_secret": "b" * 32}
    assert Settings(**stage, auth_hs256_secret=SECRET).auth_hs256_secret == SECRET
    with pytest.raises(ValueError):
        Settings(**stage, auth_hs256_secret=SECRET, auth_jwks_json=jwks())


# anything at all

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)
header_fields = st.fixed_dictionaries({}, optional={
    "alg": st.sampled_from(["RS256", "ES256", "HS256", "none", "PS256", ""]) | json_values,
    "kid": st.sampled_from(["rsa-1", "ec-1", ""]) | json_values,
    "typ": json_values, "crit": json_values, "b64": json_values, "jwk": json_values,
})
claim_fields = st.fixed_dictionaries({}, optional={
    name: st.just(value) | json_values for name, value in
    {**CLAIMS, "nbf": NOW_S, "region": "440106", "department": "education",
     "institution_id": "ins_" + "0" * 26}.items()
})


@settings(max_examples=300, deadline=None)
@given(header=header_fields | json_values, payload=claim_fields | json_values,
       signature=st.binary(max_size=300))
def test_any_hand_built_token_is_refused_and_nothing_else_is_raised(
    header: Any, payload: Any, signature: bytes
) -> None:
    token = assembled(header, payload, signature)
    assert_refused(verifier(), bearer(token))
    assert_refused(hs256_verifier(), bearer(token))


@settings(max_examples=300, deadline=None)
@given(authorization=st.text(max_size=200))
def test_any_authorization_text_is_refused_and_nothing_else_is_raised(
    authorization: str,
) -> None:
    with pytest.raises(Unauthenticated):
        verifier().caller(authorization)


def rsa_signed(header: Any, payload: Any) -> str:
    """A real RS256 signature by RSA_KEY over whatever header and payload are given."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}"
    signature = RSA_KEY.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{b64(signature)}"


@settings(max_examples=200, deadline=None)
@given(payload=claim_fields.map(lambda overrides: {**CLAIMS, **overrides}),
       extra_headers=st.dictionaries(
    st.sampled_from(["typ", "crit", "b64", "jwk", "x5u", "cty", "zip"]), json_values, max_size=3))
def test_a_properly_signed_token_with_any_claims_gives_a_sound_caller_or_is_refused(
    payload: dict[str, Any], extra_headers: dict[str, Any]
) -> None:
    token = rsa_signed({**extra_headers, "alg": "RS256", "kid": "rsa-1"}, payload)
    try:
        caller = verifier().caller(bearer(token))
    except Unauthenticated as refusal:
        assert refusal.code == "invalid_token"
        return
    assert type(payload["exp"]) is int and payload["exp"] > NOW_S
    assert type(payload.get("nbf", 0)) is int and payload.get("nbf", 0) <= NOW_S
    assert caller.sub == payload["sub"] and caller.role == payload["role"]
