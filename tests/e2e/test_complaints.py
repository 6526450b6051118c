"""Complaints reach the competent department of the institution's jurisdiction, once, and on
time: routing for every training type and mode, the institution's answer and the parent's
verdict, clocks in working days across holidays, escalation up to the province, transfers,
hotline calls, and nobody outside a case reads or touches it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tests.support import flows
from tests.support.harness import Platform

SHANGHAI = ZoneInfo("Asia/Shanghai")
CULTURE_COUNTY = {"sub": "reg-th-culture", "region": "440106", "department": "culture"}
CULTURE_CITY = {"sub": "reg-gz-culture", "region": "440100", "department": "culture"}
CULTURE_PROVINCE = {"sub": "reg-gd-culture", "region": "440000", "department": "culture"}


def institution(p: Platform, *, training_type: str = "non_subject", discipline: str = "arts",
                mode: str = "offline", region: str = "440106") -> tuple[str, dict[str, str]]:
    """A whitelisted institution (approved by its competent department at the province, with
    a teacher it checked) and a token of its staff."""
    applicant = p.token(f"applicant-{region}-{discipline}-{mode}", "institution")
    body = flows.application(region, training_type=training_type, discipline=discipline,
                             mode=mode)
    applied = p.post("/v1/institutions", applicant, body)
    assert applied.status == 201, applied.body
    institution_id = applied.body["institution_id"]
    approver = flows.regulator(p, region=region[:2] + "0000",
                               department=COMPETENT.get(discipline, "education"))
    staff = p.token(f"staff-of-{institution_id}", "institution", institution_id=institution_id)
    flows.checked_teacher(p, staff, approver)
    approved = p.post(f"/v1/regulator/institutions/{institution_id}/approve", approver, {})
    assert approved.status == 200, approved.body
    return institution_id, staff


COMPETENT = {"sports": "sports", "arts": "culture", "science": "science"}
"""Non-subject training's competent department by discipline (the rest: education)."""


def file(p: Platform, parent: dict[str, str], institution_id: str,
         category: str = "teaching_quality", **extra: Any) -> dict[str, Any]:
    filed = p.post("/v1/complaints", parent, {
        "institution_id": institution_id, "category": category,
        "text": "老师多次无故缺课，课程质量与宣传严重不符", **extra})
    assert filed.status == 201, filed.body
    assert filed.body["stage"] == "filed"
    return dict(filed.body)


def case(p: Platform, who: dict[str, str], complaint_id: str) -> dict[str, Any]:
    got = p.get(f"/v1/complaints/{complaint_id}", who)
    assert got.status == 200, got.body
    return dict(got.body)


def inbox(p: Platform, who: dict[str, str]) -> dict[str, Any]:
    got = p.get("/v1/notifications?limit=100", who)
    assert got.status == 200, got.body
    return dict(got.body)


def events(p: Platform, who: dict[str, str], subject_id: str) -> list[str]:
    return sorted(n["event"] for n in inbox(p, who)["items"] if n["subject_id"] == subject_id)


def regulator(p: Platform, claims: dict[str, str]) -> dict[str, str]:
    return flows.regulator(p, **claims)


def at(p: Platform, moment: datetime) -> None:
    """Move the platform's clock forward to `moment`, then run the working-day schedules."""
    assert moment >= p.clock.now()
    p.advance(seconds=(moment - p.clock.now()).total_seconds())
    p.run_schedule("auto_confirm")


def run_out(p: Platform, who: dict[str, str], complaint_id: str) -> dict[str, Any]:
    """Let the case's clock run out (a minute past the end of its due day, the schedules
    run); the case as it is then."""
    due_on = case(p, who, complaint_id)["due_on"]
    at(p, day_start(f"{due_on}T00:00") + timedelta(days=1, minutes=1))
    return case(p, who, complaint_id)


def day_start(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=SHANGHAI)


