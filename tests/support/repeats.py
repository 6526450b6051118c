"""Every non-creating POST, set up to be repeated: the request, what moves its entity on
afterwards (someone else's action, where one exists), and where its current state is read.

A `Repeat` is built fresh on a platform by its scenario; tests/e2e/test_retries.py performs
the request, moves the entity on, then sends the very same request again (no key, or the
first attempt's Idempotency-Key after the first attempt died unanswered) and holds the
platform to 200 with the current state, nothing changed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from chalicelib.domain.calendar import SHANGHAI
from chalicelib.domain.institutions.liquidation import LIST_AFTER
from tests.support import flows
from tests.support.harness import Platform, Reply

CULTURE_COUNTY = {"sub": "reg-th-culture", "region": "440106", "department": "culture"}
CULTURE_YUEXIU = {"sub": "reg-yx-culture", "region": "440104", "department": "culture"}
CULTURE_CITY = {"sub": "reg-gz-culture", "region": "440100", "department": "culture"}
SPORTS_COUNTY = {"sub": "reg-th-sports", "region": "440106", "department": "sports"}
PRICE = 10_000


@dataclass
class Repeat:
    path: str
    who: dict[str, str]
    body: Any
    read: Callable[[], dict[str, Any]]
    """The entity's current state, as someone entitled to it reads it."""
    move_on: Callable[[], None] = field(default=lambda: None)
    """Someone else's action after the request (nothing, where nothing can move it on)."""
    first_status: int = 200


def ok(reply: Reply, status: int = 200) -> dict[str, Any]:
    assert reply.status == status, reply.body
    return dict(reply.body)


def getter(p: Platform, path: str, who: dict[str, str]) -> Callable[[], dict[str, Any]]:
    return lambda: ok(p.get(path, who))


def regulator(p: Platform, claims: dict[str, str]) -> dict[str, str]:
    return flows.regulator(p, **claims)


def today(p: Platform) -> str:
    return p.clock.now().astimezone(SHANGHAI).date().isoformat()


# complaints


@dataclass
class Case:
    shop: flows.Shop
    fam: flows.Family
    complaint_id: str

    @property
    def path(self) -> str:
        return f"/v1/complaints/{self.complaint_id}"

    @property
    def regulator_path(self) -> str:
        return f"/v1/regulator/complaints/{self.complaint_id}"


def routed_case(p: Platform, category: str = "teaching_quality") -> Case:
    """A parent's complaint about an arts shop of 440106, routed (to the institution, or
    for a fund-risk report straight to culture at 440106)."""
    shop, fam = flows.open_shop(p), flows.family(p)
    filed = ok(p.post("/v1/complaints", fam.parent, {
        "institution_id": shop.institution_id, "category": category,
        "text": "老师多次无故缺课，课程质量与宣传严重不符"}), 201)
    p.drain_complaints()
    return Case(shop, fam, filed["complaint_id"])


def answered_case(p: Platform) -> Case:
    c = routed_case(p)
    ok(p.post(f"{c.path}/answer", c.shop.staff, {"text": "已安排补课"}))
    return c


def rejected_case(p: Platform) -> Case:
    """With culture at 440106 (the parent rejected the institution's answer)."""
    c = answered_case(p)
    ok(p.post(f"{c.path}/reject", c.fam.parent, {"reason": "答复敷衍"}))
    return c


def answer(p: Platform) -> Repeat:
    c = routed_case(p)
    return Repeat(f"{c.path}/answer", c.shop.staff, {"text": "已安排补课"},
                  getter(p, c.path, c.shop.staff),
                  lambda: ok(p.post(f"{c.path}/reject", c.fam.parent, {"reason": "答复敷衍"})))


def accept(p: Platform) -> Repeat:
    c = answered_case(p)
    return Repeat(f"{c.path}/accept", c.fam.parent, None, getter(p, c.path, c.fam.parent),
                  lambda: ok(p.post(f"{c.path}/rating", c.fam.parent, {"stars": 4})))


def reject(p: Platform) -> Repeat:
    """Found on an unseen seed: 409 `complaint_not_awaiting_parent` once the department
    had the case."""
    c = answered_case(p)
    county = regulator(p, CULTURE_COUNTY)
    return Repeat(f"{c.path}/reject", c.fam.parent, {"reason": "答复敷衍"},
                  getter(p, c.path, c.fam.parent),
                  lambda: ok(p.post(f"{c.regulator_path}/resolve", county,
                                    {"outcome": "已督促机构补课"})))


def rate(p: Platform) -> Repeat:
    c = answered_case(p)
    ok(p.post(f"{c.path}/accept", c.fam.parent))
    return Repeat(f"{c.path}/rating", c.fam.parent, {"stars": 5, "comment": "满意"},
                  getter(p, c.path, c.fam.parent))


