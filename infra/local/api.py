"""The Chalice app served over HTTP by chalice.local, the engine behind `chalice local`."""

from __future__ import annotations

import importlib
import logging
import threading
from pathlib import Path

from chalice.app import Chalice
from chalice.config import Config
from chalice.deploy.validate import validate_routes
from chalice.local import LocalDevServer, create_local_server

from infra.local.config import HOST, STAGE

log = logging.getLogger(__name__)

PROJECT_DIR = Path(__file__).resolve().parents[2]


def load_app() -> Chalice:
    """The project's app.py (the project root is on sys.path under `python -m`)."""
    app: Chalice = importlib.import_module("app").app
    return app


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
        self._server: LocalDevServer = create_local_server(app, config, HOST, port)
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
