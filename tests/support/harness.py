"""A whole platform in one process: the Chalice app over chalice.test.Client (in front of the
gateway as the province template configures it, infra/local/gateway.py), the settlement
worker fed realistic SQS events from the real (moto or DynamoDB Local) queue, the sandbox
bank delivering signed callbacks, a manual clock, and the invariant checks."""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import jwt
from chalice.test import Client

import app as chalice_app
from chalicelib import bootstrap
from chalicelib.adapters.clock import ManualClock
from chalicelib.adapters.push import LoggedPush
from chalicelib.adapters.tokens import mint_hs256
from chalicelib.settings import Settings
from infra.local.gateway import PlatformTestClient
from infra.resources import DataPlane
from sandbox.bank import SandboxBank
from tests.support import invariants

AUTH_SECRET = "test-auth-secret-0123456789abcdef"
BANK_SECRET = "test-bank-secret-0123456789abcdef"
ISSUER = "ots-test"
AUDIENCE = "ots-platform"
TOKEN_TTL_SECONDS = 90 * 24 * 3600  # tests move the clock forward by weeks
REGISTERED = frozenset({"sub", "role", "iss", "aud", "iat", "exp", "nbf"})
"""The claims `token` sets itself; the rest (institution, region, department) are the caller's."""


def settings_for(plane: DataPlane) -> Settings:
    return Settings(
        stage="test",
        province_code="44",
        platform_table=plane.platform_table,
        journal_table=plane.journal_table,
        settlement_queue_url=plane.settlement_queue_url,
        sweep_queue_url=plane.sweep_queue_url,
        liquidation_queue_url=plane.liquidation_queue_url,
        complaint_queue_url=plane.complaint_queue_url,
        auth_issuer=ISSUER,
        auth_audience=AUDIENCE,
        auth_hs256_secret=AUTH_SECRET,
        bank_webhook_secret=BANK_SECRET,
    )


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def code(self) -> str:
        error = self.body.get("error") if isinstance(self.body, dict) else None
        return str(error["code"]) if isinstance(error, dict) else ""


