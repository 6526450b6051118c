"""The local stack as a developer runs it: `python -m infra.local` in its own process, driven
over real HTTP (the API and the sandbox bank), stopped by a signal. The tables are in DynamoDB
Local with a fresh data folder per test (where Java 17+ runs), or in moto when asked or when
Java is missing; a restart on the same folder keeps the money and finishes the work that was
in flight."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import boto3
import pytest
import requests
from moto import mock_aws

from chalicelib.adapters.tokens import mint_hs256
from chalicelib.domain.escrow.consumption import instruction_id
from infra import dynamodb_local
from infra.local.consumers import QueueConsumer
from infra.local.seed import course_dates

ROOT = Path(__file__).resolve().parents[2]
AUTH_SECRET = "stack-test-auth-secret-0123456789"
BANK_SECRET = "stack-test-bank-secret-0123456789"
ISSUER = "ots-local"
AUDIENCE = "ots-platform"
STARTUP_TIMEOUT_S = 90
DAYTIME = "2026-11-02T10:00:00+08:00"
STOP_TIMEOUT_S = 20
SHANGHAI = ZoneInfo("Asia/Shanghai")
PRICE = 15_000
LESSONS = 10
SUPERVISED, GENERAL = "SUP-TEST-0001", "GEN-TEST-0001"


def dynamodb_local_runs_here() -> bool:
    version = dynamodb_local.java_version()
    return bool(version and version >= dynamodb_local.MIN_JAVA
                and (dynamodb_local.library_dir() or shutil.which("npm")))


needs_dynamodb_local = pytest.mark.skipif(
    not dynamodb_local_runs_here(), reason="DynamoDB Local needs Java 17+ (and npm to install it)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def token(sub: str, role: str, *, now: datetime, **claims: str) -> dict[str, str]:
    """A token valid for ten minutes from `now`, the stack's platform time."""
    minted = mint_hs256(AUTH_SECRET, issuer=ISSUER, audience=AUDIENCE, sub=sub, role=role,
                        ttl_seconds=600, now=int(now.timestamp()), **claims)
    return {"Authorization": f"Bearer {minted}"}