def transfer_sideways(p: Platform) -> Repeat:
    """Found on an unseen seed: 403 `not_case_holder` to the office that handed it on."""
    c = rejected_case(p)
    yuexiu = regulator(p, CULTURE_YUEXIU)
    return Repeat(f"{c.regulator_path}/transfer", regulator(p, CULTURE_COUNTY),
                  {"region_code": "440104", "reason": "属地管辖"},
                  getter(p, c.path, yuexiu),
                  lambda: ok(p.post(f"{c.regulator_path}/resolve", yuexiu,
                                    {"outcome": "已调解"})))


def transfer_of_a_fund_risk_case(p: Platform) -> Repeat:
    """Found on an unseen seed: 404 `complaint_not_found` once the case had left the
    department (culture no longer sees a case sports holds)."""
    c = routed_case(p, "fund_risk")
    sports = regulator(p, SPORTS_COUNTY)
    return Repeat(f"{c.regulator_path}/transfer", regulator(p, CULTURE_COUNTY),
                  {"department": "sports", "reason": "属体育培训"},
                  getter(p, c.path, sports),
                  lambda: ok(p.post(f"{c.regulator_path}/resolve", sports,
                                    {"outcome": "已核实"})))


def transfer_down(p: Platform) -> Repeat:
    """The city hands its county's case to another county (it still holds it from above),
    which hands it back sideways: the city's retry moves nothing."""
    c = rejected_case(p)
    yuexiu = regulator(p, CULTURE_YUEXIU)
    return Repeat(f"{c.regulator_path}/transfer", regulator(p, CULTURE_CITY),
                  {"region_code": "440104", "reason": "交由越秀办理"},
                  getter(p, c.path, regulator(p, CULTURE_CITY)),
                  lambda: ok(p.post(f"{c.regulator_path}/transfer", yuexiu,
                                    {"region_code": "440106", "reason": "退回属地"})))


def note(p: Platform) -> Repeat:
    """The county's clock then runs out: the case escalates to the city."""
    c = rejected_case(p)
    county = regulator(p, CULTURE_COUNTY)

    def escalated() -> None:
        due_on = ok(p.get(c.path, county))["due_on"]
        p.clock.set(_day_after(due_on))
        p.run_schedule("auto_confirm")
        assert ok(p.get(c.path, county))["region"] == "440100"

    return Repeat(f"{c.regulator_path}/notes", county, {"text": "已电话联系家长"},
                  getter(p, c.path, regulator(p, CULTURE_CITY)), escalated)


def resolve(p: Platform) -> Repeat:
    c = rejected_case(p)
    county = regulator(p, CULTURE_COUNTY)
    return Repeat(f"{c.regulator_path}/resolve", county, {"outcome": "已督促机构补课"},
                  getter(p, c.path, county),
                  lambda: ok(p.post(f"{c.path}/rating", c.fam.parent, {"stars": 3})))


def resolve_settled_otherwise(p: Platform) -> Repeat:
    """A dispute's case whose lesson the parent accepted first: resolved with no decision
    (the record names only what happened), then rated."""
    fam, consumption_id = escalated_dispute(p)
    ok(p.post(f"/v1/consumptions/{consumption_id}/confirm", fam.parent))
    case_path = "/v1/complaints/cmp_" + consumption_id.removeprefix("con_")
    county = regulator(p, CULTURE_COUNTY)
    return Repeat(f"/v1/regulator/complaints/cmp_{consumption_id[4:]}/resolve", county,
                  {"outcome": "家长已确认课时", "decision": "release_lesson"},
                  getter(p, case_path, county),
                  lambda: ok(p.post(f"{case_path}/rating", fam.parent, {"stars": 4})))


def _day_after(due_on: str) -> datetime:
    """A minute into the day after `due_on`: the case is overdue."""
    return (datetime.fromisoformat(f"{due_on}T00:01").replace(tzinfo=SHANGHAI)
            + timedelta(days=1))


# lessons, disputes and refunds


def taught_once(p: Platform) -> tuple[flows.Shop, flows.Family, dict[str, Any], str]:
    shop, fam = flows.open_shop(p, price=PRICE), flows.family(p)
    order = flows.buy_and_pay(p, shop, fam, lessons=3)
    lesson = flows.record_lesson(p, shop, [order["order_id"]])
    return shop, fam, order, lesson["consumptions"][0]["consumption_id"]


def escalated_dispute(p: Platform) -> tuple[flows.Family, str]:
    """A lesson disputed and left unanswered past its answer-by day: escalated, its case
    routed to culture at 440106."""
    _shop, fam, _order, consumption_id = taught_once(p)
    ok(p.post(f"/v1/consumptions/{consumption_id}/dispute", fam.parent,
              {"reason": "孩子那天生病没去"}))
    p.advance(days=20)
    p.run_schedule("auto_confirm")
    p.drain_complaints()
    return fam, consumption_id


