"""Onboarding: who may join the whitelist and who decides. An applicant with a mistyped
credit code, no staff checked, or a new bank account it would like sales paid into; a
department that is not the competent one; a county next door."""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from typing import Any

import pytest

from chalicelib import bootstrap
from chalicelib.domain.errors import StateConflict
from chalicelib.domain.institutions.catalog import InstitutionStatus
from chalicelib.service.institutions import institution_reviews, institutions
from tests.support import flows
from tests.support.harness import Platform
from tests.support.snapshot import assert_refused

GUANGZHOU_CULTURE = {"region": "440106", "department": "culture"}


def _applied(p: Platform, **overrides: Any) -> tuple[str, dict[str, str]]:
    """A pending application and the token of its staff."""
    applicant = p.token(f"applicant-{overrides.get('region_code', 'x')}-{id(overrides)}",
                        "institution")
    applied = p.post("/v1/institutions", applicant, flows.application(**overrides))
    assert applied.status == 201, applied.body
    institution_id = applied.body["institution_id"]
    staff = p.token(f"staff-of-{institution_id}", "institution", institution_id=institution_id)
    return institution_id, staff


def _decide(p: Platform, who: dict[str, str], institution_id: str, action: str,
            body: dict[str, Any] | None = None) -> Any:
    return p.post(f"/v1/regulator/institutions/{institution_id}/{action}", who, body or {})


def test_a_credit_code_with_a_wrong_check_character_is_refused(platform: Platform) -> None:
    applicant = platform.token("applicant-typo", "institution")
    good = flows.application()
    typo = {**good, "uscc": good["uscc"][:17] + ("0" if good["uscc"][17] != "0" else "1")}
    refused = assert_refused(platform, partial(platform.post, "/v1/institutions", applicant,
                                               typo), 422, "uscc_check_failed")
    assert "校验位" in refused.body["error"]["message"]
    assert platform.post("/v1/institutions", applicant, good).status == 201


def test_an_application_names_a_real_county_of_this_province(platform: Platform) -> None:
    applicant = platform.token("applicant-region", "institution")
    for region, code in (("110105", "region_outside_province"), ("440199", "county_unknown"),
                         ("440100", "region_unknown")):
        assert_refused(platform, partial(platform.post, "/v1/institutions", applicant,
                                         flows.application(region)), 422, code)


def test_whitelisting_waits_for_a_staff_member_whose_background_check_passed(
    platform: Platform,
) -> None:
    p = platform
    institution_id, staff = _applied(p)
    refused = assert_refused(p, partial(_decide, p, flows.competent(p), institution_id,
                                        "approve"), 422, "whitelist_criteria_unmet")
    assert refused.body["error"]["details"] == {"unmet": ["staff_checked"]}
    flows.checked_teacher(p, staff, flows.competent(p))
    approved = _decide(p, flows.competent(p), institution_id, "approve")
    assert approved.status == 200 and approved.body["status"] == "whitelisted", approved.body


def test_a_failed_or_lapsed_check_does_not_count_and_the_institution_cannot_record_one(
    platform: Platform,
) -> None:
    p = platform
    institution_id, staff = _applied(p)
    id_number = flows.resident_id(7)
    registered = p.post("/v1/staff", staff, {"name": "王老师", "role": "teacher",
                                              "id_number": id_number})
    staff_id = registered.body["staff_id"]
    assert registered.body["id_number_masked"] == f"440106********{id_number[-4:]}"
    assert id_number not in str(p.get(f"/v1/institutions/{institution_id}/staff", staff).body)
    check = f"/v1/regulator/staff/{staff_id}/background-check"
    assert_refused(p, partial(p.post, check, flows.competent(p),  # no consent signed yet
                              {"result": "passed", "checked_on": "2026-03-02"}), 409,
                   "consent_missing")
    assert p.post(f"/v1/staff/{staff_id}/consent", staff, {"signed_on": "2025-01-10"}).status \
        == 200
    assert_refused(p, partial(p.post, check, staff, {"result": "passed",
                                                     "checked_on": "2026-03-02"}),
                   403, "role_not_allowed")
    failed = p.post(check, flows.competent(p), {"result": "failed", "checked_on": "2026-03-01"})
    assert failed.body["check_result"] == "failed", failed.body
    assert _decide(p, flows.competent(p), institution_id, "approve").status == 422
    lapsed = p.post(check, flows.competent(p), {"result": "passed", "checked_on": "2025-03-01"})
    assert lapsed.body["check_due_on"] == "2026-03-01", lapsed.body  # a year on: lapsed
    assert _decide(p, flows.competent(p), institution_id, "approve").status == 422
    current = p.post(check, flows.competent(p), {"result": "passed", "checked_on": "2026-03-02"})
    assert current.body["check_due_on"] == "2027-03-02", current.body
    assert _decide(p, flows.competent(p), institution_id, "approve").status == 200


