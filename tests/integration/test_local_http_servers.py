"""The local stack's HTTP servers (the API, the sandbox bank, the AWS emulator), each started
in-process on 127.0.0.1 and port 0: a burst of 100 connections is queued and every one is
answered, no connection is reset, and keep-alive requests are answered without the delayed-ACK
stall. The API server also answers what no view answers in the error envelope.

Performance figures belong in benchmarks/http_keepalive.py; the time bound here is a
behavioural check, generous against a slow machine.
"""

from __future__ import annotations

import http.client
import json
import socket
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

from chalicelib import bootstrap
from infra.local.api import ApiServer
from infra.local.emulator import Emulator
from infra.resources import create_data_plane
from sandbox.bank import SandboxBank
from sandbox.bank_server import BankHTTPServer
from tests.support.concurrency import race
from tests.support.harness import BANK_SECRET, settings_for

HOST = "127.0.0.1"
BURST = 100
CONNECT_TIMEOUT_S = 2.0  # a connection the backlog cannot hold waits for SYN retransmits
READ_TIMEOUT_S = 10.0
KEEP_ALIVE_REQUESTS = 20
# The stall was 40 ms per request (Linux's minimum delayed ACK); half of that is generous.
MEDIAN_BOUND_S = 0.020


@dataclass
class Listening:
    """A server bound and listening, not accepting until `serve()`. `path`: a GET it answers
    200 with a JSON body."""

    address: tuple[str, int]
    path: str
    serve: Callable[[], None]


@contextmanager
def api_server() -> Iterator[Listening]:
    with mock_aws():
        dynamodb, sqs = boto3.client("dynamodb"), boto3.client("sqs")
        plane = create_data_plane(dynamodb, sqs, "test")
        bank = SandboxBank(BANK_SECRET, lambda body, headers: 200)
        bootstrap.use(bootstrap.build(settings_for(plane), dynamodb=dynamodb, sqs=sqs, bank=bank))
        server = ApiServer(0)
        host, port = server.url.removeprefix("http://").split(":")
        try:
            yield Listening((host, int(port)), "/v1/health", server.start)
        finally:
            server.stop()
            bootstrap.use(None)


