"""The Idempotency-Key fingerprint, without I/O."""

from __future__ import annotations

from typing import Any

from chalicelib.api import idempotency
from chalicelib.domain.catalog import Department
from chalicelib.service.caller import Caller, Role

REGULATOR = Caller("reg-1", Role.REGULATOR, region="440000", department=Department.EDUCATION)
CONFIRM = "/v1/consumptions/con_01JA0000000000000000000000/confirm"
BODY = {"reason": "没上课", "photos": ["a", "b"]}


def test_the_fingerprint_changes_with_every_part_of_the_request() -> None:
    def of(**changes: Any) -> str:
        parts: dict[str, Any] = {"method": "POST", "path": CONFIRM, "caller": REGULATOR,
                                 "body": BODY, "query": None, **changes}
        return idempotency.fingerprint(**parts)

    variants = {
        "method": of(method="PUT"),
        "concrete path": of(path=CONFIRM.replace("0000/", "0001/")),
        "sub": of(caller=Caller("reg-2", Role.REGULATOR, region="440000",
                                department=Department.EDUCATION)),
        "role": of(caller=Caller("reg-1", Role.PARENT, region="440000",
                                 department=Department.EDUCATION)),
        "institution": of(caller=Caller("reg-1", Role.REGULATOR, "ins_x", "440000",
                                        Department.EDUCATION)),
        "region": of(caller=Caller("reg-1", Role.REGULATOR, region="440100",
                                   department=Department.EDUCATION)),
        "department": of(caller=Caller("reg-1", Role.REGULATOR, region="440000",
                                       department=Department.SPORTS)),
        "body": of(body={**BODY, "reason": "没上完"}),
        "no body": of(body=None),
        "query": of(query={"status": "pending"}),
    }
    assert len(set(variants.values()) | {of()}) == len(variants) + 1, variants


def test_the_fingerprint_ignores_the_order_of_keys_in_the_body() -> None:
    reordered = dict(reversed(list(BODY.items())))
    assert idempotency.fingerprint("POST", CONFIRM, REGULATOR, BODY) == idempotency.fingerprint(
        "POST", CONFIRM, REGULATOR, reordered)