ROUTES = [  # training type, discipline, mode, region -> department, jurisdiction
    ("subject", "academic", "offline", "440106", "education", "440106"),
    ("subject", "academic", "online", "440106", "education", "440000"),
    ("non_subject", "sports", "offline", "440305", "sports", "440305"),
    ("non_subject", "sports", "online", "440305", "sports", "440000"),
    ("non_subject", "arts", "offline", "440106", "culture", "440106"),
    ("non_subject", "arts", "online", "440106", "culture", "440000"),
    ("non_subject", "science", "offline", "440106", "science", "440106"),
    ("non_subject", "science", "online", "440304", "science", "440000"),
    ("non_subject", "other", "offline", "440106", "education", "440106"),
    ("non_subject", "other", "online", "440106", "education", "440000"),
]


def test_every_training_type_and_mode_is_routed_to_its_department_and_jurisdiction(
    platform: Platform,
) -> None:
    p = platform
    parent = p.token("parent-routing", "parent")
    filed = []
    for training_type, discipline, mode, region, department, jurisdiction in ROUTES:
        institution_id, _ = institution(p, training_type=training_type, discipline=discipline,
                                        mode=mode, region=region)
        filed.append((file(p, parent, institution_id)["complaint_id"], department,
                      jurisdiction))
    assert p.drain_complaints() == len(ROUTES)
    for complaint_id, department, jurisdiction in filed:
        routed = case(p, parent, complaint_id)
        assert (routed["stage"], routed["department"], routed["jurisdiction"],
                routed["region"]) == ("institution", department, jurisdiction, jurisdiction)
        assert [s["action"] for s in routed["timeline"]] == ["filed", "routed"]
        holder = regulator(p, {"sub": f"reg-{department}-{jurisdiction}",
                               "region": jurisdiction, "department": department})
        assert p.get(f"/v1/complaints/{complaint_id}", holder).status == 200


def test_the_institution_answers_the_parent_accepts_and_rates_once(platform: Platform) -> None:
    p = platform
    institution_id, staff = institution(p)
    parent = p.token("parent-accepts", "parent")
    complaint_id = file(p, parent, institution_id, attachments=["uploads/evidence-1.jpg"])[
        "complaint_id"]
    p.drain_complaints()
    routed = case(p, staff, complaint_id)
    assert (routed["stage"], routed["holder"], routed["due_on"]) == (
        "institution", "institution", "2026-03-05")  # 3 working days; people are roles to it
    assert events(p, staff, complaint_id) == ["complaint_stage_changed"]

    too_early = p.post(f"/v1/complaints/{complaint_id}/rating", parent, {"stars": 5})
    assert (too_early.status, too_early.code) == (409, "complaint_not_resolved")
    answered = p.post(f"/v1/complaints/{complaint_id}/answer", staff,
                      {"text": "已更换授课老师并补课两次"})
    assert (answered.status, answered.body["stage"]) == (200, "awaiting_parent"), answered.body
    again = p.post(f"/v1/complaints/{complaint_id}/answer", staff, {"text": "另一个答复"})
    assert (again.status, again.code) == (409, "complaint_not_awaiting_answer")

    accepted = p.post(f"/v1/complaints/{complaint_id}/accept", parent)
    assert (accepted.status, accepted.body["stage"]) == (200, "resolved"), accepted.body
    rated = p.post(f"/v1/complaints/{complaint_id}/rating", parent,
                   {"stars": 4, "comment": "处理及时"})
    assert (rated.status, rated.body["rating"]) == (200, 4), rated.body
    twice = p.post(f"/v1/complaints/{complaint_id}/rating", parent, {"stars": 1})
    assert (twice.status, twice.code) == (409, "complaint_already_rated")

    final = case(p, parent, complaint_id)
    assert [s["action"] for s in final["timeline"]] == [
        "filed", "routed", "answered", "accepted", "rated"]
    assert [s["actor"].split(":")[0] for s in final["timeline"]] == [
        "parent", "platform", "institution", "parent", "parent"]
    assert events(p, parent, complaint_id) == ["complaint_stage_changed"] * 3
    mine = p.get("/v1/complaints?stage=resolved", parent)
    assert [c["complaint_id"] for c in mine.body["items"]] == [complaint_id]
    theirs = p.get("/v1/complaints", staff)
    assert [c["complaint_id"] for c in theirs.body["items"]] == [complaint_id]


