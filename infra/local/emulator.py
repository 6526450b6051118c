"""The all-Python AWS emulator (moto's server) on loopback, and this process's boto3 clients.

Everything boto3 creates in this process afterwards talks to the emulator: the environment
gets `AWS_ENDPOINT_URL`, fake credentials and the region, and profiles, config files and the
instance metadata service are switched off, so nothing can reach a real AWS account.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

import boto3
from moto.server import ThreadedMotoServer

from infra.local.config import AWS_REGION, HOST

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_sqs import SQSClient

log = logging.getLogger(__name__)

FAKE_CREDENTIAL = "local"


@dataclass(frozen=True)
class Clients:
    dynamodb: DynamoDBClient
    sqs: SQSClient


class Emulator:
    """moto's threaded server bound to 127.0.0.1 (port 0 picks a free one)."""

    def __init__(self, port: int) -> None:
        self._server = ThreadedMotoServer(ip_address=HOST, port=port, verbose=False)
        self._started = False

    def start(self) -> str:
        # werkzeug logs every request at INFO; the API's own log is the interesting one.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._server.start()
        self._started = True
        log.info("AWS emulator (moto) listening on %s", self.endpoint_url)
        return self.endpoint_url

    @property
    def endpoint_url(self) -> str:
        host, port = self._server.get_host_and_port()
        return f"http://{host}:{port}"

    def stop(self) -> None:
        if self._started:
            self._server.stop()
            self._started = False


def point_boto3_at(endpoint_url: str) -> None:
    """Make every boto3 client of this process use the emulator, with fake credentials."""
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
        }
    )


def clients(endpoint_url: str) -> Clients:
    session = boto3.session.Session(
        aws_access_key_id=FAKE_CREDENTIAL,
        aws_secret_access_key=FAKE_CREDENTIAL,
        region_name=AWS_REGION,
    )
    return Clients(
        dynamodb=session.client("dynamodb", endpoint_url=endpoint_url),
        sqs=session.client("sqs", endpoint_url=endpoint_url),
    )