def lesson_path(consumption_id: str) -> str:
    return f"/v1/consumptions/{consumption_id}"


def lesson_of(p: Platform, fam: flows.Family, consumption_id: str
              ) -> Callable[[], dict[str, Any]]:
    def read() -> dict[str, Any]:
        listed = ok(p.get("/v1/consumptions?limit=100", fam.parent))
        return dict(next(c for c in listed["items"] if c["consumption_id"] == consumption_id))
    return read


def confirm(p: Platform) -> Repeat:
    _shop, fam, _order, consumption_id = taught_once(p)
    return Repeat(f"{lesson_path(consumption_id)}/confirm", fam.parent, None,
                  lesson_of(p, fam, consumption_id), p.settle_everything)


def dispute(p: Platform) -> Repeat:
    shop, fam, _order, consumption_id = taught_once(p)
    return Repeat(f"{lesson_path(consumption_id)}/dispute", fam.parent,
                  {"reason": "老师没来"}, lesson_of(p, fam, consumption_id),
                  lambda: ok(p.post(f"{lesson_path(consumption_id)}/withdraw", shop.staff,
                                    {"reason": "误录"})))


def withdraw(p: Platform) -> Repeat:
    shop, fam, _order, consumption_id = taught_once(p)
    return Repeat(f"{lesson_path(consumption_id)}/withdraw", shop.staff, {"reason": "误录"},
                  lesson_of(p, fam, consumption_id))


def uphold(p: Platform) -> Repeat:
    shop, fam, _order, consumption_id = taught_once(p)
    ok(p.post(f"{lesson_path(consumption_id)}/dispute", fam.parent, {"reason": "老师没来"}))
    return Repeat(f"{lesson_path(consumption_id)}/uphold", shop.staff, {"note": "有签到记录"},
                  lesson_of(p, fam, consumption_id),
                  lambda: ok(p.post(f"{lesson_path(consumption_id)}/confirm", fam.parent)))


def decide_dispute(p: Platform) -> Repeat:
    fam, consumption_id = escalated_dispute(p)
    return Repeat(f"/v1/regulator/consumptions/{consumption_id}/decide",
                  regulator(p, CULTURE_COUNTY), {"outcome": "release", "reason": "经核查已上课"},
                  lesson_of(p, fam, consumption_id), p.settle_everything)


def refund_asked(p: Platform) -> tuple[flows.Shop, flows.Family, str]:
    """A refund of an order taught once, awaiting the institution's decision."""
    shop, fam, order, _ = taught_once(p)
    asked = ok(p.post(f"/v1/orders/{order['order_id']}/refund-requests", fam.parent,
                      {"reason": "孩子不想学了"}), 201)
    return shop, fam, asked["refund_id"]


def refund_path(refund_id: str) -> str:
    return f"/v1/refund-requests/{refund_id}"


def refund_rejected(p: Platform) -> tuple[flows.Shop, flows.Family, str]:
    shop, fam, refund_id = refund_asked(p)
    ok(p.post(f"{refund_path(refund_id)}/reject", shop.staff, {"reason": "已按合同上课"}))
    return shop, fam, refund_id


def refund_escalated(p: Platform) -> tuple[flows.Family, str]:
    """Rejected, escalated by the parent, its case routed to culture at 440106."""
    _shop, fam, refund_id = refund_rejected(p)
    ok(p.post(f"{refund_path(refund_id)}/escalate", fam.parent, {"reason": "拒绝无理"}))
    p.drain_complaints()
    return fam, refund_id


def approve_refund(p: Platform) -> Repeat:
    shop, fam, refund_id = refund_asked(p)
    return Repeat(f"{refund_path(refund_id)}/approve", shop.staff, {},
                  getter(p, refund_path(refund_id), fam.parent), p.settle_everything)


def reject_refund(p: Platform) -> Repeat:
    shop, fam, refund_id = refund_asked(p)
    return Repeat(f"{refund_path(refund_id)}/reject", shop.staff, {"reason": "已按合同上课"},
                  getter(p, refund_path(refund_id), fam.parent),
                  lambda: ok(p.post(f"{refund_path(refund_id)}/escalate", fam.parent,
                                    {"reason": "拒绝无理"})))


def escalate_refund(p: Platform) -> Repeat:
    _shop, fam, refund_id = refund_rejected(p)

    def dismissed() -> None:
        p.drain_complaints()
        ok(p.post(f"/v1/regulator/refund-requests/{refund_id}/dismiss",
                  regulator(p, CULTURE_COUNTY), {"reason": "机构已按合同上课"}))

    return Repeat(f"{refund_path(refund_id)}/escalate", fam.parent, {"reason": "拒绝无理"},
                  getter(p, refund_path(refund_id), fam.parent), dismissed)