def test_clocks_count_working_days_across_the_labour_day_holiday_and_its_working_saturday(
    platform: Platform,
) -> None:
    p = platform
    p.advance(seconds=(day_start("2026-04-29T10:00") - p.clock.now()).total_seconds())
    institution_id, staff = institution(p)
    parent = p.token("parent-holiday", "parent")
    complaint_id = file(p, parent, institution_id)["complaint_id"]
    p.drain_complaints()
    # Apr 30, then May 1-5 off, May 6 and 7: due by the end of Thursday May 7.
    assert case(p, parent, complaint_id)["due_on"] == "2026-05-07"

    at(p, day_start("2026-05-07T08:00"))  # the due day began: the institution is reminded
    assert "case_due_soon" in events(p, staff, complaint_id)
    assert case(p, parent, complaint_id)["sla"] == "due_soon"
    at(p, day_start("2026-05-08T00:05"))  # unanswered: the department takes it
    moved = case(p, parent, complaint_id)
    # 13 working days from Friday May 8: Saturday May 9 is a working day (调休).
    assert (moved["stage"], moved["due_on"]) == ("department", "2026-05-26")
    assert moved["timeline"][-1]["action"] == "institution_overdue"

    other = p.post("/v1/complaints", parent, {"institution_id": institution_id,
                                                "category": "fees", "text": "乱收费"})
    p.drain_complaints()
    # Filed on Friday May 8: May 9 (a working Saturday), 11, 12.
    assert case(p, parent, other.body["complaint_id"])["due_on"] == "2026-05-12"


def test_an_overdue_case_escalates_county_city_province_and_stays_flagged(
    platform: Platform,
) -> None:
    p = platform
    institution_id, staff = institution(p)
    parent = p.token("parent-escalates", "parent")
    complaint_id = file(p, parent, institution_id, category="safety")["complaint_id"]
    p.drain_complaints()
    hidden = p.get(f"/v1/complaints/{complaint_id}", staff)  # not warned while looked into
    assert (hidden.status, p.get("/v1/complaints", staff).body["items"]) == (404, [])
    county, city, province = (regulator(p, c) for c in (CULTURE_COUNTY, CULTURE_CITY,
                                                          CULTURE_PROVINCE))
    first = case(p, county, complaint_id)
    assert (first["stage"], first["alert"], first["region"], first["due_on"]) == (
        "department", True, "440106", "2026-03-19")  # safety skips the institution
    assert events(p, county, complaint_id) == ["case_alert"]

    at(p, day_start("2026-03-20T00:01"))
    second = case(p, city, complaint_id)
    assert (second["region"], second["escalations"], second["flagged"], second["due_on"]) == (
        "440100", 1, True, "2026-04-09")  # Qingming: Monday April 6 is a holiday
    acted = p.post(f"/v1/regulator/complaints/{complaint_id}/notes", county, {"text": "跟进"})
    assert (acted.status, acted.code) == (403, "not_case_holder")  # the city holds it now
    assert "case_overdue" in events(p, city, complaint_id)

    at(p, day_start("2026-04-10T00:01"))
    third = case(p, province, complaint_id)
    assert (third["region"], third["escalations"]) == ("440000", 2)
    at(p, day_start(f"{third['due_on']}T00:00") + timedelta(days=1, minutes=1))
    top = case(p, province, complaint_id)
    assert (top["region"], top["escalations"], top["sla"], top["flagged"]) == (
        "440000", 2, "overdue", True)
    assert [s["action"] for s in top["timeline"]][-1] == "overdue_at_top"
    overdue = p.get("/v1/regulator/complaints?stage=department&sla=overdue", province)
    assert [c["complaint_id"] for c in overdue.body["items"]] == [complaint_id]
    at(p, p.clock.now() + timedelta(days=30))  # nothing above the province: left as it is
    assert len(case(p, province, complaint_id)["timeline"]) == len(top["timeline"])

    resolved = p.post(f"/v1/regulator/complaints/{complaint_id}/resolve", province,
                      {"outcome": "已责令机构整改并上门核查"})
    assert (resolved.status, resolved.body["stage"]) == (200, "resolved"), resolved.body
    late = p.post(f"/v1/regulator/complaints/{complaint_id}/notes", province, {"text": "补记"})
    assert (late.status, late.code) == (409, "complaint_resolved")
    assert case(p, staff, complaint_id)["outcome"] == "已责令机构整改并上门核查"  # now it may


