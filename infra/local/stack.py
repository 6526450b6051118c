"""The local stack's composition: start every part in dependency order, stop in reverse."""

from __future__ import annotations

import errno
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from chalicelib import bootstrap
from chalicelib.service import schedules, settlement
from chalicelib.settings import Settings
from chalicelib.workers.settlement import process_batch
from infra.local.api import ApiServer
from infra.local.bank import LocalBank
from infra.local.config import STAGE, LocalConfig
from infra.local.consumers import QueueConsumer
from infra.local.emulator import Emulator, clients, point_boto3_at
from infra.local.scheduler import Job, Scheduler
from infra.resources import DataPlane, create_data_plane

log = logging.getLogger(__name__)

T = TypeVar("T")


class PortInUse(RuntimeError):
    """A port the stack was told to use is taken (by another program or another stack)."""


def bind(what: str, variable: str, port: int, binder: Callable[[], T]) -> T:
    try:
        return binder()
    except OSError as error:
        if error.errno != errno.EADDRINUSE:
            raise
        raise PortInUse(
            f"{what}: 127.0.0.1:{port} is already in use; set {variable} to another port "
            "(0 picks a free one)"
        ) from None


@dataclass(frozen=True)
class Endpoints:
    api_url: str
    bank_url: str
    aws_url: str
    plane: DataPlane


def settings_for(config: LocalConfig, plane: DataPlane) -> Settings:
    return Settings(
        stage=STAGE,
        province_code=config.province_code,
        platform_table=plane.platform_table,
        journal_table=plane.journal_table,
        settlement_queue_url=plane.settlement_queue_url,
        auth_issuer=config.auth.issuer,
        auth_audience=config.auth.audience,
        auth_hs256_secret=config.auth.secret,
        bank_webhook_secret=config.bank_secret,
    )


def scheduled_jobs() -> list[Job]:
    """The jobs of chalicelib/workers/schedules.py, each on the installed runtime."""
    return [
        Job("expire_orders", lambda: schedules.expire_orders(bootstrap.context())),
        Job("auto_confirm", lambda: schedules.auto_confirm(bootstrap.context())),
        Job("settlement_sweeper", lambda: settlement.sweep(bootstrap.context())),
    ]


class LocalStack:
    def __init__(self, config: LocalConfig) -> None:
        self._config = config
        self._stoppers: list[tuple[str, Callable[[], None]]] = []

    def start(self) -> Endpoints:
        """Start everything; on failure stop what already started and re-raise."""
        try:
            return self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> Endpoints:
        """Back to front: the API answers (health included) only once everything else runs,
        and it is the first to stop, so no request arrives at a half-stopped stack."""
        config = self._config
        emulator = bind("AWS emulator", "MOTO_PORT", config.moto_port,
                        lambda: Emulator(config.moto_port))
        self._stoppers.append(("AWS emulator", emulator.stop))
        aws_url = emulator.start()
        point_boto3_at(aws_url)
        aws = clients(aws_url)
        plane = create_data_plane(aws.dynamodb, aws.sqs, STAGE)

        api = bind("HTTP API", "API_PORT", config.api_port, lambda: ApiServer(config.api_port))
        bank = LocalBank(config.bank_secret, api.url, config.bank_port)
        runtime = bootstrap.build(
            settings_for(config, plane), dynamodb=aws.dynamodb, sqs=aws.sqs, bank=bank.sandbox
        )
        bootstrap.use(runtime)
        self._stoppers.append(("runtime", lambda: bootstrap.use(None)))

        consumer = QueueConsumer(aws.sqs, plane.settlement_queue_url, process_batch)
        consumer.start()
        self._stoppers.append(("settlement consumer", consumer.stop))

        scheduler = Scheduler(scheduled_jobs(), config.schedule_seconds)
        scheduler.start()
        self._stoppers.append(("scheduler", scheduler.stop))

        bind("sandbox bank", "BANK_PORT", config.bank_port, bank.start)
        self._stoppers.append(("sandbox bank", bank.stop))

        self._stoppers.append(("HTTP API", api.stop))
        api.start()
        return Endpoints(api.url, bank.url, aws_url, plane)

    def stop(self) -> None:
        """Stop in reverse order; one part failing to stop does not keep the others running."""
        while self._stoppers:
            name, stop = self._stoppers.pop()
            try:
                stop()
            except Exception:
                log.exception("stopping %s failed", name)
            else:
                log.info("stopped %s", name)