@dataclass
class Platform:
    client: Client
    dynamodb: Any
    sqs: Any
    plane: DataPlane
    bank: SandboxBank
    clock: ManualClock
    metrics: RecordedMetrics
    pushed: LoggedPush
    worker_invocations: int = 0

    # tokens and HTTP

    def token(self, sub: str, role: str, **claims: str) -> dict[str, str]:
        token = mint_hs256(
            AUTH_SECRET, issuer=ISSUER, audience=AUDIENCE, sub=sub, role=role,
            now=int(self.clock.now().timestamp()), ttl_seconds=TOKEN_TTL_SECONDS, **claims,
        )
        return {"Authorization": f"Bearer {token}"}

    def signed_in(self, who: dict[str, str]) -> dict[str, str]:
        """`who` as a client keeps it: a token past its expiry on the platform's clock is
        replaced, in `who` itself, by a new one with the same claims (the client signs in
        again), so a run longer than a token's life goes on with its people as they were.
        Anything that is not a token of ours is left as it is."""
        scheme, _, token = who.get("Authorization", "").partition(" ")
        try:
            claims = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            return who
        if scheme != "Bearer" or claims.get("exp", 0) > self.clock.now().timestamp():
            return who
        kept = {k: str(v) for k, v in claims.items() if k not in REGISTERED}
        who.update(self.token(str(claims["sub"]), str(claims["role"]), **kept))
        return who

    def request(
        self, method: str, path: str, who: dict[str, str] | None = None, body: Any = None, *,
        key: str | None = None, raw: bytes | str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        all_headers = {"Content-Type": "application/json", **(who or {}), **(headers or {})}
        if key is not None:
            all_headers["Idempotency-Key"] = key
        payload = raw if raw is not None else (json.dumps(body) if body is not None else "")
        response = self.client.http.request(method, path, headers=all_headers, body=payload)
        try:
            parsed = json.loads(response.body) if response.body else None
        except ValueError:
            parsed = response.body
        return Reply(response.status_code, parsed, dict(response.headers))

    def post(self, path: str, who: dict[str, str] | None, body: Any = None, **kw: Any) -> Reply:
        if "key" not in kw and body is not None:
            kw["key"] = f"key-{uuid.uuid4().hex}"
        return self.request("POST", path, who, body, **kw)

    def get(self, path: str, who: dict[str, str] | None = None) -> Reply:
        return self.request("GET", path, who)

    # the bank's callbacks and the settlement queue

    def deliver_to_platform(self, body: bytes, headers: dict[str, str]) -> int:
        response = self.client.http.post("/v1/bank/notifications", headers=headers, body=body)
        return int(response.status_code)

    def receive_settlement(self, max_messages: int = 10) -> list[dict[str, Any]]:
        return self._receive(self.plane.settlement_queue_url, max_messages)

    def _receive(self, queue_url: str, max_messages: int) -> list[dict[str, Any]]:
        response = self.sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=max_messages,
            AttributeNames=["All"],
            VisibilityTimeout=30,
        )
        return list(response.get("Messages", []))

    def invoke_worker(
        self, messages: list[dict[str, Any]], function: str = "settlement"
    ) -> set[str]:
        """Invoke a queue's Lambda with these messages; return the failed message ids."""
        queue_url = self._queue_of(function)
        event = {"Records": [lambda_record(m, queue_url) for m in messages]}
        self.worker_invocations += 1
        payload = self.client.lambda_.invoke(function, event).payload
        return {f["itemIdentifier"] for f in payload["batchItemFailures"]}

    def run_worker(
        self, messages: list[dict[str, Any]], function: str = "settlement"
    ) -> list[str]:
        """Invoke the worker, then delete what succeeded and make the failures visible again,
        as Lambda's partial batch response does. Returns the failed ids."""
        queue_url = self._queue_of(function)
        failed = self.invoke_worker(messages, function)
        for message in messages:
            if message["MessageId"] in failed:
                self.sqs.change_message_visibility(
                    QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"],
                    VisibilityTimeout=0,
                )
            else:
                self.sqs.delete_message(QueueUrl=queue_url,
                                        ReceiptHandle=message["ReceiptHandle"])
        return sorted(failed)

    def _queue_of(self, function: str) -> str:
        return {"settlement": self.plane.settlement_queue_url,
                "sweep": self.plane.sweep_queue_url,
                "liquidation": self.plane.liquidation_queue_url,
                "complaint": self.plane.complaint_queue_url}[function]

    def drain_settlement(self, rounds: int = 20) -> None:
        for _ in range(rounds):
            messages = self.receive_settlement()
            if not messages:
                return
            self.run_worker(messages)

    def drain_sweeps(self, rounds: int = 200) -> None:
        """Run the sweep worker, one task per invocation (its batch size), until its queue is
        empty: continuations included."""
        for _ in range(rounds):
            messages = self._receive(self.plane.sweep_queue_url, 1)
            if not messages:
                return
            self.run_worker(messages, "sweep")

    def drain_liquidation(self, rounds: int = 200) -> int:
        """Run the liquidation worker, ten orders per invocation, until its queue is empty;
        how many messages it was given."""
        given = 0
        for _ in range(rounds):
            messages = self._receive(self.plane.liquidation_queue_url, 10)
            if not messages:
                return given
            given += len(messages)
            self.run_worker(messages, "liquidation")
        return given

    def drain_complaints(self, rounds: int = 50) -> int:
        """Run the complaint worker, ten complaints per invocation, until its queue is
        empty; how many messages it was given."""
        given = 0
        for _ in range(rounds):
            messages = self._receive(self.plane.complaint_queue_url, 10)
            if not messages:
                return given
            given += len(messages)
            self.run_worker(messages, "complaint")
        return given

    def lose_settlement_messages(self) -> int:
        """Take every queued settlement message away for good (a lost message)."""
        lost = 0
        while messages := self.receive_settlement():
            for message in messages:
                self.sqs.delete_message(
                    QueueUrl=self.plane.settlement_queue_url,
                    ReceiptHandle=message["ReceiptHandle"],
                )
                lost += 1
        return lost

    def settle_everything(self, rounds: int = 10) -> None:
        """Run the queue and the bank's callbacks until nothing moves."""
        for _ in range(rounds):
            self.drain_settlement()
            if self.bank.deliver_pending() == 0 and not self.receive_peek():
                return

    def receive_peek(self) -> bool:
        return self.queued_settlements() > 0

    def queued_settlements(self) -> int:
        """Settlement messages waiting on the queue."""
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.plane.settlement_queue_url,
            AttributeNames=["ApproximateNumberOfMessages"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"])

    def run_schedule(self, name: str) -> Any:
        """Invoke a scheduled function, then the sweep worker on the tasks it fanned out."""
        event = {"detail-type": "Scheduled Event", "source": "aws.events", "detail": {},
                 "id": str(uuid.uuid4()), "region": "cn-north-1", "resources": [],
                 "time": self.clock.now().isoformat(), "account": "123456789012",
                 "version": "0"}
        payload = self.client.lambda_.invoke(name, event).payload
        self.drain_sweeps()
        return payload

    def advance(self, **delta: float) -> None:
        self.clock.advance(timedelta(**delta))

    # invariants

    def check(self) -> None:
        invariants.check_all(self.dynamodb, self.plane, self.bank)


def lambda_record(message: dict[str, Any], queue_url: str) -> dict[str, Any]:
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": {},
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws-cn:sqs:cn-north-1:123456789012:"
        + queue_url.rsplit("/", 1)[-1],
        "awsRegion": "cn-north-1",
    }


@dataclass
class RecordedMetrics:
    """The Metrics port, keeping what the platform reported."""

    gauges: list[tuple[str, int]] = field(default_factory=list)

    def gauge(self, name: str, value: int) -> None:
        self.gauges.append((name, value))

    def last(self, name: str) -> int | None:
        values = [value for gauge, value in self.gauges if gauge == name]
        return values[-1] if values else None


def start(dynamodb: Any, sqs: Any, plane: DataPlane, clock: ManualClock,
          bank_tokens: random.Random | None = None) -> Platform:
    """The platform on these clients; `bank_tokens` names the sandbox bank's transactions
    from a seed (the simulator's replays), else they are random."""
    platform: Platform
    tokens = {} if bank_tokens is None else {
        "new_token": lambda: f"{bank_tokens.getrandbits(128):032x}"}
    bank = SandboxBank(BANK_SECRET, lambda body, headers: platform.deliver_to_platform(
        body, headers), now=clock.now, **tokens)
    metrics = RecordedMetrics()
    pushed = LoggedPush()
    runtime = bootstrap.build(settings_for(plane), dynamodb=dynamodb, sqs=sqs, bank=bank,
                              clock=clock, metrics=metrics, push=pushed)
    bootstrap.use(runtime)
    client = PlatformTestClient(chalice_app.app, stage_name="test")
    platform = Platform(client, dynamodb, sqs, plane, bank, clock, metrics, pushed)
    return platform
