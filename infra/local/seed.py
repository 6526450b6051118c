"""Demo data, created through the real HTTP API as the apps would: an institution applies and
is whitelisted, its course is approved, and a parent links a child. Nothing is written behind
the API's back, so the demo exercises the same checks as every other request."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import requests

from chalicelib.domain.calendar import SHANGHAI
from infra.local.config import AuthConfig
from infra.local.tokens import mint

log = logging.getLogger(__name__)

TOKEN_TTL_SECONDS = 12 * 3600
TIMEOUT_SECONDS = 10
REGION = "440106"  # 广州市天河区
REGULATOR_CLAIMS = {"region": REGION, "department": "culture"}
"""The competent department of arts training: it decides about the demo institution."""

APPLICATION: dict[str, Any] = {
    "name": "示例艺术培训学校（演示）",
    "uscc": "91440106MA5CDEMX0T",
    "permit_number": "教民1440106700001号",
    "training_type": "non_subject",
    "discipline": "arts",
    "mode": "offline",
    "region_code": REGION,
    "address": "广州市天河区体育西路1号",
    "custodian": {
        "bank": "示例银行广州分行",
        "supervised_account": "SUP-DEMO-0001",
        "general_account": "GEN-DEMO-0001",
    },
}
COURSE: dict[str, Any] = {
    "title": "少儿美术基础班",
    "discipline": "arts",
    "mode": "offline",
    "lesson_minutes": 60,
    "class_size": 12,
    "price_per_lesson_fen": 15000,
    "lessons_total": 30,
    "timetable": [{"weekday": 6, "starts_at": "09:00"}],
}
"""An arts course within the caps of one charge (30 x 150 yuan over less than three months),
on sale from the platform's today (`course_dates`)."""
COURSE_DAYS = 80
STUDENT = {"name": "小明", "grade": "三年级"}
TEACHER = {"name": "李老师", "role": "teacher", "id_number": "11010519491231002X"}
CERTIFICATE = {"certificate_number": "20214401042000123"}


class SeedError(RuntimeError):
    pass


@dataclass(frozen=True)
class Demo:
    institution_id: str
    course_id: str
    student_id: str
    teacher_id: str
    supervised_account: str
    general_account: str
    price_per_lesson_fen: int
    tokens: dict[str, str]
    """role name -> bearer token: applicant, regulator, staff, parent."""


class _Api:
    def __init__(self, api_url: str) -> None:
        self._url = api_url
        self._http = requests.Session()

    def post(self, path: str, token: str, body: dict[str, Any], *, expect: int) -> Any:
        response = self._http.post(
            self._url + path,
            json=body,
            headers={
                "Authorization": f"Bearer {token}",
                "Idempotency-Key": f"seed-{uuid.uuid4().hex}",
            },
            timeout=TIMEOUT_SECONDS,
        )
        if response.status_code != expect:
            raise SeedError(f"POST {path}: HTTP {response.status_code} {response.text}")
        return response.json()

    def today(self) -> date:
        """The platform's business date (the local stack's clock, `/v1/health`)."""
        health = self._http.get(self._url + "/v1/health", timeout=TIMEOUT_SECONDS).json()
        clock = health.get("clock")
        now = datetime.fromisoformat(clock) if clock else datetime.now(SHANGHAI)
        return now.astimezone(SHANGHAI).date()


def course_dates(today: date) -> dict[str, str]:
    return {"starts_on": today.isoformat(),
            "ends_on": (today + timedelta(days=COURSE_DAYS)).isoformat()}


def seed(api_url: str, auth: AuthConfig) -> Demo:
    api = _Api(api_url)
    tokens = {
        "applicant": mint(auth, role="institution", sub="demo-applicant",
                          ttl_seconds=TOKEN_TTL_SECONDS),
        "regulator": mint(auth, role="regulator", sub="demo-regulator",
                          ttl_seconds=TOKEN_TTL_SECONDS, **REGULATOR_CLAIMS),
        "parent": mint(auth, role="parent", sub="demo-parent", ttl_seconds=TOKEN_TTL_SECONDS),
    }
    institution_id = api.post("/v1/institutions", tokens["applicant"], APPLICATION,
                              expect=201)["institution_id"]
    tokens["staff"] = mint(auth, role="institution", sub="demo-staff",
                           institution_id=institution_id, ttl_seconds=TOKEN_TTL_SECONDS)
    today = api.today().isoformat()
    teacher_id = api.post("/v1/staff", tokens["staff"], TEACHER, expect=201)["staff_id"]
    api.post(f"/v1/staff/{teacher_id}/consent", tokens["staff"], {"signed_on": today},
             expect=200)
    api.post(f"/v1/staff/{teacher_id}/certificate", tokens["staff"], CERTIFICATE, expect=200)
    api.post(f"/v1/regulator/staff/{teacher_id}/background-check", tokens["regulator"],
             {"result": "passed", "checked_on": today}, expect=200)
    api.post(f"/v1/regulator/institutions/{institution_id}/approve", tokens["regulator"], {},
             expect=200)
    course = {**COURSE, **course_dates(api.today())}
    course_id = api.post("/v1/courses", tokens["staff"], course, expect=201)["course_id"]
    api.post(f"/v1/regulator/courses/{course_id}/approve", tokens["regulator"], {}, expect=200)
    student_id = api.post("/v1/students", tokens["parent"], STUDENT, expect=201)["student_id"]
    log.info("demo data: institution %s, course %s, student %s", institution_id, course_id,
             student_id)
    custodian = APPLICATION["custodian"]
    return Demo(
        institution_id=institution_id,
        course_id=course_id,
        student_id=student_id,
        teacher_id=teacher_id,
        supervised_account=custodian["supervised_account"],
        general_account=custodian["general_account"],
        price_per_lesson_fen=COURSE["price_per_lesson_fen"],
        tokens=tokens,
    )


def exports(demo: Demo, api_url: str, bank_url: str) -> str:
    """The demo as shell `export` lines, to continue the README's walkthrough at "Buy"."""
    tokens = demo.tokens
    return f"""Demo data ({demo.price_per_lesson_fen} fen per lesson; tokens valid 12 hours).
Paste into a shell that has the README's helpers to continue its walkthrough at "Buy":
  export API={api_url} BANK={bank_url}
  export INS={demo.institution_id} CRS={demo.course_id} STU={demo.student_id}
  export TCH={demo.teacher_id}
  export SUP={demo.supervised_account} GEN={demo.general_account}
  export REGULATOR={tokens["regulator"]}
  export STAFF={tokens["staff"]}
  export PARENT={tokens["parent"]}
"""
