"""The Chalice app served over HTTP by chalice.local, the engine behind `chalice local`.

Two things differ from `chalice local`: requests go through PlatformGateway (API Gateway as the
province template configures it: infra/local/gateway.py), and the server takes a burst of
connections and answers keep-alive requests promptly (sandbox/loopback_http.py).
"""

from __future__ import annotations

import importlib
import logging
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

from chalice.app import Chalice
from chalice.config import Config
from chalice.deploy.validate import validate_routes
from chalice.local import ChaliceRequestHandler, CustomLocalChalice, LocalChalice, LocalDevServer

from infra.local.config import HOST, STAGE
from infra.local.gateway import PlatformGateway
from sandbox.loopback_http import LoopbackHTTPServer, PromptReplies

log = logging.getLogger(__name__)

PROJECT_DIR = Path(__file__).resolve().parents[2]


def load_app() -> Chalice:
    """The project's app.py (the project root is on sys.path under `python -m`)."""
    app: Chalice = importlib.import_module("app").app
    return app


class ApiRequestHandler(PromptReplies, ChaliceRequestHandler):
    """chalice.local's handler in front of PlatformGateway. A reply leaves in one write (the
    buffer is flushed after each request); a HEAD reply has no body (chalice.local would
    write one, and the client would read it as the start of the next reply)."""

    def __init__(self, request: Any, client_address: Any, server: HTTPServer,
                 app_object: Chalice, config: Config) -> None:
        self.local_gateway = PlatformGateway(app_object, config)
        BaseHTTPRequestHandler.__init__(self, request, client_address, server)

    def _send_http_response(self, code: int, headers: dict[str, Any],
                            body: str | bytes | None) -> None:
        payload = body.encode("utf-8") if isinstance(body, str) else body or b""
        self.send_response(code)
        fields = dict(headers) if body is None else {"Content-Type": "application/json",
                                                     **headers}
        fields["Content-Length"] = str(len(payload))
        for name, value in fields.items():
            for one in value if isinstance(value, list) else [value]:
                self.send_header(name, one)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)


def thread_local_requests(app: Chalice) -> None:
    """What chalice.local.create_local_server does first: the app keeps `current_request` per
    thread, as the threaded server needs."""
    if not isinstance(app, LocalChalice):
        CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
        app.__class__ = CustomLocalChalice


class ApiServer:
    """Binds 127.0.0.1:`port` at construction (0 picks a free port); serves in a thread."""

    def __init__(self, port: int) -> None:
        app = load_app()
        validate_routes(app.routes)  # what `chalice deploy` would refuse, refuse here too
        config = Config.create(
            chalice_stage=STAGE,
            app_name=app.app_name,
            chalice_app=app,
            project_dir=str(PROJECT_DIR),
        )
        thread_local_requests(app)
        self._server = LocalDevServer(app, config, HOST, port, handler_cls=ApiRequestHandler,
                                      server_cls=LoopbackHTTPServer)
        self._thread = threading.Thread(
            target=self._server.server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="api-http",
            daemon=True,
        )

    @property
    def url(self) -> str:
        host, port = self._server.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> None:
        self._thread.start()
        log.info("HTTP API listening on %s", self.url)

    def stop(self, timeout: float = 5.0) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout)
        self._server.server.server_close()
