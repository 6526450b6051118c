"""Institutions reading the cases about them, over HTTP: a safety, fund-risk or
illegal-training report is not found until resolved; any other case, and the institution's
list of cases, shows people as roles (never a parent's or a regulator's account), and a
12345 hotline case names neither its caller nor an order (either would name the family)."""

from __future__ import annotations

import json
from typing import Any

from chalicelib import bootstrap
from chalicelib.domain.complaints.complaint import Complaint, Source
from tests.simulation.model import Violation
from tests.simulation.people import expect
from tests.simulation.world import World

ROLES = frozenset({"parent", "institution", "department", "platform", "nobody"})


def institution_reads(w: World, n: int) -> str:
    """The institution reads one case about it, then its list of cases."""
    case = w.pick(list(w.cases.values()), n)
    if case is None:
        return "no case for an institution to read"
    staff = next(i.staff for i in w.institutions if i.institution_id == case.institution_id)
    store = bootstrap.context().store
    stored = store.complaint(case.complaint_id)
    assert stored is not None, case.complaint_id
    reply = w.http("GET", f"/v1/complaints/{case.complaint_id}", staff)
    if stored.hidden_from_institution:
        expect(reply, {404}, {"complaint_not_found"})
    else:
        expect(reply, {200})
        _private(stored, reply.body)
    listed = expect(w.http("GET", "/v1/complaints?limit=100", staff), {200})
    for item in listed.body["items"]:
        found = store.complaint(item["complaint_id"])
        assert found is not None, item["complaint_id"]
        if found.hidden_from_institution:
            raise Violation(f"{found.complaint_id} listed to its institution while hidden")
        _private(found, item)
    return f"{case.institution_id} reads {case.complaint_id} ({stored.stage}): {reply.status}"


def _private(stored: Complaint, shown: dict[str, Any]) -> None:
    steps = shown.get("timeline") or []
    parties = {shown["holder"], *(s["actor"] for s in steps), *(s["holder"] for s in steps)}
    if not parties <= ROLES:
        raise Violation(f"{stored.complaint_id} shows its institution {parties - ROLES}")
    if stored.source is Source.HOTLINE and (shown["order_id"] or shown["caller_name"]
                                            or shown["caller_phone"]):
        raise Violation(f"hotline case {stored.complaint_id} names the family to the "
                        f"institution: {shown['order_id']!r} {shown['caller_name']!r}")
    if stored.parent_sub and stored.parent_sub in json.dumps(shown, ensure_ascii=False):
        raise Violation(f"{stored.complaint_id} shows its institution the parent's account")