def order_refund(p: Platform) -> Repeat:
    fam, refund_id = refund_escalated(p)
    return Repeat(f"/v1/regulator/refund-requests/{refund_id}/order",
                  regulator(p, CULTURE_COUNTY), {"reason": "机构未能证明已上课"},
                  getter(p, refund_path(refund_id), fam.parent), p.settle_everything)


def dismiss_refund(p: Platform) -> Repeat:
    fam, refund_id = refund_escalated(p)
    return Repeat(f"/v1/regulator/refund-requests/{refund_id}/dismiss",
                  regulator(p, CULTURE_COUNTY), {"reason": "机构已按合同上课"},
                  getter(p, refund_path(refund_id), fam.parent))


def name_payout_account(p: Platform) -> Repeat:
    """A refund parked because its route became an institution's registered account."""
    shop, fam = flows.open_shop(p), flows.family(p)
    order = flows.buy_and_pay(p, shop, fam, lessons=2)
    ok(p.post("/v1/institutions", p.token("applicant-taking-the-route", "institution"),
              flows.application(custodian={"bank": "示例银行广州分行",
                                           "supervised_account": "SUP-TAKER-0001",
                                           "general_account": fam.payer_account})), 201)
    refund_id = ok(p.post(f"/v1/orders/{order['order_id']}/refund-requests", fam.parent,
                          {"reason": "不学了"}), 201)["refund_id"]
    ok(p.post(f"{refund_path(refund_id)}/approve", shop.staff, {}))

    def paid() -> None:
        p.run_schedule("settlement_sweeper")
        p.settle_everything()

    return Repeat(f"{refund_path(refund_id)}/payout-account", fam.parent,
                  {"account": "PAYER-NEW-0001"},
                  getter(p, refund_path(refund_id), fam.parent), paid)


# the shop and the parents' side


def reviewed(p: Platform) -> tuple[flows.Shop, flows.Family, str]:
    shop, fam, order, consumption_id = taught_once(p)
    ok(p.post(f"{lesson_path(consumption_id)}/confirm", fam.parent))
    return shop, fam, order["order_id"]


def review_of(p: Platform, shop: flows.Shop, order_id: str) -> Callable[[], dict[str, Any]]:
    def read() -> dict[str, Any]:
        listed = ok(p.get(f"/v1/institutions/{shop.institution_id}/reviews", shop.staff))
        return dict(next(r for r in listed["items"] if r["order_id"] == order_id))
    return read


def review(p: Platform) -> Repeat:
    shop, fam, order_id = reviewed(p)
    return Repeat(f"/v1/orders/{order_id}/review", fam.parent, {"stars": 4, "text": "老师认真"},
                  review_of(p, shop, order_id),
                  lambda: ok(p.post(f"/v1/orders/{order_id}/review/reply", shop.staff,
                                    {"text": "谢谢"})), first_status=201)


def reply_to_review(p: Platform) -> Repeat:
    shop, fam, order_id = reviewed(p)
    ok(p.post(f"/v1/orders/{order_id}/review", fam.parent, {"stars": 4, "text": "老师认真"}),
       201)
    return Repeat(f"/v1/orders/{order_id}/review/reply", shop.staff, {"text": "谢谢"},
                  review_of(p, shop, order_id))


def read_notice(p: Platform) -> Repeat:
    _shop, fam, _order, _consumption_id = taught_once(p)
    notice = ok(p.get("/v1/notifications", fam.parent))["items"][0]

    def read() -> dict[str, Any]:
        listed = ok(p.get("/v1/notifications", fam.parent))["items"]
        found = next(n for n in listed if n["notice_id"] == notice["notice_id"])
        return {"notice_id": found["notice_id"], "read": found["read"]}

    return Repeat(f"/v1/notifications/{notice['notice_id']}/read", fam.parent, None, read)


def answer_consultation(p: Platform) -> Repeat:
    shop, fam = flows.open_shop(p), flows.family(p)
    asked = ok(p.post(f"/v1/institutions/{shop.institution_id}/consultations", fam.parent,
                      {"question": "周末有课吗？"}), 201)
    path = f"/v1/consultations/{asked['consultation_id']}"
    return Repeat(f"{path}/answer", shop.staff, {"text": "周六上午有课"},
                  getter(p, path, fam.parent))


def off_sale(p: Platform) -> Repeat:
    shop = flows.open_shop(p)
    return Repeat(f"/v1/courses/{shop.course_id}/off-sale", shop.staff, None,
                  course_of(p, shop))