def test_only_the_competent_department_of_the_jurisdiction_decides(platform: Platform) -> None:
    p = platform
    institution_id, staff = _applied(p)  # arts, offline, 440106: culture decides
    flows.checked_teacher(p, staff, flows.competent(p))
    education = flows.regulator(p, sub="reg-edu-county", region="440106")
    refused = assert_refused(p, partial(_decide, p, education, institution_id, "approve"),
                             403, "not_competent_department")
    assert refused.body["error"]["details"] == {"competent_department": "culture"}
    assert p.get(f"/v1/institutions/{institution_id}", education).status == 200  # it sees
    sports = flows.regulator(p, sub="reg-sports", region="440106", department="sports")
    neighbour = flows.regulator(p, sub="reg-culture-yuexiu", region="440104",
                                department="culture")
    for outsider in (sports, neighbour):  # they cannot see it: it does not exist for them
        assert_refused(p, partial(_decide, p, outsider, institution_id, "approve"), 404,
                       "institution_not_found")
    county = flows.regulator(p, sub="reg-culture-tianhe", **GUANGZHOU_CULTURE)
    assert _decide(p, county, institution_id, "approve").status == 200


def test_a_sports_regulator_cannot_act_on_a_subject_institution(platform: Platform) -> None:
    p = platform
    institution_id, staff = _applied(p, training_type="subject", discipline="academic")
    flows.checked_teacher(p, staff, flows.regulator(p))
    sports = flows.regulator(p, sub="reg-gd-sports", department="sports")
    for action, body in (("approve", {}), ("reject", {}), ("blacklist", {"reason": "违规"})):
        assert_refused(p, partial(_decide, p, sports, institution_id, action, body), 404,
                       "institution_not_found")
    assert _decide(p, flows.regulator(p), institution_id, "approve").status == 200


def test_asking_for_changes_sends_it_back_until_the_institution_edits_its_profile(
    platform: Platform,
) -> None:
    p = platform
    institution_id, staff = _applied(p)
    flows.checked_teacher(p, staff, flows.competent(p))
    asked = _decide(p, flows.competent(p), institution_id, "request-changes",
                    {"reason": "办学许可证号与证书不符"})
    assert asked.body["status"] == "changes_requested", asked.body
    assert _decide(p, flows.competent(p), institution_id, "approve").status == 409
    edited = p.post(f"/v1/institutions/{institution_id}/profile", staff,
                    {"permit_number": "教民1440106700999号"})
    assert (edited.body["status"], edited.body["permit_number"]) == (
        "pending_review", "教民1440106700999号"), edited.body
    assert _decide(p, flows.competent(p), institution_id, "approve").status == 200
    history = p.get(f"/v1/institutions/{institution_id}/history", staff).body["items"]
    assert [(h["from_status"], h["to_status"]) for h in history] == [
        ("pending_review", "changes_requested"), ("changes_requested", "pending_review"),
        ("pending_review", "whitelisted")]
    assert history[0]["reason"] == "办学许可证号与证书不符"
    outsider = p.token("staff-elsewhere", "institution", institution_id="ins_" + "1" * 26)
    assert p.get(f"/v1/institutions/{institution_id}/history", outsider).status == 404


def test_a_new_custodian_account_takes_a_shop_off_the_whitelist_until_reviewed(
    platform: Platform,
) -> None:
    p = platform
    shop = flows.open_shop(p)
    fam = flows.family(p)
    paid = flows.buy_and_pay(p, shop, fam, lessons=2)
    moved = p.post(f"/v1/institutions/{shop.institution_id}/profile", shop.staff, {
        "custodian": {"bank": "示例银行广州分行", "supervised_account": shop.supervised_account,
                      "general_account": "GEN-NEW-0001"}})
    assert moved.body["status"] == "pending_review", moved.body
    assert_refused(p, partial(p.post, "/v1/orders", fam.parent, {
        "course_id": shop.course_id, "student_id": fam.student_id, "lessons": 1}), 404,
        "institution_not_found")
    flows.record_lesson(p, shop, [paid["order_id"]])  # what was bought is still taught
    assert _decide(p, flows.competent(p), shop.institution_id, "approve").status == 200
    flows.buy(p, shop, fam, lessons=1)
    assert flows.order_of(p, fam.parent, paid["order_id"])["lessons_remaining"] == 1
    p.check()


