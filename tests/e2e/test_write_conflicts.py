"""A caller's write that meets a transaction conflict, or finds its item rewritten by someone
else's unrelated write between its read and its write, reads the item again and decides
again (chalicelib/service/retry.py): a legitimate single caller is never answered 409 for
contention alone (issue 22, point 7). A decision someone else took meanwhile is still
refused, with the code that names it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from chalicelib.adapters.dynamo.transaction import Transaction
from chalicelib.service.ports import WriteRejected
from tests.support import flows
from tests.support.harness import Platform, Reply
from tests.support.repeats import ok, today


def meets_a_conflict(monkeypatch: pytest.MonkeyPatch, label: str,
                     meanwhile: Callable[[], Any] | None = None) -> list[bool]:
    """The first transaction writing `label` is cancelled by the engine for contention, or,
    with `meanwhile`, finds `meanwhile`'s write landed on its item just before it. The list
    says whether it was met."""
    commit = Transaction.commit
    met: list[bool] = []

    def commit_once_contended(self: Transaction) -> None:
        if label in self._labels and not met:
            met.append(True)
            if meanwhile is None:
                raise WriteRejected(frozenset(), contended=True)
            meanwhile()
        commit(self)

    monkeypatch.setattr(Transaction, "commit", commit_once_contended)
    return met


def applied(p: Platform) -> tuple[str, dict[str, str]]:
    """A pending application that meets the whitelist's criteria, and its staff's token."""
    applicant = p.token(f"applicant-{flows.uscc()}", "institution")
    institution_id = ok(p.post("/v1/institutions", applicant, flows.application()),
                        201)["institution_id"]
    staff = p.token(f"staff-of-{institution_id}", "institution", institution_id=institution_id)
    flows.checked_teacher(p, staff, flows.competent(p))
    return institution_id, staff


def decide(p: Platform, who: dict[str, str], institution_id: str, action: str,
           body: dict[str, Any] | None = None) -> Reply:
    return p.post(f"/v1/regulator/institutions/{institution_id}/{action}", who, body or {})


@pytest.mark.parametrize(("action", "status"), [("approve", "whitelisted"),
                                                ("reject", "rejected"),
                                                ("request-changes", "changes_requested")])
def test_a_decision_on_an_institution_meeting_a_transaction_conflict_is_taken(
    platform: Platform, monkeypatch: pytest.MonkeyPatch, action: str, status: str,
) -> None:
    p = platform
    institution_id, _staff = applied(p)
    met = meets_a_conflict(monkeypatch, "institution")
    decided = decide(p, flows.competent(p), institution_id, action, {"reason": "材料齐全"})
    assert (decided.status, met) == (200, [True]), decided.body
    assert decided.body["status"] == status
    history = ok(p.get(f"/v1/institutions/{institution_id}/history", flows.competent(p)))
    assert [h["to_status"] for h in history["items"]] == [status]
    p.check()


def test_an_approval_whose_institution_was_edited_between_its_read_and_its_write_is_taken(
    platform: Platform, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The institution corrects its address while its department approves it: the approval
    reads it again (still pending) and whitelists it, the new address kept."""
    p = platform
    institution_id, staff = applied(p)
    address = "广州市天河区体育东路9号"
    met = meets_a_conflict(monkeypatch, "institution", lambda: ok(p.post(
        f"/v1/institutions/{institution_id}/profile", staff, {"address": address})))
    decided = decide(p, flows.competent(p), institution_id, "approve")
    assert (decided.status, met) == (200, [True]), decided.body
    assert (decided.body["status"], decided.body["address"]) == ("whitelisted", address)
    p.check()


