"""Per-request latency on one keep-alive connection, for the local API and sandbox bank servers,
with stock http.server replies (before) and with PromptReplies (after).

    .venv/bin/python -m benchmarks.http_keepalive [requests]

Before: a reply leaves in two send() calls (headers, then body), so from the second request
on its body waits, behind Nagle's algorithm, for the client's delayed ACK (40 ms on Linux).
After: one buffered send and TCP_NODELAY (sandbox/loopback_http.py). "Before"
swaps the stock handler (chalice.local's, or the bank's without the mixin's settings) into the
same server, so only the way replies are written differs. Prints figures; asserts nothing.
"""

from __future__ import annotations

import functools
import http.client
import io
import os
import socketserver
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, redirect_stderr

import boto3
from chalice.local import ChaliceRequestHandler
from moto import mock_aws

from chalicelib import bootstrap
from infra.local.api import ApiServer
from infra.resources import create_data_plane
from sandbox import bank_server as bank_http
from sandbox.bank import SandboxBank
from tests.support.harness import BANK_SECRET, settings_for


class StockBankHandler(bank_http._Handler):
    """The bank's handler with http.server's own way of writing replies."""

    disable_nagle_algorithm = False
    wbufsize = 0


def use_handler(server: socketserver.BaseServer, handler: type) -> None:
    """Serve with `handler`, keeping the arguments the current factory passes (chalice.local
    binds the app and config to its handler with functools.partial)."""
    keywords = getattr(server.RequestHandlerClass, "keywords", None)
    server.RequestHandlerClass = functools.partial(handler, **keywords) if keywords else handler


@contextmanager
def bank(stock: bool) -> Iterator[tuple[int, str]]:
    server, thread = bank_http.serve(SandboxBank(BANK_SECRET, lambda body, headers: 200), 0)
    if stock:
        use_handler(server, StockBankHandler)
    try:
        yield server.server_address[1], "/accounts/payer-001"
    finally:
        bank_http.stop(server, thread)


@contextmanager
def api(stock: bool) -> Iterator[tuple[int, str]]:
    server = ApiServer(0)
    if stock:
        use_handler(server._server.server, ChaliceRequestHandler)
    server.start()
    try:
        yield int(server.url.rsplit(":", 1)[1]), "/v1/health"
    finally:
        server.stop()


def per_request_ms(port: int, path: str, requests: int) -> list[float]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", path)
    connection.getresponse().read()  # the first request does not stall: not measured
    elapsed = []
    for _ in range(requests):
        started = time.perf_counter()
        connection.request("GET", path)
        connection.getresponse().read()
        elapsed.append((time.perf_counter() - started) * 1000)
    connection.close()
    return elapsed


def report(name: str, server: Callable[[bool], AbstractContextManager[tuple[int, str]]],
           requests: int) -> None:
    for label, stock in (("before (stock replies)", True), ("after (PromptReplies) ", False)):
        with server(stock) as (port, path):
            ms = per_request_ms(port, path, requests)
        print(f"{name:4} {label}: median {statistics.median(ms):6.2f} ms, "
              f"p90 {sorted(ms)[int(len(ms) * 0.9) - 1]:6.2f} ms, total {sum(ms):7.1f} ms "
              f"for {requests} requests")


def main() -> None:
    requests = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
                       "AWS_DEFAULT_REGION": "cn-north-1"})  # moto only: nothing leaves
    report("bank", bank, requests)
    with mock_aws(), redirect_stderr(io.StringIO()):  # chalice.local logs every request
        dynamodb, sqs = boto3.client("dynamodb"), boto3.client("sqs")
        plane = create_data_plane(dynamodb, sqs, "bench")
        sandbox = SandboxBank(BANK_SECRET, lambda body, headers: 200)
        bootstrap.use(bootstrap.build(settings_for(plane), dynamodb=dynamodb, sqs=sqs,
                                      bank=sandbox))
        report("api", api, requests)


if __name__ == "__main__":
    main()