def test_a_new_permit_number_takes_a_shop_off_the_whitelist_until_reviewed(
    platform: Platform,
) -> None:
    """The school-running permit is the licence: a number no department reviewed could be
    another institution's, or none at all."""
    p = platform
    shop = flows.open_shop(p)
    fam = flows.family(p)
    edited = p.post(f"/v1/institutions/{shop.institution_id}/profile", shop.staff,
                    {"permit_number": "教民1440106799999号"})
    assert (edited.body["status"], edited.body["permit_number"]) == (
        "pending_review", "教民1440106799999号"), edited.body
    assert_refused(p, partial(p.post, "/v1/orders", fam.parent, {
        "course_id": shop.course_id, "student_id": fam.student_id, "lessons": 1}), 404,
        "institution_not_found")
    history = p.get(f"/v1/institutions/{shop.institution_id}/history", shop.staff).body
    assert history["items"][-1]["reason"] == "变更办学许可证号，须重新审核"
    assert _decide(p, flows.competent(p), shop.institution_id, "approve").status == 200
    flows.buy(p, shop, fam, lessons=1)


def test_a_blacklisted_institution_never_sells_again(platform: Platform) -> None:
    p = platform
    shop = flows.open_shop(p)
    fam = flows.family(p)
    listed = _decide(p, flows.competent(p), shop.institution_id, "blacklist",
                     {"reason": "无证办学被查处"})
    assert listed.body["status"] == "blacklisted", listed.body
    assert _decide(p, flows.competent(p), shop.institution_id, "blacklist",
                   {"reason": "again"}).status == 200  # a retry finds it done
    assert_refused(p, partial(p.post, "/v1/orders", fam.parent, {
        "course_id": shop.course_id, "student_id": fam.student_id, "lessons": 1}), 404,
        "institution_not_found")
    assert_refused(p, partial(p.post, f"/v1/institutions/{shop.institution_id}/profile",
                              shop.staff, {"name": "改名再来"}), 409, "institution_not_editable")
    listing = p.get("/v1/institutions?status=blacklisted&region=440106", flows.competent(p))
    assert [i["institution_id"] for i in listing.body["items"]] == [shop.institution_id]


def test_one_credit_code_one_institution_and_a_blacklisted_one_never_applies_again(
        platform: Platform) -> None:
    p = platform
    body = flows.application()
    first, taken, again = (p.token(f"applicant-code-{n}", "institution") for n in range(3))
    applied = p.post("/v1/institutions", first, body, key="code-application-1")
    assert applied.status == 201, applied.body
    retried = p.post("/v1/institutions", first, body, key="code-application-1")
    assert retried.body["institution_id"] == applied.body["institution_id"]
    assert_refused(p, partial(p.post, "/v1/institutions", taken, body), 409,
                   "uscc_already_registered")
    assert _decide(p, flows.competent(p), applied.body["institution_id"], "reject",
                   {"reason": "材料不全"}).status == 200
    second = p.post("/v1/institutions", taken, body)  # a rejected applicant tries again
    assert second.status == 201, second.body
    assert _decide(p, flows.competent(p), second.body["institution_id"], "blacklist",
                   {"reason": "虚假材料"}).status == 200
    assert_refused(p, partial(p.post, "/v1/institutions", again, body), 422, "uscc_blacklisted")


def test_an_institution_once_whitelisted_keeps_its_credit_code_even_rejected(
        platform: Platform) -> None:
    p = platform
    applied, staff, _ = flows.whitelisted(p)
    renamed = p.post(f"/v1/institutions/{applied['institution_id']}/profile", staff,
                     {"name": "改名后的学校"})
    assert renamed.body["status"] == "pending_review", renamed.body
    assert _decide(p, flows.competent(p), applied["institution_id"], "reject",
                   {"reason": "名称不符"}).status == 200
    newcomer = p.token("applicant-after-rejection", "institution")
    body = flows.application(uscc=applied["uscc"])
    assert_refused(p, partial(p.post, "/v1/institutions", newcomer, body), 409,
                   "uscc_already_registered")