def test_an_approval_overtaken_by_another_regulators_rejection_is_refused_as_not_pending(
    platform: Platform, monkeypatch: pytest.MonkeyPatch,
) -> None:
    p = platform
    institution_id, _staff = applied(p)
    other = flows.regulator(p, **flows.CULTURE | {"sub": "reg-gd-culture-2"})
    meets_a_conflict(monkeypatch, "institution", lambda: ok(decide(
        p, other, institution_id, "reject", {"reason": "场地不符"})))
    refused = decide(p, flows.competent(p), institution_id, "approve")
    assert (refused.status, refused.code) == (409, "institution_not_pending"), refused.body
    assert ok(p.get(f"/v1/institutions/{institution_id}", other))["status"] == "rejected"


def test_a_profile_edit_meeting_a_transaction_conflict_is_written(
    platform: Platform, monkeypatch: pytest.MonkeyPatch,
) -> None:
    p = platform
    shop = flows.open_shop(p)
    met = meets_a_conflict(monkeypatch, "institution")
    edited = p.post(f"/v1/institutions/{shop.institution_id}/profile", shop.staff,
                    {"address": "广州市天河区体育东路9号"})
    assert (edited.status, met) == (200, [True]), edited.body
    assert edited.body["address"] == "广州市天河区体育东路9号"
    p.check()


def test_a_course_decision_meeting_a_transaction_conflict_is_taken(
    platform: Platform, monkeypatch: pytest.MonkeyPatch,
) -> None:
    p = platform
    shop = flows.open_shop(p)
    course_id = ok(p.post("/v1/courses", shop.staff, flows.course_body()), 201)["course_id"]
    met = meets_a_conflict(monkeypatch, "course")
    decided = p.post(f"/v1/regulator/courses/{course_id}/approve", flows.competent(p), {})
    assert (decided.status, met) == (200, [True]), decided.body
    assert decided.body["status"] == "approved"
    p.check()


def registered(p: Platform) -> tuple[flows.Shop, str]:
    shop = flows.open_shop(p)
    staff_id = ok(p.post("/v1/staff", shop.staff, {
        "name": "王老师", "role": "teacher", "id_number": flows.resident_id(9)}), 201)["staff_id"]
    return shop, staff_id


def test_a_staff_record_meeting_a_transaction_conflict_is_written(
    platform: Platform, monkeypatch: pytest.MonkeyPatch,
) -> None:
    p = platform
    shop, staff_id = registered(p)
    met = meets_a_conflict(monkeypatch, "staff")
    signed = p.post(f"/v1/staff/{staff_id}/consent", shop.staff, {"signed_on": today(p)})
    assert (signed.status, met) == (200, [True]), signed.body
    assert signed.body["consent_signed_on"] == today(p)


def test_a_background_check_recorded_while_the_institution_adds_a_certificate_keeps_both(
    platform: Platform, monkeypatch: pytest.MonkeyPatch,
) -> None:
    p = platform
    shop, staff_id = registered(p)
    ok(p.post(f"/v1/staff/{staff_id}/consent", shop.staff, {"signed_on": today(p)}))
    certificate = {"certificate_number": "20214401042000999"}
    met = meets_a_conflict(monkeypatch, "staff", lambda: ok(p.post(
        f"/v1/staff/{staff_id}/certificate", shop.staff, certificate)))
    checked = p.post(f"/v1/regulator/staff/{staff_id}/background-check", flows.competent(p),
                     {"result": "passed", "checked_on": today(p)})
    assert (checked.status, met) == (200, [True]), checked.body
    assert (checked.body["check_result"], checked.body["certificate_number"]) == (
        "passed", certificate["certificate_number"])


def test_a_creation_meeting_a_transaction_conflict_is_made(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by the retries work: the engine's cancellation of a creating write for
    contention alone answered 500."""
    met = meets_a_conflict(monkeypatch, "student")
    parent = platform.token("parent-of-a-conflict", "parent")
    made = platform.post("/v1/students", parent, {"name": "小明", "grade": "三年级"})
    assert (made.status, met) == (201, [True]), made.body
    listed = platform.get("/v1/students", parent)
    assert [s["student_id"] for s in listed.body["items"]] == [made.body["student_id"]]