@dataclass
class Stack:
    process: subprocess.Popen[bytes]
    api: str
    bank: str
    ports: tuple[int, ...]
    data_dir: Path
    log: Path

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def shows(self, text: str) -> bool:
        """Whether the stack printed `text` (the banner follows the first healthy answer)."""
        deadline = time.monotonic() + 30  # a loaded CI machine prints late
        while text not in self.output():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)
        return True

    def post(self, path: str, who: dict[str, str] | None, body: Any = None, *,
             key: bool = True) -> Any:
        headers = {**(who or {})}
        if key:
            headers["Idempotency-Key"] = f"key-{uuid.uuid4().hex}"
        url = path if path.startswith("http") else self.api + path
        response = requests.post(url, json=body, headers=headers, timeout=10)
        assert response.status_code in (200, 201), (path, response.status_code, response.text)
        return response.json()

    def get(self, path: str, who: dict[str, str] | None = None) -> Any:
        url = path if path.startswith("http") else self.api + path
        response = requests.get(url, headers=who or {}, timeout=10)
        assert response.status_code == 200, (path, response.status_code, response.text)
        return response.json()

    def now(self) -> datetime:
        """The stack's platform clock, as its health check shows it."""
        return datetime.fromisoformat(self.get("/v1/health")["clock"])

    def clock(self, *args: str) -> str:
        """`python -m infra.cli clock ...` on this stack's data; its output."""
        done = subprocess.run(
            [sys.executable, "-m", "infra.cli", "clock", *args], cwd=ROOT, capture_output=True,
            text=True, timeout=60, env={**os.environ, "LOCAL_DATA_DIR": str(self.data_dir)},
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def status(self, path: str) -> int:
        return requests.get(self.api + path if path.startswith("/v1") else path,
                            timeout=10).status_code

    def stop(self, signum: signal.Signals) -> int:
        self.process.send_signal(signum)
        return self.process.wait(timeout=STOP_TIMEOUT_S)

    def assert_stopped_cleanly(self, code: int) -> None:
        output = self.output()
        assert code == 0, output
        assert "local stack stopped" in output
        assert all(port_is_free(port) for port in self.ports), output
        assert processes_using(self.data_dir) == [], output
        assert not (self.data_dir / "stack.json").exists()


def processes_using(data_dir: Path) -> list[int]:
    """Processes whose command line names `data_dir` (DynamoDB Local's -dbPath); Linux only."""
    proc = Path("/proc")
    if not proc.is_dir():
        return []
    found = []
    for entry in proc.iterdir():
        if entry.name.isdigit() and entry.name != str(os.getpid()):
            try:
                if str(data_dir).encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def wait_healthy(stack: Stack) -> float:
    began = time.monotonic()
    while time.monotonic() - began < STARTUP_TIMEOUT_S:
        if stack.process.poll() is not None:
            pytest.fail(f"the stack exited with {stack.process.returncode}:\n{stack.output()}")
        try:
            if requests.get(stack.api + "/v1/health", timeout=1).status_code == 200:
                return time.monotonic() - began
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    pytest.fail(f"no healthy API within {STARTUP_TIMEOUT_S}s:\n{stack.output()}")


def eventually(probe: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if probe():
            return
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


StartStack = Callable[..., Stack]


@pytest.fixture
def start_stack(tmp_path: Path) -> Iterator[StartStack]:
    """Start `python -m infra.local` on free ports; the data folder is tmp_path/data unless
    given (the same folder again is a restart)."""
    started: list[Stack] = []

    def start(*args: str, engine: str = "dynamodb-local", data_dir: Path | None = None,
              env: dict[str, str] | None = None) -> Stack:
        ports = {name: free_port() for name in ("API_PORT", "BANK_PORT", "MOTO_PORT",
                                                "DYNAMODB_PORT")}
        folder = data_dir or tmp_path / "data"
        environment = {
            **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
            **{name: str(port) for name, port in ports.items()},
            "LOCAL_ENGINE": engine,
            "LOCAL_DATA_DIR": str(folder),
            "AUTH_HS256_SECRET": AUTH_SECRET,
            "BANK_WEBHOOK_SECRET": BANK_SECRET,
            "SCHEDULE_SECONDS": "2",
            "LOCAL_START_TIME": DAYTIME,  # lessons are recorded in hours they may be taught
            **(env or {}),
        }
        log = tmp_path / f"stack-{len(started)}.log"
        with log.open("wb") as sink:
            process = subprocess.Popen(
                [sys.executable, "-m", "infra.local", *args],
                cwd=ROOT, env=environment, stdout=sink, stderr=subprocess.STDOUT,
            )
        stack = Stack(process, f"http://127.0.0.1:{ports['API_PORT']}",
                      f"http://127.0.0.1:{ports['BANK_PORT']}", tuple(ports.values()), folder,
                      log)
        started.append(stack)
        wait_healthy(stack)
        return stack

    yield start
    for stack in started:
        if stack.process.poll() is None:  # a failed test: stop it the way Ctrl-C would
            stack.process.send_signal(signal.SIGINT)
            try:
                stack.process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                stack.process.kill()
                stack.process.wait()
        for pid in processes_using(stack.data_dir):
            os.kill(pid, signal.SIGKILL)


# ---------------------------------------------------------------- the platform, over HTTP


@dataclass
class Shop:
    """A whitelisted institution with an approved course, and a parent's paid order."""

    stack: Stack
    institution_id: str
    course_id: str
    order_id: str
    amount_fen: int
    teacher_id: str

    def order(self) -> Any:
        return self.stack.get(f"/v1/orders/{self.order_id}", self.parent())

    def balance(self, account: str) -> int:
        return int(self.stack.get(f"{self.stack.bank}/accounts/{account}")["balance_fen"])

    def teach(self) -> str:
        """Move the platform clock two hours on and record the lesson taught in them."""
        self.stack.clock("advance", "2h")
        ended = self.stack.now() - timedelta(minutes=5)
        lesson = self.stack.post("/v1/lessons", self.staff(), {
            "course_id": self.course_id, "started_at": (ended - timedelta(hours=1)).isoformat(),
            "ended_at": ended.isoformat(), "teacher_id": self.teacher_id,
            "order_ids": [self.order_id],
        })
        [consumption] = lesson["consumptions"]
        return str(consumption["consumption_id"])

    def teach_and_confirm(self) -> str:
        """Record a lesson (two hours on) and confirm it as the parent."""
        consumption_id = self.teach()
        confirmed = self.stack.post(f"/v1/consumptions/{consumption_id}/confirm",
                                    self.parent(), key=False)
        assert confirmed["status"] == "confirmed"
        return consumption_id

    def staff(self) -> dict[str, str]:
        return token("staff-1", "institution", now=self.stack.now(),
                     institution_id=self.institution_id)

    def parent(self) -> dict[str, str]:
        return token("parent-1", "parent", now=self.stack.now())

    def released(self, lessons: int) -> bool:
        money = self.order()
        return bool(money["released_fen"] == lessons * PRICE
                    and self.balance(GENERAL) == lessons * PRICE)


def open_shop(stack: Stack) -> Shop:
    now = stack.now()
    regulator = token("reg-1", "regulator", now=now, region="440106", department="culture")
    applicant = token("applicant-1", "institution", now=now)
    institution = stack.post("/v1/institutions", applicant, {
        "name": "示例艺术培训学校", "uscc": "91440106MA5CQ8XK31",
        "permit_number": "教民1440106700002号", "training_type": "non_subject",
        "discipline": "arts", "mode": "offline", "region_code": "440106",
        "address": "广州市天河区体育西路1号",
        "custodian": {"bank": "示例银行", "supervised_account": SUPERVISED,
                      "general_account": GENERAL},
    })["institution_id"]
    staff = token("staff-1", "institution", now=now, institution_id=institution)
    today = now.astimezone(SHANGHAI).date().isoformat()
    teacher = stack.post("/v1/staff", staff, {"name": "李老师", "role": "teacher",
                                               "id_number": "11010519491231002X"})["staff_id"]
    stack.post(f"/v1/staff/{teacher}/consent", staff, {"signed_on": today}, key=False)
    stack.post(f"/v1/regulator/staff/{teacher}/background-check", regulator,
               {"result": "passed", "checked_on": today}, key=False)
    approved = stack.post(f"/v1/regulator/institutions/{institution}/approve", regulator, {},
                          key=False)
    assert approved["status"] == "whitelisted"
    course = stack.post("/v1/courses", staff, {
        "title": "少儿美术基础班", "discipline": "arts", "mode": "offline", "lesson_minutes": 60,
        "class_size": 12, "price_per_lesson_fen": PRICE, "lessons_total": 30,
        **course_dates(now.astimezone(SHANGHAI).date()),
        "timetable": [{"weekday": 6, "starts_at": "09:00"}],
    })["course_id"]
    stack.post(f"/v1/regulator/courses/{course}/approve", regulator, {}, key=False)
    parent = token("parent-1", "parent", now=now)
    student = stack.post("/v1/students", parent, {"name": "小明", "grade": "三年级"})["student_id"]

    order = stack.post("/v1/orders", parent,
                       {"course_id": course, "student_id": student, "lessons": LESSONS})
    stack.post(f"{stack.bank}/payments", None, {
        "payer_account": "PAYER-parent-1", "to_account": order["payment"]["account"],
        "payment_reference": order["payment"]["reference"], "amount_fen": order["amount_fen"],
    }, key=False)
    shop = Shop(stack, institution, course, order["order_id"], order["amount_fen"], teacher)
    eventually(lambda: shop.order()["status"] == "paid", "the bank's payment callback")
    return shop


# ---------------------------------------------------------------- tests


@needs_dynamodb_local
def test_a_confirmed_lesson_is_released_to_the_general_account_and_ctrl_c_stops_it_all(
    start_stack: StartStack,
) -> None:
    stack = start_stack()
    assert stack.shows("(DynamoDB Local; data kept in")
    shop = open_shop(stack)

    consumption = shop.teach_and_confirm()
    eventually(lambda: shop.released(1),
               "the settlement consumer and the bank's transfer callback")
    money = shop.order()
    assert (money["held_fen"], money["releasing_fen"], money["lessons_released"]) == (
        shop.amount_fen - PRICE, 0, 1)
    assert stack.get(f"{stack.bank}/instructions/{instruction_id(consumption, 1)}")["succeeded"]

    stack.assert_stopped_cleanly(stack.stop(signal.SIGINT))
    assert (stack.data_dir / "dynamodb").is_dir() and (stack.data_dir / "bank.json").is_file()


@needs_dynamodb_local
def test_a_restart_in_the_middle_of_settlement_releases_the_money_exactly_once(
    start_stack: StartStack,
) -> None:
    """Two releases are cut off by the stop: one executed at the bank whose callback was still
    queued there, one reserved on the order but never instructed (the bank was down)."""
    first = start_stack()
    shop = open_shop(first)

    first.post(f"{first.bank}/faults", None, {"hold_callbacks": True}, key=False)
    executed = shop.teach_and_confirm()
    eventually(lambda: first.status(f"{first.bank}/instructions/"
                                    f"{instruction_id(executed, 1)}") == 200,
               "the bank executing the first release")
    first.post(f"{first.bank}/faults", None, {"unavailable": True}, key=False)
    reserved = shop.teach_and_confirm()
    eventually(lambda: shop.order()["releasing_fen"] == 2 * PRICE, "both releases reserved")
    assert shop.balance(GENERAL) == PRICE  # executed at the bank, not yet told the platform
    assert shop.order()["released_fen"] == 0
    # The bank is down: asked about the second release it cannot answer (503), and the
    # general account above shows it moved nothing for it.
    assert first.status(f"{first.bank}/instructions/{instruction_id(reserved, 1)}") == 503

    first.assert_stopped_cleanly(first.stop(signal.SIGINT))

    second = start_stack(data_dir=first.data_dir)
    assert second.shows("recovered     2 consumption(s)")
    shop.stack = second
    eventually(lambda: shop.released(2), "both releases finished after the restart")
    time.sleep(1)  # a late duplicate would show now
    money = shop.order()
    assert (money["held_fen"], money["releasing_fen"], money["released_fen"],
            money["lessons_released"]) == (shop.amount_fen - 2 * PRICE, 0, 2 * PRICE, 2)
    assert shop.balance(GENERAL) == 2 * PRICE
    assert shop.balance(SUPERVISED) == shop.amount_fen - 2 * PRICE
    for consumption in (executed, reserved):
        outcome = second.get(f"{second.bank}/instructions/{instruction_id(consumption, 1)}")
        assert outcome["succeeded"] is True
    for account in (GENERAL, SUPERVISED):
        assert second.get(f"{second.bank}/accounts/{account}")["in_flight_fen"] == 0

    second.assert_stopped_cleanly(second.stop(signal.SIGINT))


@needs_dynamodb_local
def test_silence_confirms_a_lesson_once_the_clock_is_moved_past_its_deadline(
    start_stack: StartStack,
) -> None:
    """The platform clock starts where LOCAL_START_TIME says on fresh data, moves forward
    with `infra.cli clock advance`, and is kept with the data across a restart."""
    stack = start_stack(env={"LOCAL_START_TIME": "2026-11-02T09:00:00+08:00"})
    started = stack.now()
    assert timedelta(0) <= started - datetime(2026, 11, 2, 9, tzinfo=SHANGHAI) < timedelta(
        minutes=5)
    assert stack.shows("ahead of real time") or started < datetime.now(SHANGHAI)
    shop = open_shop(stack)
    consumption = shop.teach()
    [pending] = stack.get("/v1/consumptions?status=pending_confirmation",
                          shop.parent())["items"]
    assert (pending["consumption_id"], pending["confirm_by"]) == (consumption, "2026-11-23")

    time.sleep(3)  # a schedule round passes: not due yet
    assert shop.order()["lessons_pending_confirmation"] == 1
    shown = stack.clock("advance", "22d")
    assert "platform time  2026-11-24" in shown
    eventually(lambda: shop.released(1), "auto-confirm and the release", timeout=30)
    time.sleep(3)  # another round of every schedule: nothing more happens
    money = shop.order()
    assert (money["released_fen"], money["lessons_released"],
            money["lessons_pending_confirmation"]) == (PRICE, 1, 0)
    [released] = stack.get("/v1/consumptions?status=released", shop.parent())["items"]
    assert released["confirmed_by"] == "auto"
    assert stack.get(f"{stack.bank}/instructions/{instruction_id(consumption, 1)}")["succeeded"]
    assert stack.status(f"{stack.bank}/instructions/{instruction_id(consumption, 2)}") == 404

    before_stop = stack.now()
    stack.assert_stopped_cleanly(stack.stop(signal.SIGINT))
    again = start_stack(data_dir=stack.data_dir,
                        env={"LOCAL_START_TIME": "2026-01-01T00:00:00+08:00"})
    assert again.now() >= before_stop  # kept with the data: never backwards
    assert "LOCAL_START_TIME ignored" in again.output()
    again.assert_stopped_cleanly(again.stop(signal.SIGINT))


def test_seed_prints_working_tokens_and_sigterm_stops_it(start_stack: StartStack) -> None:
    stack = start_stack("--seed", engine="moto")
    eventually(lambda: "export PARENT=" in stack.output(), "the demo data", timeout=20)
    assert stack.shows("(moto, all-Python, in memory: data ends with the stack)")
    exports = {
        name: value
        for line in stack.output().splitlines() if line.strip().startswith("export ")
        for name, value in re.findall(r"\b([A-Z]+)=(\S+)", line)
    }
    parent = {"Authorization": f"Bearer {exports['PARENT']}"}

    courses = stack.get(f"/v1/institutions/{exports['INS']}/courses", parent)["items"]
    assert [c["course_id"] for c in courses] == [exports["CRS"]]
    students = stack.get("/v1/students", parent)["items"]
    assert [s["student_id"] for s in students] == [exports["STU"]]

    stack.assert_stopped_cleanly(stack.stop(signal.SIGTERM))


def test_without_java_it_falls_back_to_moto_and_says_so(
    start_stack: StartStack, tmp_path: Path,
) -> None:
    no_java = tmp_path / "bin-without-java"
    no_java.mkdir()
    stack = start_stack(env={"PATH": str(no_java)})
    assert stack.shows("this run's data will not survive a restart")
    output = stack.output()
    assert "DynamoDB Local is not available: DynamoDB Local needs Java 17+" in output
    assert "will NOT survive a restart" in output
    shop = open_shop(stack)
    assert shop.order()["paid_fen"] == shop.amount_fen
    assert not (stack.data_dir / "bank.json").exists()

    stack.assert_stopped_cleanly(stack.stop(signal.SIGINT))


def test_the_consumer_deletes_successes_and_redelivers_reported_failures() -> None:
    with mock_aws():
        sqs = boto3.client("sqs", region_name="cn-north-1")
        url = sqs.create_queue(QueueName="work.fifo", Attributes={
            "FifoQueue": "true", "VisibilityTimeout": "180"})["QueueUrl"]
        for n in (1, 2):
            sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"n": n}),
                             MessageGroupId="order-1", MessageDeduplicationId=f"m{n}")
        batches: list[list[int]] = []

        def handler(records: list[dict[str, Any]]) -> dict[str, Any]:
            batches.append([json.loads(r["body"])["n"] for r in records])
            assert all(r["eventSource"] == "aws:sqs" and r["eventSourceARN"].endswith(
                ":work.fifo") for r in records)
            failed = records[1:] if len(batches) == 1 else []
            return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in failed]}

        consumer = QueueConsumer(sqs, url, handler)
        assert consumer.poll_once() == 2
        eventually(lambda: consumer.poll_once() > 0, "the failed message to come back",
                   timeout=10)
        assert batches == [[1, 2], [2]]
        assert consumer.poll_once() == 0