@contextmanager
def bank_server() -> Iterator[Listening]:
    server = BankHTTPServer(SandboxBank(BANK_SECRET, lambda body, headers: 200), 0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    try:
        yield Listening(server.server_address[:2], "/accounts/payer-001", thread.start)
    finally:
        if thread.is_alive():
            server.shutdown()
        server.server_close()


@contextmanager
def emulator_server() -> Iterator[Listening]:
    emulator = Emulator(0)
    host, port = emulator.endpoint_url.removeprefix("http://").split(":")

    def serve() -> None:
        emulator.start()

    try:
        yield Listening((host, int(port)), "/moto-api/data.json", serve)
    finally:
        emulator.stop()


SERVERS: dict[str, Callable[[], AbstractContextManager[Listening]]] = {
    "api": api_server, "bank": bank_server, "emulator": emulator_server}


@pytest.fixture(params=list(SERVERS))
def listening(request: pytest.FixtureRequest) -> Iterator[Listening]:
    with SERVERS[request.param]() as server:
        yield server


@pytest.fixture(params=["api", "bank"])  # the emulator (werkzeug) closes after each reply
def keep_alive_server(request: pytest.FixtureRequest) -> Iterator[Listening]:
    with SERVERS[request.param]() as server:
        server.serve()
        yield server


def request_bytes(path: str, method: str = "GET") -> bytes:
    return f"{method} {path} HTTP/1.1\r\nHost: {HOST}\r\nAccept: */*\r\n\r\n".encode()


def read_reply(sock: socket.socket) -> tuple[int, Any]:
    reply = http.client.HTTPResponse(sock, method="GET")
    reply.begin()
    return reply.status, json.loads(reply.read())


def test_servers_listen_on_loopback_only(listening: Listening) -> None:
    assert listening.address[0] == HOST


def test_a_burst_of_100_connections_is_queued_and_every_one_answered(
    listening: Listening,
) -> None:
    """All 100 connect while the server is not accepting yet: only the listen backlog holds
    them (socketserver's default of 5 would leave the 7th hanging). Replies are read last
    connection first, each still open: a server without a thread per connection would sit on
    the first one, waiting for its next request."""
    sockets: list[socket.socket] = []
    try:
        for number in range(BURST):
            try:
                sockets.append(socket.create_connection(listening.address, CONNECT_TIMEOUT_S))
            except TimeoutError:
                pytest.fail(f"connection {number + 1} of {BURST} did not fit in the backlog")
        listening.serve()
        for sock in sockets:
            sock.settimeout(READ_TIMEOUT_S)
            sock.sendall(request_bytes(listening.path))
        for number, sock in reversed(list(enumerate(sockets, 1))):
            try:
                status, _ = read_reply(sock)
            except ConnectionResetError:
                pytest.fail(f"connection {number} was reset")
            assert status == 200, f"connection {number}"
    finally:
        for sock in sockets:
            sock.close()


def test_100_clients_at_once_are_all_answered_without_a_reset(listening: Listening) -> None:
    listening.serve()

    def one_client() -> str:
        connection = http.client.HTTPConnection(*listening.address, timeout=READ_TIMEOUT_S)
        try:
            connection.request("GET", listening.path)
            reply = connection.getresponse()
            json.loads(reply.read())
            return str(reply.status)
        except ConnectionResetError:
            return "reset"
        finally:
            connection.close()

    assert race(*[one_client] * BURST) == ["200"] * BURST


def test_keep_alive_requests_reuse_the_connection_without_the_delayed_ack_stall(
    keep_alive_server: Listening,
) -> None:
    """A reply written in two sends (headers, then body) waited, from the second request on,
    for the client's delayed ACK: 40 ms per request, 800 ms for these 20."""
    connection = http.client.HTTPConnection(*keep_alive_server.address, timeout=READ_TIMEOUT_S)
    connection.request("GET", keep_alive_server.path)
    connection.getresponse().read()
    first_socket = connection.sock
    elapsed = []
    for _ in range(KEEP_ALIVE_REQUESTS):
        started = time.perf_counter()
        connection.request("GET", keep_alive_server.path)
        reply = connection.getresponse()
        reply.read()
        elapsed.append(time.perf_counter() - started)
        assert reply.status == 200 and not reply.will_close
        assert connection.sock is first_socket, "the connection was not reused"
    connection.close()
    assert statistics.median(elapsed) < MEDIAN_BOUND_S, [f"{s * 1000:.1f} ms" for s in elapsed]


def test_the_api_server_answers_what_no_view_answers_in_the_envelope_on_one_connection() -> None:
    """HEAD's reply has no body: a body there would be read as the start of the next reply."""
    with api_server() as server:
        server.serve()
        connection = http.client.HTTPConnection(*server.address, timeout=READ_TIMEOUT_S)
        for method, path, status, code in [
            ("HEAD", "/v1/health", 405, ""),
            ("OPTIONS", "/v1/orders", 405, "method_not_allowed"),
            ("DELETE", "/v1/orders", 405, "method_not_allowed"),
            ("GET", "/v1/nope", 404, "route_not_found"),
            ("POST", "/v1/orders", 415, "unsupported_media_type"),
            ("GET", "/v1/health", 200, ""),
        ]:
            headers = {"Content-Type": "text/plain"} if method == "POST" else {}
            connection.request(method, path, body=b"x" if method == "POST" else None,
                               headers=headers)
            reply = connection.getresponse()
            body = reply.read()
            assert reply.status == status, (method, path, body)
            if method == "HEAD":
                assert body == b"" and reply.getheader("Allow") == "GET"
            elif code:
                error = json.loads(body)["error"]
                assert (error["code"], error["details"]) == (code, {}), error
        assert json.loads(body)["status"] == "ok"
        connection.close()
