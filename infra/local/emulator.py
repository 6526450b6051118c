"""The all-Python AWS emulator (moto's server) on loopback, and this process's boto3 clients.

Everything boto3 creates in this process afterwards talks to the local engines: the
environment gets `AWS_ENDPOINT_URL` (and `AWS_ENDPOINT_URL_DYNAMODB` when the tables are in
DynamoDB Local), fake credentials and the region, and profiles, config files and the instance
metadata service are switched off, so nothing can reach a real AWS account.

DynamoDB Local keeps one database file per access key and region, so every client of the
local stack (the stack itself, `python -m infra.cli status`) uses the same fake credentials.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

import boto3
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server

from infra.local.config import AWS_REGION, FAKE_CREDENTIAL, HOST
from sandbox.loopback_http import LISTEN_BACKLOG

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_sqs import SQSClient

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Clients:
    dynamodb: DynamoDBClient
    sqs: SQSClient


class Emulator:
    """moto's server (what moto's ThreadedMotoServer runs) on 127.0.0.1; port 0 picks a free
    one. The socket is bound here, in the caller's thread, so a port in use raises OSError
    (ThreadedMotoServer binds in its own thread and then waits forever; werkzeug alone would
    call sys.exit), with the backlog of the other local servers. Werkzeug serves a thread per
    connection and closes each after its reply, so keep-alive never applies here."""

    def __init__(self, port: int) -> None:
        # werkzeug logs every request at INFO; the API's own log is the interesting one.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        with _listening_socket(port) as listening:
            self._server = make_server(
                HOST, port, DomainDispatcherApplication(create_backend_app), threaded=True,
                request_handler=_RequestHandler, fd=listening.fileno(),
            )
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
            name="aws-emulator", daemon=True,
        )

    @property
    def endpoint_url(self) -> str:
        return f"http://{HOST}:{self._server.port}"

    def start(self) -> str:
        self._thread.start()
        log.info("AWS emulator (moto) listening on %s", self.endpoint_url)
        return self.endpoint_url

    def stop(self, timeout: float = 5.0) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout)
        self._server.server_close()


class _RequestHandler(MotoRequestHandler):
    disable_nagle_algorithm = True  # werkzeug writes headers and body in separate sends


def _listening_socket(port: int) -> socket.socket:
    """A listening TCP socket on 127.0.0.1:`port` (werkzeug serves a duplicate of it)."""
    listening = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listening.bind((HOST, port))
        listening.listen(LISTEN_BACKLOG)
    except BaseException:
        listening.close()
        raise
    return listening


def point_boto3_at(endpoint_url: str, *, dynamodb_url: str | None = None) -> None:
    """Make every boto3 client of this process use the local engines, with fake credentials:
    `endpoint_url` for every service, `dynamodb_url` (if given) for DynamoDB."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
                 "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"):
        os.environ.pop(name, None)
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": endpoint_url,
            "AWS_ACCESS_KEY_ID": FAKE_CREDENTIAL,
            "AWS_SECRET_ACCESS_KEY": FAKE_CREDENTIAL,
            "AWS_DEFAULT_REGION": AWS_REGION,
            "AWS_REGION": AWS_REGION,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_url or endpoint_url,
        }
    )


def clients(endpoint_url: str, *, dynamodb_url: str | None = None) -> Clients:
    """Clients of the local engines: SQS at `endpoint_url`, DynamoDB at `dynamodb_url` (or
    `endpoint_url` too)."""
    session = boto3.session.Session(
        aws_access_key_id=FAKE_CREDENTIAL,
        aws_secret_access_key=FAKE_CREDENTIAL,
        region_name=AWS_REGION,
    )
    return Clients(
        dynamodb=session.client("dynamodb", endpoint_url=dynamodb_url or endpoint_url),
        sqs=session.client("sqs", endpoint_url=endpoint_url),
    )
