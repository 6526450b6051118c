"""What is hidden stays hidden: an institution never learns which family called the 12345
hotline about it (no order, no caller), nor the parent account behind any complaint: in
the case, its list, its timeline and its notices, people are roles to it."""

from __future__ import annotations

import json
from typing import Any

from chalicelib import bootstrap
from tests.e2e.test_complaints import CULTURE_COUNTY, case, file, inbox, institution, regulator
from tests.support import flows
from tests.support.harness import Platform

ROLES = {"parent", "institution", "department", "platform", "nobody"}


def hotline_call(p: Platform, institution_id: str, order_id: str) -> str:
    operator = regulator(p, {"sub": "hotline-gz", "region": "440100",
                             "department": "education"})
    taken = p.post("/v1/regulator/complaints", operator, {
        "institution_id": institution_id, "category": "fees", "text": "来电反映机构收取资料费",
        "caller_name": "王小红", "caller_phone": "13812345678", "order_id": order_id})
    assert taken.status == 201, taken.body
    return str(taken.body["complaint_id"])


def as_text(*bodies: Any) -> str:
    return json.dumps(bodies, ensure_ascii=False)


def test_a_hotline_call_never_tells_the_institution_which_family_called(
    platform: Platform,
) -> None:
    p = platform
    shop = flows.open_shop(p)
    fam = flows.family(p)
    order = flows.buy_and_pay(p, shop, fam, lessons=2)
    complaint_id = hotline_call(p, shop.institution_id, order["order_id"])
    p.drain_complaints()

    seen = case(p, shop.staff, complaint_id)
    assert (seen["order_id"], seen["caller_name"], seen["caller_phone"]) == ("", "", "")
    listed = p.get("/v1/complaints", shop.staff).body["items"]
    assert [(c["order_id"], c["caller_name"], c["caller_phone"]) for c in listed] == [
        ("", "", "")]
    notices = [n for n in inbox(p, shop.staff)["items"] if n["subject_id"] == complaint_id]
    stored = bootstrap.context().store.order(order["order_id"])
    assert stored is not None
    family = (order["order_id"], fam.student_id, stored.parent_sub, "王", "5678", "hotline-gz")
    shown = as_text(seen, listed, notices)
    assert [secret for secret in family if secret in shown] == []

    holder = case(p, regulator(p, CULTURE_COUNTY), complaint_id)  # the department calls back
    assert (holder["order_id"], holder["caller_name"], holder["caller_phone"]) == (
        order["order_id"], "王小红", "13812345678")


def test_an_institution_sees_the_parent_and_the_department_as_roles(
    platform: Platform,
) -> None:
    p = platform
    institution_id, staff = institution(p)
    parent = p.token("parent-behind-it", "parent")
    complaint_id = file(p, parent, institution_id)["complaint_id"]
    p.drain_complaints()
    assert p.post(f"/v1/complaints/{complaint_id}/answer", staff,
                  {"text": "已更换授课老师"}).status == 200
    waiting = case(p, staff, complaint_id)
    assert waiting["holder"] == "parent"
    assert p.post(f"/v1/complaints/{complaint_id}/reject", parent,
                  {"reason": "答复敷衍"}).status == 200
    county = regulator(p, CULTURE_COUNTY)
    assert p.post(f"/v1/regulator/complaints/{complaint_id}/notes", county,
                  {"text": "已约谈机构"}).status == 200

    seen = case(p, staff, complaint_id)
    assert seen["holder"] == "department"
    assert {s["actor"] for s in seen["timeline"]} == {"parent", "platform", "institution",
                                                      "department"}
    assert {s["holder"] for s in seen["timeline"]} <= ROLES
    listed = p.get("/v1/complaints", staff).body["items"]
    assert [c["holder"] for c in listed] == ["department"]
    notices = [n for n in inbox(p, staff)["items"] if n["subject_id"] == complaint_id]
    shown = as_text(waiting, seen, listed, notices)
    assert "parent-behind-it" not in shown and "reg-th-culture" not in shown

    own = case(p, parent, complaint_id)  # the parent and the department see who acted
    assert own["timeline"][0]["actor"] == "parent:parent-behind-it"
    held = case(p, county, complaint_id)
    assert held["timeline"][-1]["actor"] == "regulator:reg-th-culture"