def test_a_department_transfers_a_case_with_a_reason_and_the_new_holder_acts(
    platform: Platform,
) -> None:
    p = platform
    institution_id, staff = institution(p)
    parent = p.token("parent-transfer", "parent")
    complaint_id = file(p, parent, institution_id)["complaint_id"]
    p.drain_complaints()
    answered = p.post(f"/v1/complaints/{complaint_id}/answer", staff, {"text": "我们没有问题"})
    assert answered.status == 200
    rejected = p.post(f"/v1/complaints/{complaint_id}/reject", parent, {"reason": "答复敷衍"})
    assert (rejected.status, rejected.body["stage"]) == (200, "department"), rejected.body
    culture = regulator(p, CULTURE_COUNTY)
    moved = p.post(f"/v1/regulator/complaints/{complaint_id}/transfer", culture,
                   {"department": "education", "region_code": "440104",
                    "reason": "涉及学科类违规培训，移交越秀区教育局"})
    assert moved.status == 200, moved.body
    assert (moved.body["department"], moved.body["region"], moved.body["holder"]) == (
        "education", "440104", "regulator:education:440104")
    after = p.post(f"/v1/regulator/complaints/{complaint_id}/notes", culture, {"text": "再看看"})
    assert after.status == 404  # culture no longer sees it (education does)
    education = regulator(p, {"sub": "reg-yx-edu", "region": "440104",
                              "department": "education"})
    noted = p.post(f"/v1/regulator/complaints/{complaint_id}/notes", education,
                   {"text": "已约谈机构负责人"})
    assert noted.status == 200, noted.body
    steps = case(p, education, complaint_id)["timeline"]
    transfer = next(s for s in steps if s["action"] == "transferred")
    assert transfer["actor"] == "regulator:reg-th-culture"
    assert "移交越秀区教育局" in transfer["reason"]
    assert (transfer["holder"], steps[-1]["action"]) == ("regulator:education:440104", "note")
    assert events(p, education, complaint_id) == ["case_assigned"]
    same = p.post(f"/v1/regulator/complaints/{complaint_id}/transfer", education,
                  {"region_code": "440104", "reason": "原地移交"})
    assert (same.status, same.code) == (422, "transfer_to_same_holder")
    away = p.post(f"/v1/regulator/complaints/{complaint_id}/transfer", education,
                  {"region_code": "110105", "reason": "移交外省"})
    assert (away.status, away.code) == (422, "transfer_outside_province")