def on_sale(p: Platform) -> Repeat:
    shop = flows.open_shop(p)
    ok(p.post(f"/v1/courses/{shop.course_id}/off-sale", shop.staff))
    return Repeat(f"/v1/courses/{shop.course_id}/on-sale", shop.staff, None,
                  course_of(p, shop))


def course_of(p: Platform, shop: flows.Shop, course_id: str = "") -> Callable[[], dict[str, Any]]:
    wanted = course_id or shop.course_id

    def read() -> dict[str, Any]:
        for status in ("approved", "off_sale", "pending_review", "rejected"):
            listed = ok(p.get(f"/v1/institutions/{shop.institution_id}/courses?status={status}",
                              shop.staff))
            for course in listed["items"]:
                if course["course_id"] == wanted:
                    return dict(course)
        raise AssertionError(f"course {wanted} not found")
    return read


# institutions, staff and courses under review


def applied(p: Platform, *, teacher: bool = True) -> tuple[str, dict[str, str], dict[str, str]]:
    """An arts institution of 440106 applying (with a checked teacher unless not): its id,
    its applicant's token, its staff's token."""
    applicant = p.token(f"applicant-{flows.uscc()}", "institution")
    institution_id = ok(p.post("/v1/institutions", applicant, flows.application()),
                        201)["institution_id"]
    staff = p.token(f"staff-of-{institution_id}", "institution", institution_id=institution_id)
    if teacher:
        flows.checked_teacher(p, staff, flows.competent(p))
    return institution_id, applicant, staff


def institution_path(institution_id: str) -> str:
    return f"/v1/regulator/institutions/{institution_id}"


def institution_of(p: Platform, institution_id: str) -> Callable[[], dict[str, Any]]:
    return getter(p, f"/v1/institutions/{institution_id}", flows.competent(p))


def blacklisted_by_the_county(p: Platform, institution_id: str) -> Callable[[], None]:
    return lambda: ok(p.post(f"{institution_path(institution_id)}/blacklist",
                             regulator(p, CULTURE_COUNTY), {"reason": "违规招生"}))


def liquidated(p: Platform, institution_id: str) -> Callable[[], None]:
    return lambda: ok(p.post(f"{institution_path(institution_id)}/liquidate",
                             flows.competent(p), {"reason": "停业"}))


def approve_institution(p: Platform) -> Repeat:
    institution_id, _, _ = applied(p)
    return Repeat(f"{institution_path(institution_id)}/approve", flows.competent(p), {},
                  institution_of(p, institution_id), blacklisted_by_the_county(p, institution_id))


def reject_institution(p: Platform) -> Repeat:
    institution_id, _, _ = applied(p)
    return Repeat(f"{institution_path(institution_id)}/reject", flows.competent(p),
                  {"reason": "材料不全"}, institution_of(p, institution_id))


def request_changes(p: Platform) -> Repeat:
    institution_id, _, _ = applied(p)
    return Repeat(f"{institution_path(institution_id)}/request-changes", flows.competent(p),
                  {"reason": "请补充场地证明"}, institution_of(p, institution_id),
                  blacklisted_by_the_county(p, institution_id))


def edit_profile(p: Platform) -> Repeat:
    institution_id, applicant, _ = applied(p)
    return Repeat(f"/v1/institutions/{institution_id}/profile", applicant,
                  {"address": "广州市天河区体育东路2号"}, institution_of(p, institution_id),
                  lambda: ok(p.post(f"{institution_path(institution_id)}/reject",
                                    flows.competent(p), {"reason": "场地不符"})))


def blacklist(p: Platform) -> Repeat:
    shop = flows.open_shop(p)
    return Repeat(f"{institution_path(shop.institution_id)}/blacklist",
                  regulator(p, CULTURE_COUNTY), {"reason": "违规招生"},
                  institution_of(p, shop.institution_id), liquidated(p, shop.institution_id))


def unblacklist(p: Platform) -> Repeat:
    shop = flows.open_shop(p)
    blacklisted_by_the_county(p, shop.institution_id)()
    return Repeat(f"{institution_path(shop.institution_id)}/unblacklist",
                  regulator(p, CULTURE_COUNTY), {"reason": "已整改"},
                  institution_of(p, shop.institution_id),
                  lambda: ok(p.post(f"{institution_path(shop.institution_id)}/approve",
                                    flows.competent(p), {})))


def freeze(p: Platform) -> Repeat:
    shop = flows.open_shop(p)
    return Repeat(f"{institution_path(shop.institution_id)}/freeze",
                  regulator(p, CULTURE_COUNTY), {"reason": "资金风险"},
                  institution_of(p, shop.institution_id), liquidated(p, shop.institution_id))


