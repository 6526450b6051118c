"""Steps of the purchase-to-release flow, over HTTP, each asserting its own success."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chalicelib.domain.calendar import SHANGHAI
from chalicelib.domain.institutions.catalog import Discipline, competent_department
from chalicelib.domain.institutions.staff import ID_CHECK, ID_WEIGHTS
from chalicelib.domain.institutions.uscc import CHARSET, check_character
from tests.support.harness import Platform

_serial = itertools.count(1)


def restart_numbering() -> None:
    """Number names (accounts, USCCs, subs) from 1 again: a simulation's replay names
    everything as the run it replays did."""
    global _serial
    _serial = itertools.count(1)

def uscc() -> str:
    """A credit code whose check character is right (GB 32100)."""
    n = next(_serial)
    body = "".join(CHARSET[(n * 7 + i) % len(CHARSET)] for i in range(9))
    first17 = f"91{440100 + n % 99:06d}{body}"
    return first17 + check_character(first17)


@dataclass
class Shop:
    institution_id: str
    staff: dict[str, str]
    course_id: str
    supervised_account: str
    general_account: str
    price_per_lesson_fen: int
    teacher_id: str


REGULATOR = {"sub": "reg-gd-edu", "role": "regulator", "region": "440000",
             "department": "education"}


def regulator(p: Platform, **claims: str) -> dict[str, str]:
    merged = {**REGULATOR, **claims}
    return p.token(merged.pop("sub"), merged.pop("role"), **merged)


CULTURE = {"sub": "reg-gd-culture", "department": "culture"}
"""The competent department of the arts institutions the flows open: it decides about them
(education sees them too, but acts on its own and unassigned ones)."""


def competent(p: Platform) -> dict[str, str]:
    return regulator(p, **CULTURE)


def resident_id(n: int) -> str:
    """A resident identity number whose check character is right (GB 11643)."""
    first17 = f"44010620100101{n % 1000:03d}"
    total = sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS, strict=True))
    return first17 + ID_CHECK[total % 11]


def checked_teacher(p: Platform, staff: dict[str, str], checker: dict[str, str], *,
                    certificate: bool = True) -> str:
    """Register a teacher (with a certificate, unless not) whose background check the
    department passed today: the staff id a lesson names."""
    registered = p.post("/v1/staff", staff, {"name": "李老师", "role": "teacher",
                                              "id_number": resident_id(next(_serial))})
    assert registered.status == 201, registered.body
    staff_id = registered.body["staff_id"]
    today = p.clock.now().astimezone(SHANGHAI).date().isoformat()
    steps = [(f"/v1/staff/{staff_id}/consent", staff, {"signed_on": today}),
             (f"/v1/regulator/staff/{staff_id}/background-check", checker,
              {"result": "passed", "checked_on": today})]
    if certificate:
        steps.append((f"/v1/staff/{staff_id}/certificate", staff,
                      {"certificate_number": "20214401042000123"}))
    for path, who, body in steps:
        done = p.post(path, who, body)
        assert done.status == 200, done.body
    return str(staff_id)


def application(region: str = "440106", **overrides: Any) -> dict[str, Any]:
    n = next(_serial)
    body = {
        "name": f"示例培训学校{n}",
        "uscc": uscc(),
        "permit_number": f"教民144010670{n:05d}号",
        "training_type": "non_subject",
        "discipline": "arts",
        "mode": "offline",
        "region_code": region,
        "address": "广州市天河区体育西路1号",
        "custodian": {
            "bank": "示例银行广州分行",
            "supervised_account": f"SUP{n:08d}",
            "general_account": f"GEN{n:08d}",
        },
    }
    body.update(overrides)
    return body


EVERY_SLOT = [{"weekday": day, "starts_at": at} for day in range(1, 8)
              for at in ("08:00", "12:00", "16:00")]
"""Three lessons a day, every day (schedule.MAX_SLOTS), of up to four hours: the tests record
lessons whenever they like, and a course takes as many lessons a week as its timetable has
slots (and the policy's make-up lessons)."""


def course_body(price: int = 15_000, lessons_total: int = 30, **overrides: Any) -> dict[str, Any]:
    """An arts course that obeys the caps of one charge (30 x 150 yuan, three months),
    taught in any slot of the week."""
    body = {
        "title": "少儿美术基础班",
        "discipline": "arts",
        "mode": "offline",
        "lesson_minutes": 60,
        "class_size": 12,
        "price_per_lesson_fen": price,
        "lessons_total": lessons_total,
        "starts_on": "2026-03-01",
        "ends_on": "2026-05-31",
        "timetable": EVERY_SLOT,
    }
    body.update(overrides)
    return body


def whitelisted(p: Platform, region: str = "440106", **profile: Any
                ) -> tuple[dict[str, Any], dict[str, str], str]:
    """Apply (with `profile` over the usual application), register a checked teacher and have
    the competent department approve: (the application, a staff token, the teacher's id)."""
    applicant = p.token(f"staff-{next(_serial)}", "institution")
    body = application(region, **profile)
    applied = p.post("/v1/institutions", applicant, body)
    assert applied.status == 201, applied.body
    institution_id = applied.body["institution_id"]
    staff = p.token(f"staff-of-{institution_id}", "institution", institution_id=institution_id)
    department = competent_department(body["training_type"] == "subject",
                                      Discipline(body["discipline"]))
    decider = regulator(p, sub=f"reg-gd-{department}", department=str(department))
    teacher_id = checked_teacher(p, staff, decider)
    approved = p.post(f"/v1/regulator/institutions/{institution_id}/approve", decider, {})
    assert approved.status == 200 and approved.body["status"] == "whitelisted", approved.body
    return {**body, "institution_id": institution_id}, staff, teacher_id


def open_shop(
    p: Platform, *, price: int = 15_000, region: str = "440106", **course: Any
) -> Shop:
    """A whitelisted arts institution with one course on sale."""
    applied, staff, teacher_id = whitelisted(p, region)
    institution_id = applied["institution_id"]
    submitted = p.post("/v1/courses", staff, course_body(price, **course))
    assert submitted.status == 201, submitted.body
    course_id = submitted.body["course_id"]
    decided = p.post(f"/v1/regulator/courses/{course_id}/approve", competent(p), {})
    assert decided.status == 200 and decided.body["status"] == "approved", decided.body
    custodian = applied["custodian"]
    return Shop(institution_id, staff, course_id, custodian["supervised_account"],
                custodian["general_account"], price, teacher_id)


@dataclass
class Family:
    parent: dict[str, str]
    student_id: str
    payer_account: str


def family(p: Platform, name: str = "小明") -> Family:
    sub = f"parent-{next(_serial)}"
    parent = p.token(sub, "parent")
    linked = p.post("/v1/students", parent, {"name": name, "grade": "三年级"})
    assert linked.status == 201, linked.body
    return Family(parent, linked.body["student_id"], f"PAYER-{sub}")


def buy(p: Platform, shop: Shop, fam: Family, lessons: int) -> dict[str, Any]:
    created = p.post("/v1/orders", fam.parent, {
        "course_id": shop.course_id, "student_id": fam.student_id, "lessons": lessons})
    assert created.status == 201, created.body
    return dict(created.body)


def pay(p: Platform, fam: Family, order: dict[str, Any], amount_fen: int | None = None) -> None:
    p.bank.pay(fam.payer_account, order["payment"]["account"], order["payment"]["reference"],
               order["amount_fen"] if amount_fen is None else amount_fen)
    p.bank.deliver_pending()


def buy_and_pay(p: Platform, shop: Shop, fam: Family, lessons: int) -> dict[str, Any]:
    order = buy(p, shop, fam, lessons)
    pay(p, fam, order)
    return order


def lesson_body(shop: Shop, order_ids: list[str], started: datetime,
                minutes: int = 60) -> dict[str, Any]:
    return {
        "course_id": shop.course_id,
        "started_at": started.isoformat(),
        "ended_at": (started + timedelta(minutes=minutes)).isoformat(),
        "teacher_id": shop.teacher_id,
        "order_ids": order_ids,
    }


def teach(p: Platform, shop: Shop, order_ids: list[str], minutes: int = 60) -> dict[str, Any]:
    """A lesson that begins now: the clock moves to five minutes after its end."""
    started = p.clock.now()
    p.advance(minutes=minutes + 5)
    return lesson_body(shop, order_ids, started, minutes)


def record_lesson(p: Platform, shop: Shop, order_ids: list[str]) -> dict[str, Any]:
    """Teach a lesson to these orders (it begins now, after their payment) and record it."""
    recorded = p.post("/v1/lessons", shop.staff, teach(p, shop, order_ids))
    assert recorded.status == 201, recorded.body
    return dict(recorded.body)


def confirm(p: Platform, fam: Family, consumption_id: str) -> dict[str, Any]:
    confirmed = p.post(f"/v1/consumptions/{consumption_id}/confirm", fam.parent)
    assert confirmed.status == 200, confirmed.body
    return dict(confirmed.body)


def order_of(p: Platform, who: dict[str, str], order_id: str) -> dict[str, Any]:
    got = p.get(f"/v1/orders/{order_id}", who)
    assert got.status == 200, got.body
    return dict(got.body)


def dispute(p: Platform, fam: Family, consumption_id: str) -> None:
    disputed = p.post(f"/v1/consumptions/{consumption_id}/dispute", fam.parent,
                      {"reason": "孩子当天请假未上课"})
    assert disputed.status == 200, disputed.body