def test_routing_messages_delivered_twice_route_once_and_notify_once(platform: Platform) -> None:
    p = platform
    institution_id, staff = institution(p)
    parent = p.token("parent-twice", "parent")
    complaint_id = file(p, parent, institution_id)["complaint_id"]
    messages = p._receive(p.plane.complaint_queue_url, 10)
    assert len(messages) == 1
    assert p.invoke_worker(messages, "complaint") == set()
    assert p.invoke_worker(messages, "complaint") == set()  # redelivered
    p.run_worker(messages, "complaint")  # and once more
    p.run_schedule("settlement_sweeper")  # the routing sweep finds nothing to route
    routed = case(p, parent, complaint_id)
    assert [s["action"] for s in routed["timeline"]] == ["filed", "routed"]
    assert events(p, staff, complaint_id) == ["complaint_stage_changed"]
    assert events(p, parent, complaint_id) == ["complaint_stage_changed"]
    pushed = [n.notice_id for n in p.pushed.sent if n.subject_id == complaint_id]
    assert len(pushed) == len(set(pushed)) == 2


def test_a_lost_routing_message_is_routed_by_the_schedule(platform: Platform) -> None:
    p = platform
    institution_id, _ = institution(p)
    parent = p.token("parent-lost", "parent")
    complaint_id = file(p, parent, institution_id)["complaint_id"]
    for message in p._receive(p.plane.complaint_queue_url, 10):
        p.sqs.delete_message(QueueUrl=p.plane.complaint_queue_url,
                             ReceiptHandle=message["ReceiptHandle"])
    p.run_schedule("settlement_sweeper")
    assert case(p, parent, complaint_id)["stage"] == "institution"


def test_nobody_outside_a_case_reads_or_acts_on_it(platform: Platform) -> None:
    p = platform
    institution_id, _staff = institution(p)
    other_institution, other_staff = institution(p, region="440104")
    parent = p.token("parent-own", "parent")
    complaint_id = file(p, parent, institution_id)["complaint_id"]
    p.drain_complaints()
    before = case(p, parent, complaint_id)
    stranger = p.token("parent-stranger", "parent")
    neighbour = regulator(p, {"sub": "reg-yx-culture", "region": "440104",
                              "department": "culture"})
    sports = regulator(p, {"sub": "reg-th-sports", "region": "440106",
                           "department": "sports"})
    for who in (stranger, other_staff, neighbour, sports):
        assert p.get(f"/v1/complaints/{complaint_id}", who).status == 404
    attempts = [
        (stranger, "accept", None), (stranger, "reject", {"reason": "x"}),
        (stranger, "rating", {"stars": 1}), (other_staff, "answer", {"text": "x"}),
    ]
    for who, action, body in attempts:
        tried = p.post(f"/v1/complaints/{complaint_id}/{action}", who, body)
        assert (tried.status, tried.code) == (404, "complaint_not_found"), (action, tried.body)
    for who in (neighbour, sports):
        for action, body in (("notes", {"text": "x"}), ("resolve", {"outcome": "x"}),
                             ("transfer", {"region_code": "440104", "reason": "x"})):
            tried = p.post(f"/v1/regulator/complaints/{complaint_id}/{action}", who, body)
            assert tried.status == 404, (action, tried.body)
    listed = p.get("/v1/regulator/complaints?stage=institution", neighbour)
    assert listed.body["items"] == []
    assert case(p, parent, complaint_id) == before
    assert other_institution != institution_id