def unfreeze(p: Platform) -> Repeat:
    shop = flows.open_shop(p)
    county = regulator(p, CULTURE_COUNTY)
    ok(p.post(f"{institution_path(shop.institution_id)}/freeze", county, {"reason": "资金风险"}))
    return Repeat(f"{institution_path(shop.institution_id)}/unfreeze", county,
                  {"reason": "风险解除"}, institution_of(p, shop.institution_id),
                  blacklisted_by_the_county(p, shop.institution_id))


def liquidate(p: Platform) -> Repeat:
    shop, fam = flows.open_shop(p), flows.family(p)
    flows.buy_and_pay(p, shop, fam, lessons=2)

    def listed() -> None:
        p.drain_sweeps()
        p.advance(seconds=LIST_AFTER.total_seconds() + 1)
        p.run_schedule("settlement_sweeper")
        p.drain_liquidation()
        p.settle_everything()

    return Repeat(f"{institution_path(shop.institution_id)}/liquidate", flows.competent(p),
                  {"reason": "停业"},
                  getter(p, f"{institution_path(shop.institution_id)}/liquidation",
                         flows.competent(p)), listed)


def submitted_course(p: Platform) -> tuple[flows.Shop, str]:
    shop = flows.open_shop(p)
    return shop, ok(p.post("/v1/courses", shop.staff, flows.course_body()), 201)["course_id"]


def approve_course(p: Platform) -> Repeat:
    shop, course_id = submitted_course(p)
    return Repeat(f"/v1/regulator/courses/{course_id}/approve", flows.competent(p), {},
                  course_of(p, shop, course_id),
                  lambda: ok(p.post(f"/v1/courses/{course_id}/off-sale", shop.staff)))


def reject_course(p: Platform) -> Repeat:
    shop, course_id = submitted_course(p)
    return Repeat(f"/v1/regulator/courses/{course_id}/reject", flows.competent(p),
                  {"reason": "课时安排不合理"}, course_of(p, shop, course_id))


def registered_staff(p: Platform, role: str = "teacher") -> tuple[dict[str, str], str, str]:
    """A whitelisted institution's staff token, its institution and a new member's id."""
    shop = flows.open_shop(p)
    staff_id = ok(p.post("/v1/staff", shop.staff, {
        "name": "王老师", "role": role, "id_number": flows.resident_id(7)}), 201)["staff_id"]
    return shop.staff, shop.institution_id, staff_id


def staff_of(p: Platform, who: dict[str, str], institution_id: str, staff_id: str
             ) -> Callable[[], dict[str, Any]]:
    def read() -> dict[str, Any]:
        listed = ok(p.get(f"/v1/institutions/{institution_id}/staff?limit=100", who))
        return dict(next(m for m in listed["items"] if m["staff_id"] == staff_id))
    return read


def consent(p: Platform) -> Repeat:
    staff, institution_id, staff_id = registered_staff(p)
    return Repeat(f"/v1/staff/{staff_id}/consent", staff, {"signed_on": today(p)},
                  staff_of(p, staff, institution_id, staff_id),
                  lambda: ok(p.post(f"/v1/regulator/staff/{staff_id}/background-check",
                                    flows.competent(p),
                                    {"result": "passed", "checked_on": today(p)})))


def certificate(p: Platform) -> Repeat:
    staff, institution_id, staff_id = registered_staff(p)
    return Repeat(f"/v1/staff/{staff_id}/certificate", staff,
                  {"certificate_number": "20214401042000123"},
                  staff_of(p, staff, institution_id, staff_id))


def background_check(p: Platform) -> Repeat:
    staff, institution_id, staff_id = registered_staff(p)
    ok(p.post(f"/v1/staff/{staff_id}/consent", staff, {"signed_on": today(p)}))
    return Repeat(f"/v1/regulator/staff/{staff_id}/background-check", flows.competent(p),
                  {"result": "passed", "checked_on": today(p)},
                  staff_of(p, staff, institution_id, staff_id))