def test_a_credit_code_taken_from_a_rejected_application_blacklisted_meanwhile_is_refused(
        platform: Platform, monkeypatch: pytest.MonkeyPatch) -> None:
    p = platform
    body = flows.application()
    first = p.post("/v1/institutions", p.token("applicant-first", "institution"), body)
    rejected = first.body["institution_id"]
    assert _decide(p, flows.competent(p), rejected, "reject", {"reason": "材料不全"}).status == 200
    read_holder = institutions._credit_code_holder

    def blacklisted_after_the_read(*args: Any) -> str | None:
        holder = read_holder(*args)
        if holder == rejected:  # the department blacklists it between the read and the write
            banned = _decide(p, flows.competent(p), rejected, "blacklist", {"reason": "造假"})
            assert banned.status == 200, banned.body
        return holder

    monkeypatch.setattr(institutions, "_credit_code_holder", blacklisted_after_the_read)
    late = p.post("/v1/institutions", p.token("applicant-late", "institution"), body)
    assert (late.status, late.code) == (422, "uscc_blacklisted"), late.body


def _teacher(p: Platform, shop: flows.Shop, *, result: str, checked_on: str) -> str:
    registered = p.post("/v1/staff", shop.staff, {"name": "赵老师", "role": "teacher",
                                                   "id_number": flows.resident_id(11)})
    staff_id = str(registered.body["staff_id"])
    assert p.post(f"/v1/staff/{staff_id}/consent", shop.staff,
                  {"signed_on": "2025-03-01"}).status == 200
    checked = p.post(f"/v1/regulator/staff/{staff_id}/background-check", flows.competent(p),
                     {"result": result, "checked_on": checked_on})
    assert checked.status == 200, checked.body
    return staff_id


def test_a_lesson_needs_a_teacher_whose_check_passed_and_is_current_on_its_day(
    platform: Platform,
) -> None:
    p = platform
    shop = flows.open_shop(p)
    fam = flows.family(p)
    order = flows.buy_and_pay(p, shop, fam, lessons=3)["order_id"]
    failed = _teacher(p, shop, result="failed", checked_on="2026-03-01")
    expiring = _teacher(p, shop, result="passed", checked_on="2025-03-05")  # due 2026-03-05
    body = flows.teach(p, shop, [order])
    for teacher, code in ((failed, "teacher_check_not_passed"),
                          ("stf_" + "0" * 26, "teacher_not_of_institution")):
        assert_refused(p, partial(p.post, "/v1/lessons", shop.staff,
                                  {**body, "teacher_id": teacher}), 422, code)
    assert p.post("/v1/lessons", shop.staff, {**body, "teacher_id": expiring}).status == 201
    p.clock.set(p.clock.now() + timedelta(days=4))  # 2026-03-06: the check has lapsed
    later = flows.teach(p, shop, [order])
    refused = assert_refused(p, partial(p.post, "/v1/lessons", shop.staff,
                                        {**later, "teacher_id": expiring}), 422,
                             "teacher_check_lapsed")
    assert refused.body["error"]["details"]["check_due_on"] == "2026-03-05"
    assert p.post("/v1/lessons", shop.staff, later).status == 201  # the shop's own teacher
    p.check()