def test_a_hotline_call_is_routed_to_the_department_and_the_caller_is_masked(
    platform: Platform,
) -> None:
    p = platform
    institution_id, staff = institution(p)
    operator = regulator(p, {"sub": "hotline-gz", "region": "440100",
                             "department": "education"})
    taken = p.post("/v1/regulator/complaints", operator, {
        "institution_id": institution_id, "category": "fees", "text": "来电反映机构收取资料费",
        "caller_name": "王小红", "caller_phone": "13812345678"})
    assert taken.status == 201, taken.body
    assert (taken.body["source"], taken.body["caller_name"], taken.body["caller_phone"]) == (
        "12345", "王**", "138****5678")
    complaint_id = taken.body["complaint_id"]
    p.drain_complaints()
    culture = regulator(p, CULTURE_COUNTY)
    held = case(p, culture, complaint_id)
    assert (held["stage"], held["caller_name"], held["caller_phone"]) == (
        "department", "王小红", "13812345678")  # the holder calls back
    listed = p.get("/v1/regulator/complaints", culture)
    assert [(c["caller_name"], c["caller_phone"]) for c in listed.body["items"]] == [
        ("王**", "138****5678")]
    seen = case(p, staff, complaint_id)
    assert (seen["caller_name"], seen["caller_phone"]) == ("", "")  # not even masked
    assert p.get(f"/v1/complaints/{complaint_id}", operator).body["caller_name"] == "王**"
    shop = flows.open_shop(p)
    fam = flows.family(p)
    order = flows.buy(p, shop, fam, lessons=2)
    elsewhere = p.post("/v1/regulator/complaints", operator, {
        "institution_id": institution_id, "category": "fees", "text": "来电", "caller_name": "王",
        "caller_phone": "13812345678", "order_id": order["order_id"]})  # another's order
    assert (elsewhere.status, elsewhere.code) == (422, "order_not_of_institution")


def test_regulators_list_cases_by_stage_sla_and_category(platform: Platform) -> None:
    p = platform
    institution_id, _ = institution(p)
    parent = p.token("parent-lists", "parent")
    safety = file(p, parent, institution_id, category="safety")["complaint_id"]
    fees = file(p, parent, institution_id, category="fees")["complaint_id"]
    p.drain_complaints()
    county, city = regulator(p, CULTURE_COUNTY), regulator(p, CULTURE_CITY)
    education = regulator(p, {"sub": "reg-gz-edu", "region": "440100",
                              "department": "education"})
    sports = regulator(p, {"sub": "reg-gz-sports", "region": "440100",
                           "department": "sports"})

    def listed(who: dict[str, str], query: str) -> list[str]:
        got = p.get(f"/v1/regulator/complaints?{query}", who)
        assert got.status == 200, got.body
        return [c["complaint_id"] for c in got.body["items"]]

    assert listed(county, "stage=department") == [safety]
    assert listed(city, "stage=institution&category=fees") == [fees]
    assert listed(city, "stage=institution&category=safety") == []
    assert listed(education, "stage=department") == [safety]  # education sees every type
    assert listed(sports, "stage=department") == []
    assert listed(county, "stage=department&sla=on_time") == [safety]
    at(p, day_start("2026-03-19T09:00"))  # the department's due day
    assert listed(county, "stage=department&sla=due_soon") == [safety]
    assert listed(county, "stage=department&sla=overdue") == []
    bad = p.get("/v1/regulator/complaints?sla=late", county)
    assert (bad.status, bad.code) == (400, "validation_error")


MALFORMED = [
    {"category": "fees", "text": ""},
    {"category": "rumours", "text": "x"},
    {"category": "fees", "text": "x" * 2001},
    {"category": "fees", "text": "x", "attachments": ["a"] * 10},
    {"category": "fees", "text": "x", "attachments": ["../../etc/passwd"]},
    {"category": "fees", "text": "x", "attachments": ["evidence 1.jpg"]},
    {"category": "fees", "text": "x", "order_id": "ord_nope"},
]


def test_a_malformed_complaint_is_refused_and_files_nothing(platform: Platform) -> None:
    p = platform
    institution_id, _staff = institution(p)
    parent = p.token("parent-malformed", "parent")
    for body in MALFORMED:
        refused = p.post("/v1/complaints", parent, {"institution_id": institution_id, **body})
        assert (refused.status, refused.code) == (400, "validation_error"), (body, refused.body)
    unknown = p.post("/v1/complaints", parent, {"institution_id": "ins_" + "0" * 26,
                                                 "category": "fees", "text": "x"})
    assert (unknown.status, unknown.code) == (404, "institution_not_found")
    assert p.get("/v1/complaints", parent).body["items"] == []
    assert p.drain_complaints() == 0
