"""SandboxBank: the custodian bank simulator, in process and over HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

from chalicelib.adapters.bank.errors import (
    BankRequestRejected,
    BankUnavailable,
    InstructionConflict,
)
from chalicelib.adapters.bank.http_gateway import HttpBankGateway
from chalicelib.domain.escrow.bank_signature import InvalidSignature, verify
from chalicelib.service.ports import TransferInstruction
from sandbox.bank import SandboxBank
from sandbox.bank_server import (
    BankHTTPServer,
    DeliveryLoop,
    http_deliverer,
    serve,
    stop,
)

SECRET = "whsec_sandbox"
PAYER = "payer-001"
SUPERVISED = "sup-inst-1"
GENERAL = "gen-inst-1"


class Clock:
    def __init__(self) -> None:
        self.moment = datetime(2024, 9, 2, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.moment

    def unix(self) -> int:
        return int(self.moment.timestamp())


class Platform:
    """Stands in for POST /v1/bank/notifications: records calls, answers scripted statuses."""

    def __init__(self, clock: Clock, statuses: list[int | Exception] | None = None) -> None:
        self.clock = clock
        self.statuses = list(statuses or [])
        self.calls: list[tuple[bytes, dict[str, str]]] = []

    def __call__(self, body: bytes, headers: dict[str, str]) -> int:
        self.calls.append((body, dict(headers)))
        verify(SECRET, headers["X-Bank-Signature"], body, now=self.clock.unix())
        answer = self.statuses.pop(0) if self.statuses else 200
        if isinstance(answer, Exception):
            raise answer
        return answer

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(body) for body, _ in self.calls]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def platform(clock: Clock) -> Platform:
    return Platform(clock)


@pytest.fixture
def bank(clock: Clock, platform: Platform) -> SandboxBank:
    return SandboxBank(SECRET, platform, now=clock)


def move(
    instruction_id: str, amount_fen: int, frm: str = SUPERVISED, to: str = GENERAL
) -> TransferInstruction:
    return TransferInstruction(instruction_id, frm, to, amount_fen)


# ---------------------------------------------------------------- payments


def test_a_payment_moves_money_and_sends_a_signed_payment_received_notification(
    bank: SandboxBank, platform: Platform, clock: Clock
) -> None:
    txn = bank.pay(PAYER, SUPERVISED, "order-1", 12_345)

    assert bank.balance(SUPERVISED) == 12_345
    assert bank.balance(PAYER) == -12_345
    assert platform.calls == []
    assert bank.deliver_pending() == 1
    [(body, headers)] = platform.calls
    assert headers["Content-Type"] == "application/json"
    verify(SECRET, headers["X-Bank-Signature"], body, now=clock.unix())
    event = json.loads(body)
    assert event["type"] == "payment_received"
    assert event["payment_reference"] == "order-1"
    assert event["amount_fen"] == 12_345
    assert event["bank_txn_id"] == txn
    assert event["event_id"].startswith("evt_")
    assert datetime.fromisoformat(event["occurred_at"]) == clock.moment


def test_every_payment_gets_its_own_event_id_and_bank_txn_id(
    bank: SandboxBank, platform: Platform
) -> None:
    first = bank.pay(PAYER, SUPERVISED, "order-1", 100)
    second = bank.pay(PAYER, SUPERVISED, "order-1", 100)
    bank.deliver_pending()

    assert first != second
    assert len({event["event_id"] for event in platform.events()}) == 2


def test_a_non_positive_payment_is_rejected_and_moves_nothing(bank: SandboxBank) -> None:
    for amount in (0, -1):
        with pytest.raises(BankRequestRejected):
            bank.pay(PAYER, SUPERVISED, "order-1", amount)
    assert bank.balance(SUPERVISED) == 0
    assert bank.pending_notifications() == 0


# ---------------------------------------------------------------- instructions


def test_an_instruction_sent_three_times_moves_money_once_and_every_outcome_has_one_event_id(
    bank: SandboxBank, platform: Platform
) -> None:
    bank.pay(PAYER, SUPERVISED, "order-1", 10_000)
    bank.deliver_pending()
    platform.calls.clear()

    for _ in range(3):
        bank.instruct_transfer(move("ins-1", 3_000))

    assert bank.balance(SUPERVISED) == 7_000
    assert bank.balance(GENERAL) == 3_000
    assert bank.instructions_executed() == 1
    assert bank.deliver_pending() == 3
    events = platform.events()
    assert [e["event_id"] for e in events] == ["evt_ins-1_ok"] * 3
    assert len({body for body, _ in platform.calls}) == 1
    assert events[0]["type"] == "transfer_succeeded"
    assert events[0]["instruction_id"] == "ins-1"
    assert events[0]["amount_fen"] == 3_000


def test_a_resend_after_the_outcome_was_acknowledged_requeues_the_same_notification(
    bank: SandboxBank, platform: Platform, clock: Clock
) -> None:
    bank.pay(PAYER, SUPERVISED, "order-1", 10_000)
    bank.instruct_transfer(move("ins-1", 3_000))
    bank.deliver_pending()
    first_body = platform.calls[-1][0]

    clock.moment += timedelta(hours=1)
    bank.instruct_transfer(move("ins-1", 3_000))

    assert bank.pending_notifications() == 1
    assert bank.deliver_pending() == 1
    assert platform.calls[-1][0] == first_body
    assert bank.balance(GENERAL) == 3_000
    assert bank.in_flight(GENERAL) == 0


def test_concurrent_sends_of_one_instruction_move_money_once(
    bank: SandboxBank, platform: Platform
) -> None:
    bank.pay(PAYER, SUPERVISED, "order-1", 10_000)
    start = threading.Barrier(16)

    def send() -> None:
        start.wait()
        bank.instruct_transfer(move("ins-1", 1_000))

    threads = [threading.Thread(target=send) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)

    assert bank.balance(SUPERVISED) == 9_000
    assert bank.balance(GENERAL) == 1_000
    assert bank.instructions_executed() == 1


def test_insufficient_funds_fails_the_instruction_without_moving_money(
    bank: SandboxBank, platform: Platform
) -> None:
    bank.pay(PAYER, SUPERVISED, "order-1", 2_000)
    bank.deliver_pending()

    bank.instruct_transfer(move("ins-1", 2_001))

    assert bank.balance(SUPERVISED) == 2_000
    assert bank.balance(GENERAL) == 0
    outcome = bank.executed_instruction("ins-1")
    assert outcome is not None
    assert not outcome.succeeded
    assert outcome.reason == "insufficient_funds"
    assert bank.in_flight(SUPERVISED) == 0
    bank.deliver_pending()
    event = platform.events()[-1]
    assert event["type"] == "transfer_failed"
    assert event["reason"] == "insufficient_funds"
    assert event["event_id"] == "evt_ins-1_fail"


def test_the_exact_balance_can_be_moved(bank: SandboxBank) -> None:
    bank.pay(PAYER, SUPERVISED, "order-1", 2_000)
    bank.instruct_transfer(move("ins-1", 2_000))

    outcome = bank.executed_instruction("ins-1")
    assert outcome is not None and outcome.succeeded
    assert bank.balance(SUPERVISED) == 0


def test_a_refund_goes_from_the_supervised_account_back_to_the_payer(bank: SandboxBank) -> None:
    bank.pay(PAYER, SUPERVISED, "order-1", 5_000)
    bank.instruct_transfer(move("refund-1", 5_000, frm=SUPERVISED, to=PAYER))

    assert bank.balance(PAYER) == 0
    assert bank.balance(SUPERVISED) == 0


def test_an_unknown_instruction_has_no_outcome(bank: SandboxBank) -> None:
    assert bank.executed_instruction("never-sent") is None
    assert bank.instructions_executed() == 0


def test_an_instruction_id_resent_with_other_contents_is_a_conflict_and_moves_nothing(
    bank: SandboxBank,
) -> None:
    bank.pay(PAYER, SUPERVISED, "order-1", 10_000)
    bank.instruct_transfer(move("ins-1", 1_000))

    with pytest.raises(InstructionConflict):
        bank.instruct_transfer(move("ins-1", 2_000))

    assert bank.balance(GENERAL) == 1_000
    assert bank.pending_notifications() == 2


@pytest.mark.parametrize(
    "instruction",
    [move("ins-1", 0), move("ins-1", -5), move("", 5), move("ins-1", 5, frm=GENERAL)],
)
def test_an_invalid_instruction_is_rejected_and_never_recorded(
    bank: SandboxBank, instruction: TransferInstruction
) -> None:
    bank.pay(PAYER, SUPERVISED, "order-1", 10_000)
    with pytest.raises(BankRequestRejected):
        bank.instruct_transfer(instruction)
    assert bank.instructions_executed() == 0


# ---------------------------------------------------------------- fault injection


def test_fail_next_transfers_fails_exactly_the_next_new_instructions_with_the_reason(
    bank: SandboxBank,
) -> None:
    bank.pay(PAYER, SUPERVISED, "order-1", 10_000)
    bank.fail_next_transfers(2, reason="account_frozen")

    for instruction_id in ("ins-1", "ins-2", "ins-3"):
        bank.instruct_transfer(move(instruction_id, 1_000))

    first, second, third = (bank.executed_instruction(i) for i in ("ins-1", "ins-2", "ins-3"))
    assert first is not None and first.reason == "account_frozen" and not first.succeeded
    assert second is not None and second.reason == "account_frozen"
    assert third is not None and third.succeeded
    assert bank.balance(GENERAL) == 1_000


def test_a_resend_of_a_failed_instruction_repeats_the_failure_and_moves_nothing(
    bank: SandboxBank, platform: Platform
) -> None:
    bank.pay(PAYER, SUPERVISED, "order-1", 10_000)
    bank.fail_next_transfers(1)
    bank.instruct_transfer(move("ins-1", 1_000))

    bank.instruct_transfer(move("ins-1", 1_000))

    assert bank.balance(GENERAL) == 0
    bank.deliver_pending()
    failures = [e for e in platform.events() if e["type"] == "transfer_failed"]
    assert [e["event_id"] for e in failures] == ["evt_ins-1_fail"] * 2
    assert failures[0]["reason"] == "bank_rejected"


def test_an_unavailable_bank_raises_and_executes_nothing_until_it_is_back(
    bank: SandboxBank,
) -> None:
    bank.pay(PAYER, SUPERVISED, "order-1", 10_000)
    bank.set_unavailable(True)

    with pytest.raises(BankUnavailable):
        bank.instruct_transfer(move("ins-1", 1_000))
    assert bank.executed_instruction("ins-1") is None

    bank.set_unavailable(False)
    bank.instruct_transfer(move("ins-1", 1_000))
    assert bank.balance(GENERAL) == 1_000


def test_held_callbacks_wait_for_release_and_are_signed_when_finally_sent(
    bank: SandboxBank, platform: Platform, clock: Clock
) -> None:
    bank.hold_callbacks()
    bank.pay(PAYER, SUPERVISED, "order-1", 500)

    assert bank.deliver_pending() == 0
    assert platform.calls == []

    clock.moment += timedelta(hours=2)
    bank.release_callbacks()
    assert bank.deliver_pending() == 1
    [(body, headers)] = platform.calls
    verify(SECRET, headers["X-Bank-Signature"], body, now=clock.unix())
    with pytest.raises(InvalidSignature):
        verify(SECRET, headers["X-Bank-Signature"], body, now=clock.unix() - 7_200)


def test_in_auto_deliver_mode_release_sends_what_was_held(clock: Clock) -> None:
    platform = Platform(clock)
    bank = SandboxBank(SECRET, platform, now=clock, auto_deliver=True)
    bank.hold_callbacks()
    bank.pay(PAYER, SUPERVISED, "order-1", 500)
    assert platform.calls == []

    bank.release_callbacks()

    assert len(platform.calls) == 1
    assert bank.pending_notifications() == 0


def test_duplicated_callbacks_are_each_delivered_that_many_times_and_acknowledged_once(
    bank: SandboxBank, platform: Platform
) -> None:
    bank.duplicate_callbacks(3)
    bank.pay(PAYER, SUPERVISED, "order-1", 500)

    assert bank.deliver_pending() == 1
    assert len(platform.calls) == 3
    assert len({e["event_id"] for e in platform.events()}) == 1
    assert bank.pending_notifications() == 0


@pytest.mark.parametrize("failure", [500, 401, 302, ConnectionError("platform down")])
def test_a_notification_not_acknowledged_with_2xx_is_kept_and_retried(
    clock: Clock, failure: int | Exception
) -> None:
    platform = Platform(clock, statuses=[failure])
    bank = SandboxBank(SECRET, platform, now=clock)
    bank.pay(PAYER, SUPERVISED, "order-1", 500)

    assert bank.deliver_pending() == 0
    assert bank.pending_notifications() == 1
    assert bank.in_flight(SUPERVISED) == 500

    assert bank.deliver_pending() == 1
    assert bank.pending_notifications() == 0
    assert bank.in_flight(SUPERVISED) == 0
    assert platform.calls[0][0] == platform.calls[1][0]


def test_a_rejected_notification_does_not_block_later_ones_and_keeps_its_place(
    clock: Clock,
) -> None:
    platform = Platform(clock, statuses=[503, 200, 200])
    bank = SandboxBank(SECRET, platform, now=clock)
    bank.pay(PAYER, SUPERVISED, "order-1", 100)
    bank.pay(PAYER, SUPERVISED, "order-2", 200)

    assert bank.deliver_pending() == 1
    bank.pay(PAYER, SUPERVISED, "order-3", 300)
    assert bank.deliver_pending() == 2

    refs = [e["payment_reference"] for e in platform.events()]
    assert refs == ["order-1", "order-2", "order-1", "order-3"]


def test_in_flight_is_the_money_moved_that_the_platform_has_not_acknowledged(
    bank: SandboxBank,
) -> None:
    bank.pay(PAYER, SUPERVISED, "order-1", 10_000)
    bank.instruct_transfer(move("ins-1", 3_000))
    bank.instruct_transfer(move("ins-1", 3_000))
    bank.instruct_transfer(move("ins-2", 99_999))

    assert bank.in_flight(SUPERVISED) == 7_000
    assert bank.in_flight(GENERAL) == 3_000
    assert bank.in_flight(PAYER) == -10_000
    for account in (SUPERVISED, GENERAL, PAYER):
        assert bank.balance(account) - bank.in_flight(account) == 0

    assert bank.deliver_pending() == 4
    assert bank.in_flight(SUPERVISED) == 0
    assert bank.in_flight(GENERAL) == 0
    assert bank.balance(SUPERVISED) - bank.in_flight(SUPERVISED) == 7_000


def test_the_platform_may_call_the_bank_while_handling_a_notification(clock: Clock) -> None:
    calls: list[dict[str, Any]] = []
    holder: list[SandboxBank] = []

    def platform(body: bytes, headers: dict[str, str]) -> int:
        event = json.loads(body)
        calls.append(event)
        if event["type"] == "payment_received":
            holder[0].instruct_transfer(move("ins-1", 100))
        return 200

    bank = SandboxBank(SECRET, platform, now=clock, auto_deliver=True)
    holder.append(bank)
    worker = threading.Thread(target=bank.pay, args=(PAYER, SUPERVISED, "order-1", 500))
    worker.start()
    worker.join(5)

    assert not worker.is_alive(), "delivery deadlocked"
    assert [e["type"] for e in calls] == ["payment_received", "transfer_succeeded"]
    assert bank.pending_notifications() == 0


def test_a_clock_without_a_timezone_is_refused(platform: Platform) -> None:
    bank = SandboxBank(SECRET, platform, now=lambda: datetime(2024, 9, 2, 8, 0))
    with pytest.raises(ValueError):
        bank.pay(PAYER, SUPERVISED, "order-1", 500)
    assert bank.balance(SUPERVISED) == 0


# ---------------------------------------------------------------- over HTTP


@pytest.fixture
def served(bank: SandboxBank) -> Iterator[BankHTTPServer]:
    server, thread = serve(bank, 0)
    yield server
    stop(server, thread)


def call(method: str, url: str, payload: dict[str, Any] | None = None) -> tuple[int, Any]:
    data = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, json.loads(exc.read())


def test_the_http_server_listens_on_loopback_only_on_an_ephemeral_port(
    served: BankHTTPServer,
) -> None:
    host, port = served.server_address[:2]
    assert host == "127.0.0.1"
    assert port != 0


def test_payments_and_instructions_round_trip_over_http(
    served: BankHTTPServer, bank: SandboxBank
) -> None:
    base = served.base_url
    gateway = HttpBankGateway(base)

    status, paid = call(
        "POST",
        f"{base}/payments",
        {
            "payer_account": PAYER,
            "to_account": SUPERVISED,
            "payment_reference": "order-1",
            "amount_fen": 10_000,
        },
    )
    assert status == 200 and paid["bank_txn_id"].startswith("btx_")

    gateway.instruct_transfer(move("ins-1", 4_000))
    gateway.instruct_transfer(move("ins-1", 4_000))

    assert call("GET", f"{base}/accounts/{SUPERVISED}") == (
        200,
        {"account": SUPERVISED, "balance_fen": 6_000, "in_flight_fen": 6_000},
    )
    assert bank.balance(GENERAL) == 4_000
    assert bank.instructions_executed() == 1
    status, outcome = call("GET", f"{base}/instructions/ins-1")
    assert status == 200 and outcome["succeeded"] is True
    assert outcome["event_id"] == "evt_ins-1_ok"
    assert call("GET", f"{base}/instructions/nope")[0] == 404
    assert call("POST", f"{base}/deliver", {}) == (200, {"acknowledged": 3})


def test_faults_set_over_http_reach_the_gateway(served: BankHTTPServer, bank: SandboxBank) -> None:
    base = served.base_url
    gateway = HttpBankGateway(base)
    bank.pay(PAYER, SUPERVISED, "order-1", 10_000)

    assert call("POST", f"{base}/faults", {"fail_next_transfers": 1, "reason": "frozen"})[0] == 200
    gateway.instruct_transfer(move("ins-1", 1_000))
    failed = bank.executed_instruction("ins-1")
    assert failed is not None and failed.reason == "frozen"

    call("POST", f"{base}/faults", {"unavailable": True})
    with pytest.raises(BankUnavailable):
        gateway.instruct_transfer(move("ins-2", 1_000))
    with pytest.raises(BankUnavailable):  # nor can it say what it did with an instruction
        gateway.executed("ins-1")
    call("POST", f"{base}/faults", {"unavailable": False, "duplicate_callbacks": 2})
    gateway.instruct_transfer(move("ins-2", 1_000))
    assert bank.balance(GENERAL) == 1_000

    assert call("POST", f"{base}/faults", {"explode": True})[0] == 400
    assert call("POST", f"{base}/faults", {"duplicate_callbacks": 0})[0] == 400
    assert call("POST", f"{base}/faults", {"fail_next_transfers": True})[0] == 400
    gateway.instruct_transfer(move("ins-3", 1_000))
    assert bank.balance(GENERAL) == 2_000


def test_the_gateway_maps_rejections_and_conflicts(
    served: BankHTTPServer, bank: SandboxBank
) -> None:
    gateway = HttpBankGateway(served.base_url)
    bank.pay(PAYER, SUPERVISED, "order-1", 10_000)
    gateway.instruct_transfer(move("ins-1", 1_000))

    with pytest.raises(InstructionConflict):
        gateway.instruct_transfer(move("ins-1", 9_000))
    with pytest.raises(BankRequestRejected) as rejected:
        gateway.instruct_transfer(move("ins-2", 0))
    assert rejected.value.status == 400
    assert bank.balance(GENERAL) == 1_000


def test_the_gateway_reports_an_unreachable_bank_as_unavailable(bank: SandboxBank) -> None:
    server, thread = serve(bank, 0)
    base = server.base_url
    stop(server, thread)

    with pytest.raises(BankUnavailable):
        HttpBankGateway(base, timeout=2).instruct_transfer(move("ins-1", 1))


def test_malformed_http_requests_get_400_and_unknown_paths_404(served: BankHTTPServer) -> None:
    base = served.base_url
    assert call("POST", f"{base}/payments", {"payer_account": PAYER})[0] == 400
    assert (
        call(
            "POST",
            f"{base}/instructions",
            {
                "instruction_id": "i",
                "from_account": SUPERVISED,
                "to_account": GENERAL,
                "amount_fen": True,
            },
        )[0]
        == 400
    )
    assert call("GET", f"{base}/nowhere")[0] == 404


class _Receiver(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[bytes, str | None]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((body, self.headers.get("X-Bank-Signature")))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_the_delivery_loop_posts_signed_notifications_to_the_platform_url() -> None:
    _Receiver.received = []
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    receiver_thread = threading.Thread(
        target=receiver.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    receiver_thread.start()
    url = f"http://127.0.0.1:{receiver.server_address[1]}/v1/bank/notifications"
    bank = SandboxBank(SECRET, http_deliverer(url))
    loop = DeliveryLoop(bank, interval_ms=10).start()
    try:
        bank.pay(PAYER, SUPERVISED, "order-1", 700)
        deadline = time.monotonic() + 5
        while bank.pending_notifications() and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        loop.stop()
        receiver.shutdown()
        receiver.server_close()
        receiver_thread.join(5)

    assert bank.pending_notifications() == 0
    [(body, signature)] = _Receiver.received
    verify(SECRET, signature, body, now=int(time.time()))
    assert json.loads(body)["amount_fen"] == 700


# ---------------------------------------------------------------- a simulation's control


def test_a_simulation_delivers_one_notification_out_of_turn_or_loses_it_for_good(
    bank: SandboxBank, platform: Platform
) -> None:
    bank.pay(PAYER, SUPERVISED, "order-1", 50_000)
    bank.instruct_transfer(move("ins-1", 10_000))
    bank.instruct_transfer(move("ins-2", 20_000))
    queued = bank.notifications()
    assert [json.loads(body)["type"] for _, _, body in queued] == [
        "payment_received", "transfer_succeeded", "transfer_succeeded"]

    assert bank.deliver_one(queued[2][0], copies=2)  # the last one first, twice
    assert [e.get("instruction_id") for e in platform.events()] == ["ins-2", "ins-2"]
    bank.drop_notification(queued[1][0])  # ins-1's outcome: lost for good
    assert [seq for seq, _, _ in bank.notifications()] == [queued[0][0]]
    assert not bank.deliver_one(queued[1][0])  # gone: nothing sent
    assert len(platform.calls) == 2
    assert bank.in_flight(GENERAL) == 10_000  # the platform was never told of ins-1
    assert sorted((o.instruction.instruction_id, o.succeeded) for o in bank.outcomes()) == [
        ("ins-1", True), ("ins-2", True)]


def test_a_notification_the_platform_refuses_stays_queued(clock: Clock) -> None:
    platform = Platform(clock, [500])
    bank = SandboxBank(SECRET, platform, now=clock)
    bank.pay(PAYER, SUPERVISED, "order-1", 1_000)
    (seq, _, _), = bank.notifications()
    assert not bank.deliver_one(seq)
    assert bank.deliver_one(seq)
    assert bank.notifications() == []
