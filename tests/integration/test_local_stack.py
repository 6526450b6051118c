"""The local stack as a developer runs it: `python -m infra.local` in its own process, driven
over real HTTP (the API and the sandbox bank), stopped by a signal."""

from __future__ import annotations

import json
import os
import re
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

from chalicelib.api.auth import mint_hs256
from infra.local.consumers import QueueConsumer

ROOT = Path(__file__).resolve().parents[2]
AUTH_SECRET = "stack-test-auth-secret-0123456789"
BANK_SECRET = "stack-test-bank-secret-0123456789"
ISSUER = "ots-local"
AUDIENCE = "ots-platform"
STARTUP_TIMEOUT_S = 60
STOP_TIMEOUT_S = 15
SHANGHAI = ZoneInfo("Asia/Shanghai")
PRICE = 15_000


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


def token(sub: str, role: str, **claims: str) -> dict[str, str]:
    minted = mint_hs256(AUTH_SECRET, issuer=ISSUER, audience=AUDIENCE, sub=sub, role=role,
                        ttl_seconds=600, now=int(time.time()), **claims)
    return {"Authorization": f"Bearer {minted}"}


@dataclass
class Stack:
    process: subprocess.Popen[bytes]
    api: str
    bank: str
    ports: tuple[int, ...]
    log: Path

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

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

    def stop(self, signum: signal.Signals) -> int:
        self.process.send_signal(signum)
        return self.process.wait(timeout=STOP_TIMEOUT_S)


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


@pytest.fixture
def start_stack(tmp_path: Path) -> Iterator[Callable[..., Stack]]:
    started: list[Stack] = []

    def start(*args: str) -> Stack:
        api_port, bank_port, moto_port = free_port(), free_port(), free_port()
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
            "API_PORT": str(api_port),
            "BANK_PORT": str(bank_port),
            "MOTO_PORT": str(moto_port),
            "AUTH_HS256_SECRET": AUTH_SECRET,
            "BANK_WEBHOOK_SECRET": BANK_SECRET,
            "SCHEDULE_SECONDS": "2",
        }
        log = tmp_path / f"stack-{len(started)}.log"
        with log.open("wb") as sink:
            process = subprocess.Popen(
                [sys.executable, "-m", "infra.local", *args],
                cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT,
            )
        stack = Stack(process, f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{bank_port}",
                      (api_port, bank_port, moto_port), log)
        started.append(stack)
        wait_healthy(stack)
        return stack

    yield start
    for stack in started:
        if stack.process.poll() is None:
            stack.process.kill()
            stack.process.wait()


def test_a_confirmed_lesson_is_released_to_the_general_account_and_ctrl_c_stops_it_all(
    start_stack: Callable[..., Stack],
) -> None:
    stack = start_stack()
    regulator = token("reg-1", "regulator", region="440106", department="education")
    accounts = {"supervised_account": "SUP-TEST-0001", "general_account": "GEN-TEST-0001"}

    institution = stack.post("/v1/institutions", token("applicant-1", "institution"), {
        "name": "示例艺术培训学校", "uscc": "91440106MA5CQ8XK3T", "training_type": "non_subject",
        "discipline": "arts", "mode": "offline", "region_code": "440106",
        "address": "广州市天河区体育西路1号", "custodian": {"bank": "示例银行", **accounts},
    })["institution_id"]
    approved = stack.post(f"/v1/regulator/institutions/{institution}/approve", regulator, {},
                          key=False)
    assert approved["status"] == "whitelisted"
    staff = token("staff-1", "institution", institution_id=institution)
    course = stack.post("/v1/courses", staff, {
        "title": "少儿美术基础班", "discipline": "arts", "mode": "offline", "lesson_minutes": 60,
        "class_size": 12, "price_per_lesson_fen": PRICE, "lessons_total": 48,
        "starts_on": "2026-09-01", "ends_on": "2027-06-30",
    })["course_id"]
    stack.post(f"/v1/regulator/courses/{course}/approve", regulator, {}, key=False)
    parent = token("parent-1", "parent")
    student = stack.post("/v1/students", parent, {"name": "小明", "grade": "三年级"})["student_id"]

    order = stack.post("/v1/orders", parent,
                       {"course_id": course, "student_id": student, "lessons": 10})
    order_id = order["order_id"]
    stack.post(f"{stack.bank}/payments", None, {
        "payer_account": "PAYER-parent-1", "to_account": order["payment"]["account"],
        "payment_reference": order["payment"]["reference"], "amount_fen": order["amount_fen"],
    }, key=False)
    eventually(lambda: stack.get(f"/v1/orders/{order_id}", parent)["status"] == "paid",
               "the bank's payment callback")

    ended = datetime.now(SHANGHAI) - timedelta(minutes=5)
    lesson = stack.post("/v1/lessons", staff, {
        "course_id": course, "started_at": (ended - timedelta(hours=1)).isoformat(),
        "ended_at": ended.isoformat(), "teacher_id": "tch-001", "order_ids": [order_id],
    })
    [consumption] = lesson["consumptions"]
    pending = stack.get("/v1/consumptions?status=pending_confirmation", parent)["items"]
    assert [c["consumption_id"] for c in pending] == [consumption["consumption_id"]]
    confirmed = stack.post(f"/v1/consumptions/{consumption['consumption_id']}/confirm", parent,
                           key=False)
    assert confirmed["status"] == "confirmed"

    def released() -> bool:
        money = stack.get(f"/v1/orders/{order_id}", parent)
        general = stack.get(f"{stack.bank}/accounts/{accounts['general_account']}")
        return bool(money["released_fen"] == PRICE and general["balance_fen"] == PRICE)

    eventually(released, "the settlement consumer and the bank's transfer callback")
    money = stack.get(f"/v1/orders/{order_id}", parent)
    assert (money["held_fen"], money["releasing_fen"], money["lessons_released"]) == (
        order["amount_fen"] - PRICE, 0, 1)

    assert stack.stop(signal.SIGINT) == 0, stack.output()
    assert all(port_is_free(port) for port in stack.ports), stack.output()
    assert "local stack stopped" in stack.output()


def test_seed_prints_working_tokens_and_sigterm_stops_it(
    start_stack: Callable[..., Stack],
) -> None:
    stack = start_stack("--seed")
    eventually(lambda: "export PARENT=" in stack.output(), "the demo data", timeout=20)
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

    assert stack.stop(signal.SIGTERM) == 0, stack.output()
    assert all(port_is_free(port) for port in stack.ports), stack.output()


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