SCENARIOS: dict[str, Callable[[Platform], Repeat]] = {
    "POST /v1/complaints/{id}/answer": answer,
    "POST /v1/complaints/{id}/accept": accept,
    "POST /v1/complaints/{id}/reject": reject,
    "POST /v1/complaints/{id}/rating": rate,
    "POST /v1/regulator/complaints/{id}/transfer (sideways)": transfer_sideways,
    "POST /v1/regulator/complaints/{id}/transfer (fund risk)": transfer_of_a_fund_risk_case,
    "POST /v1/regulator/complaints/{id}/transfer (down)": transfer_down,
    "POST /v1/regulator/complaints/{id}/notes": note,
    "POST /v1/regulator/complaints/{id}/resolve": resolve,
    "POST /v1/regulator/complaints/{id}/resolve (settled otherwise)": resolve_settled_otherwise,
    "POST /v1/consumptions/{id}/withdraw": withdraw,
    "POST /v1/consumptions/{id}/uphold": uphold,
    "POST /v1/regulator/consumptions/{id}/decide": decide_dispute,
    "POST /v1/institutions/{id}/profile": edit_profile,
    "POST /v1/courses/{id}/off-sale": off_sale,
    "POST /v1/courses/{id}/on-sale": on_sale,
    "POST /v1/orders/{id}/review/reply": reply_to_review,
    "POST /v1/notifications/{id}/read": read_notice,
    "POST /v1/orders/{id}/review": review,
    "POST /v1/consumptions/{id}/confirm": confirm,
    "POST /v1/consumptions/{id}/dispute": dispute,
    "POST /v1/refund-requests/{id}/approve": approve_refund,
    "POST /v1/refund-requests/{id}/reject": reject_refund,
    "POST /v1/refund-requests/{id}/escalate": escalate_refund,
    "POST /v1/refund-requests/{id}/payout-account": name_payout_account,
    "POST /v1/regulator/refund-requests/{id}/order": order_refund,
    "POST /v1/regulator/refund-requests/{id}/dismiss": dismiss_refund,
    "POST /v1/regulator/institutions/{id}/approve": approve_institution,
    "POST /v1/regulator/institutions/{id}/reject": reject_institution,
    "POST /v1/regulator/institutions/{id}/request-changes": request_changes,
    "POST /v1/regulator/institutions/{id}/blacklist": blacklist,
    "POST /v1/regulator/institutions/{id}/unblacklist": unblacklist,
    "POST /v1/regulator/institutions/{id}/freeze": freeze,
    "POST /v1/regulator/institutions/{id}/unfreeze": unfreeze,
    "POST /v1/regulator/institutions/{id}/liquidate": liquidate,
    "POST /v1/regulator/courses/{id}/approve": approve_course,
    "POST /v1/regulator/courses/{id}/reject": reject_course,
    "POST /v1/consultations/{id}/answer": answer_consultation,
    "POST /v1/staff/{id}/consent": consent,
    "POST /v1/staff/{id}/certificate": certificate,
    "POST /v1/regulator/staff/{id}/background-check": background_check,
}
"""Every non-creating POST route (the bank's signed callback aside: it is deduplicated by
its event id), and the three found on unseen seeds by name."""


# creating POSTs: the retry under the first attempt's key finds what it created


@dataclass
class Creation:
    path: str
    who: dict[str, str]
    body: Any
    read: Callable[[dict[str, Any]], dict[str, Any]]
    """What the creation answered, as it is now (from the answer's ids)."""
    move_on: Callable[[], None] = field(default=lambda: None)


def pending_institutions(p: Platform) -> list[dict[str, Any]]:
    return list(ok(p.get("/v1/institutions?status=pending_review&limit=100",
                         flows.competent(p)))["items"])


def apply(p: Platform) -> Creation:
    applicant = p.token("applicant-creating", "institution")
    body = flows.application()

    def rejected() -> None:
        (applied_,) = [i for i in pending_institutions(p) if i["uscc"] == body["uscc"]]
        ok(p.post(f"{institution_path(applied_['institution_id'])}/reject",
                  flows.competent(p), {"reason": "材料不全"}))

    return Creation("/v1/institutions", applicant, body,
                    lambda made: institution_of(p, made["institution_id"])(), rejected)


def renamed(p: Platform, shop: flows.Shop) -> Callable[[], None]:
    """The institution renames itself: back in review until its department approves."""
    return lambda: ok(p.post(f"/v1/institutions/{shop.institution_id}/profile", shop.staff,
                             {"name": f"新名称培训学校{flows.uscc()[-6:]}"}))


def submit_course(p: Platform) -> Creation:
    shop = flows.open_shop(p)
    return Creation("/v1/courses", shop.staff, flows.course_body(),
                    lambda made: course_of(p, shop, made["course_id"])(), renamed(p, shop))


def link_student(p: Platform) -> Creation:
    parent = p.token("parent-creating", "parent")

    def read(made: dict[str, Any]) -> dict[str, Any]:
        listed = ok(p.get("/v1/students", parent))["items"]
        return dict(next(s for s in listed if s["student_id"] == made["student_id"]))

    return Creation("/v1/students", parent, {"name": "小红", "grade": "二年级"}, read)


def buy(p: Platform) -> Creation:
    shop, fam = flows.open_shop(p), flows.family(p)
    return Creation("/v1/orders", fam.parent, {"course_id": shop.course_id,
                                               "student_id": fam.student_id, "lessons": 2},
                    lambda made: getter(p, f"/v1/orders/{made['order_id']}", fam.parent)(),
                    lambda: ok(p.post(f"/v1/courses/{shop.course_id}/off-sale", shop.staff)))