def test_a_review_queue_is_the_departments_by_jurisdiction_and_pages(platform: Platform) -> None:
    p = platform
    offline = [_applied(p)[0] for _ in range(3)]  # Tianhe, arts: the county's culture queue
    online, _ = _applied(p, mode="online")  # online: the province's
    county = flows.regulator(p, sub="reg-th-culture", **GUANGZHOU_CULTURE)
    province = flows.competent(p)
    seen, cursor = [], None
    while True:
        page = p.get("/v1/institutions?status=pending_review&limit=2"
                     + (f"&cursor={cursor}" if cursor else ""), county).body
        assert len(page["items"]) <= 2
        seen += [i["institution_id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(offline)  # not the online one: the province supervises it
    queued = p.get("/v1/institutions?status=pending_review", province).body["items"]
    assert {i["institution_id"] for i in queued} == {*offline, online}
    sports = flows.regulator(p, sub="reg-gd-sports", department="sports")
    assert p.get("/v1/institutions?status=pending_review", sports).body["items"] == []


def test_an_edit_right_after_a_freeze_does_not_stop_the_freeze_reaching_the_orders(
    platform: Platform,
) -> None:
    p = platform
    shop = flows.open_shop(p)
    fam = flows.family(p)
    order = flows.buy_and_pay(p, shop, fam, lessons=2)["order_id"]
    frozen = p.post(f"/v1/regulator/institutions/{shop.institution_id}/freeze",
                    flows.competent(p), {"reason": "资金风险"})
    assert frozen.status == 200, frozen.body
    assert p.post(f"/v1/institutions/{shop.institution_id}/profile", shop.staff,
                  {"name": "改个名字"}).status == 200
    p.drain_sweeps()
    p.advance(minutes=10)
    p.run_schedule("settlement_sweeper")
    assert flows.order_of(p, fam.parent, order)["frozen"] is True
    assert_refused(p, partial(p.post, "/v1/lessons", shop.staff, flows.teach(p, shop, [order])),
                   409, "institution_frozen")


def test_an_institution_off_the_whitelist_is_still_frozen_and_liquidated(
    platform: Platform,
) -> None:
    """A new custodian account (back to review) or the blacklist is no escape from a freeze
    or a liquidation: it may hold parents' money."""
    p = platform
    shop = flows.open_shop(p)
    flows.buy_and_pay(p, shop, flows.family(p), lessons=2)
    moved = p.post(f"/v1/institutions/{shop.institution_id}/profile", shop.staff, {
        "custodian": {"bank": "示例银行广州分行", "supervised_account": shop.supervised_account,
                      "general_account": "GEN-NEW-0002"}})
    assert moved.body["status"] == "pending_review"
    base = f"/v1/regulator/institutions/{shop.institution_id}"
    assert p.post(f"{base}/freeze", flows.competent(p), {"reason": "核查"}).status == 200
    assert _decide(p, flows.competent(p), shop.institution_id, "blacklist",
                   {"reason": "违规"}).status == 200
    assert p.post(f"{base}/liquidate", flows.competent(p), {"reason": "停业"}).status == 200


def test_a_decision_never_reverts_an_edit_made_while_it_was_being_taken(
    platform: Platform,
) -> None:
    p = platform
    institution_id, staff = _applied(p)
    flows.checked_teacher(p, staff, flows.competent(p))
    ctx = bootstrap.context()
    stale = ctx.store.institution(institution_id)
    assert stale is not None
    assert p.post(f"/v1/institutions/{institution_id}/profile", staff,
                  {"name": "新名字"}).status == 200
    with pytest.raises(StateConflict) as refused:
        institution_reviews.move(ctx, stale, InstitutionStatus.WHITELISTED, actor="reg",
                                 reason="", allowed_from={InstitutionStatus.PENDING_REVIEW})
    assert refused.value.code == "institution_changed"
    assert p.get(f"/v1/institutions/{institution_id}", staff).body["name"] == "新名字"


def test_a_licence_names_a_discipline_of_its_type(platform: Platform) -> None:
    applicant = platform.token("applicant-loophole", "institution")
    for training_type, discipline in (("non_subject", "academic"), ("subject", "arts")):
        body = flows.application(training_type=training_type, discipline=discipline)
        assert_refused(platform, partial(platform.post, "/v1/institutions", applicant, body),
                       422, "discipline_not_of_type")


def test_only_a_teacher_teaches(platform: Platform) -> None:
    p = platform
    shop = flows.open_shop(p)
    order = flows.buy_and_pay(p, shop, flows.family(p), lessons=2)["order_id"]
    manager = p.post("/v1/staff", shop.staff, {"name": "王经理", "role": "manager",
                                                "id_number": flows.resident_id(21)})
    manager_id = manager.body["staff_id"]
    p.post(f"/v1/staff/{manager_id}/consent", shop.staff, {"signed_on": "2026-03-02"})
    checked = p.post(f"/v1/regulator/staff/{manager_id}/background-check", flows.competent(p),
                     {"result": "passed", "checked_on": "2026-03-02"})
    assert checked.status == 200, checked.body
    body = {**flows.teach(p, shop, [order]), "teacher_id": manager_id}
    assert_refused(p, partial(p.post, "/v1/lessons", shop.staff, body), 422, "not_a_teacher")
