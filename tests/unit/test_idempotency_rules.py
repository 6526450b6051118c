"""The Idempotency-Key fingerprint and the in-progress lease, without I/O."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from chalicelib.api import idempotency
from chalicelib.domain.institutions.catalog import Department
from chalicelib.service.caller import Caller, Role

CHALICE_CONFIG = Path(__file__).parents[2] / ".chalice" / "config.json"

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


def test_the_in_progress_lease_outlasts_every_function_timeout() -> None:
    config = json.loads(CHALICE_CONFIG.read_text(encoding="utf-8"))
    scopes = [config, *config.get("stages", {}).values()]
    scopes += [f for scope in list(scopes) for f in scope.get("lambda_functions", {}).values()]
    longest = max(scope.get("lambda_timeout", 0) for scope in scopes)
    assert longest > 0
    assert idempotency.IN_PROGRESS_LEASE.total_seconds() > longest