def record_lesson(p: Platform) -> Creation:
    shop, fam = flows.open_shop(p), flows.family(p)
    order = flows.buy_and_pay(p, shop, fam, lessons=3)
    body = flows.teach(p, shop, [order["order_id"]])

    def read(made: dict[str, Any]) -> dict[str, Any]:
        """The lesson answered is the one recorded, with the consumptions the parent sees."""
        listed = ok(p.get("/v1/consumptions?limit=100", fam.parent))["items"]
        assert [c["consumption_id"] for c in listed] == [
            c["consumption_id"] for c in made["consumptions"]], (listed, made)
        return {"lesson_id": made["lesson_id"]}

    return Creation("/v1/lessons", shop.staff, body, read,
                    lambda: ok(p.post(f"{institution_path(shop.institution_id)}/freeze",
                                      regulator(p, CULTURE_COUNTY), {"reason": "资金风险"})))


def ask_refund(p: Platform) -> Creation:
    shop, fam, order, _ = taught_once(p)

    def approved() -> None:
        (waiting,) = ok(p.get("/v1/refund-requests?status=pending_decision",
                              shop.staff))["items"]
        ok(p.post(f"{refund_path(waiting['refund_id'])}/approve", shop.staff, {}))

    return Creation(f"/v1/orders/{order['order_id']}/refund-requests", fam.parent,
                    {"reason": "孩子不想学了"},
                    lambda made: getter(p, refund_path(made["refund_id"]), fam.parent)(),
                    approved)


def file_complaint(p: Platform) -> Creation:
    shop, fam = flows.open_shop(p), flows.family(p)
    return Creation("/v1/complaints", fam.parent,
                    {"institution_id": shop.institution_id, "category": "fees",
                     "text": "收费与宣传不符"},
                    lambda made: getter(p, f"/v1/complaints/{made['complaint_id']}",
                                        fam.parent)(), p.drain_complaints)


def take_call(p: Platform) -> Creation:
    shop = flows.open_shop(p)
    hotline = regulator(p, {"sub": "hotline-gd", "region": "440000",
                            "department": "education"})
    return Creation("/v1/regulator/complaints", hotline,
                    {"institution_id": shop.institution_id, "category": "fees",
                     "text": "收费与宣传不符", "caller_name": "李四",
                     "caller_phone": "13900001111"},
                    lambda made: getter(p, f"/v1/complaints/{made['complaint_id']}",
                                        hotline)(), p.drain_complaints)


def post_announcement(p: Platform) -> Creation:
    shop = flows.open_shop(p)

    def read(made: dict[str, Any]) -> dict[str, Any]:
        listed = ok(p.get(f"/v1/institutions/{shop.institution_id}/announcements",
                          shop.staff))["items"]
        return dict(next(a for a in listed if a["announcement_id"] == made["announcement_id"]))

    return Creation(f"/v1/institutions/{shop.institution_id}/announcements", shop.staff,
                    {"title": "春季招生", "text": "周六上午开班"}, read,
                    lambda: ok(p.post(f"{institution_path(shop.institution_id)}/freeze",
                                      regulator(p, CULTURE_COUNTY), {"reason": "资金风险"})))


def ask_question(p: Platform) -> Creation:
    shop, fam = flows.open_shop(p), flows.family(p)
    return Creation(f"/v1/institutions/{shop.institution_id}/consultations", fam.parent,
                    {"question": "周末有课吗？"},
                    lambda made: getter(p, f"/v1/consultations/{made['consultation_id']}",
                                        fam.parent)(),
                    blacklisted_by_the_county(p, shop.institution_id))


def register_staff(p: Platform) -> Creation:
    shop = flows.open_shop(p)
    return Creation("/v1/staff", shop.staff,
                    {"name": "王老师", "role": "teacher", "id_number": flows.resident_id(8)},
                    lambda made: staff_of(p, shop.staff, shop.institution_id,
                                          made["staff_id"])())


CREATIONS: dict[str, Callable[[Platform], Creation]] = {
    "POST /v1/institutions": apply,
    "POST /v1/courses": submit_course,
    "POST /v1/students": link_student,
    "POST /v1/orders": buy,
    "POST /v1/lessons": record_lesson,
    "POST /v1/orders/{id}/refund-requests": ask_refund,
    "POST /v1/complaints": file_complaint,
    "POST /v1/regulator/complaints": take_call,
    "POST /v1/institutions/{id}/announcements": post_announcement,
    "POST /v1/institutions/{id}/consultations": ask_question,
    "POST /v1/staff": register_staff,
}
"""Every creating POST (its Idempotency-Key is required)."""
