"""Signing and verification of custodian-bank notifications."""

from __future__ import annotations

import hashlib
import hmac
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.escrow.bank_signature import InvalidSignature, sign, verify

SECRET = "whsec_test_secret"
T = 1_700_000_000
BODY = b'{"event_id":"evt_1","type":"payment_received","amount_fen":12345}'


def reason_of(header: str | None, body: bytes = BODY, now: int = T, secret: str = SECRET) -> str:
    with pytest.raises(InvalidSignature) as caught:
        verify(secret, header, body, now)
    return caught.value.reason


def test_sign_returns_the_header_value_with_timestamp_and_hmac_over_timestamp_dot_body() -> None:
    expected = hmac.new(SECRET.encode(), f"{T}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, T, BODY) == f"t={T},v1={expected}"


def test_a_freshly_signed_body_verifies() -> None:
    verify(SECRET, sign(SECRET, T, BODY), BODY, now=T)


def test_a_signature_exactly_at_the_tolerance_edge_still_verifies_in_both_directions() -> None:
    header = sign(SECRET, T, BODY)
    verify(SECRET, header, BODY, now=T + 300)
    verify(SECRET, header, BODY, now=T - 300)


def test_a_tampered_body_is_a_mismatch() -> None:
    header = sign(SECRET, T, BODY)
    assert reason_of(header, body=BODY.replace(b"12345", b"12346")) == "mismatch"


def test_a_signature_made_with_another_secret_is_a_mismatch() -> None:
    assert reason_of(sign("another_secret", T, BODY)) == "mismatch"


def test_a_signature_moved_to_another_timestamp_is_a_mismatch() -> None:
    digest = sign(SECRET, T, BODY).split("v1=")[1]
    assert reason_of(f"t={T + 1},v1={digest}") == "mismatch"


def test_a_signature_older_than_the_tolerance_is_stale() -> None:
    assert reason_of(sign(SECRET, T, BODY), now=T + 301) == "stale"


def test_a_signature_from_further_in_the_future_than_the_tolerance_is_stale() -> None:
    assert reason_of(sign(SECRET, T + 301, BODY), now=T) == "stale"


def test_the_tolerance_can_be_narrowed() -> None:
    header = sign(SECRET, T, BODY)
    with pytest.raises(InvalidSignature) as caught:
        verify(SECRET, header, BODY, now=T + 11, tolerance_seconds=10)
    assert caught.value.reason == "stale"


@pytest.mark.parametrize("header", [None, "", "   "])
def test_an_absent_or_blank_header_is_missing(header: str | None) -> None:
    assert reason_of(header) == "missing"


@pytest.mark.parametrize(
    "header",
    [
        "garbage",
        f"t={T}",
        "v1=" + "a" * 64,
        f"t=abc,v1={'a' * 64}",
        f"t=-5,v1={'a' * 64}",
        f"t={T},v1=not-hex",
        f"t={T},v1={'a' * 63}",
        f"t={T},v1={'A' * 64}",
        f"t={T},t={T},v1={'a' * 64}",
        f"t={T};v1={'a' * 64}",
        f"t={T},v1={'a' * 64}," + "x=y," * 300,
    ],
)
def test_a_header_that_does_not_parse_is_malformed(header: str) -> None:
    assert reason_of(header) == "malformed"


def test_any_matching_v1_entry_is_accepted_so_secrets_can_rotate() -> None:
    good = sign(SECRET, T, BODY).split("v1=")[1]
    verify(SECRET, f"t={T},v1={'0' * 64},v1={good}", BODY, now=T)
    verify(SECRET, f"t={T},v1={good},v1={'0' * 64}", BODY, now=T)


def test_unknown_signature_schemes_are_ignored_but_do_not_count() -> None:
    good = sign(SECRET, T, BODY).split("v1=")[1]
    verify(SECRET, f"t={T},v0=legacy,v1={good}", BODY, now=T)
    assert reason_of(f"t={T},v0={good}") == "malformed"


def test_the_reason_is_also_the_exception_message() -> None:
    error = InvalidSignature("stale")
    assert error.reason == "stale"
    assert str(error) == "stale"


def test_an_empty_secret_is_a_configuration_error_not_a_bad_signature() -> None:
    with pytest.raises(ValueError):
        sign("", T, BODY)
    with pytest.raises(ValueError):
        verify("", sign(SECRET, T, BODY), BODY, now=T)


@given(body=st.binary(max_size=512), timestamp=st.integers(min_value=0, max_value=10**11))
def test_every_signed_body_verifies_and_the_header_has_the_documented_shape(
    body: bytes, timestamp: int
) -> None:
    header = sign(SECRET, timestamp, body)
    assert re.fullmatch(r"t=\d+,v1=[0-9a-f]{64}", header)
    verify(SECRET, header, body, now=timestamp)


@given(body=st.binary(min_size=1, max_size=256), data=st.data())
def test_flipping_any_byte_of_the_body_breaks_the_signature(
    body: bytes, data: st.DataObject
) -> None:
    index = data.draw(st.integers(min_value=0, max_value=len(body) - 1))
    tampered = body[:index] + bytes([body[index] ^ 0x01]) + body[index + 1 :]
    assert reason_of(sign(SECRET, T, body), body=tampered) == "mismatch"
