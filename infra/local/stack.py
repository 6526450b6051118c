"""The local stack's composition: start every part in dependency order, stop in reverse."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

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
        config = self._config
        emulator = Emulator(config.moto_port)
        aws_url = emulator.start()
        self._stoppers.append(("AWS emulator", emulator.stop))
        point_boto3_at(aws_url)
        aws = clients(aws_url)
        plane = create_data_plane(aws.dynamodb, aws.sqs, STAGE)

        api = ApiServer(config.api_port)
        self._stoppers.append(("HTTP API", api.stop))
        bank = LocalBank(config.bank_secret, api.url, config.bank_port)
        runtime = bootstrap.build(
            settings_for(config, plane), dynamodb=aws.dynamodb, sqs=aws.sqs, bank=bank.sandbox
        )
        bootstrap.use(runtime)
        self._stoppers.append(("runtime", lambda: bootstrap.use(None)))
        api.start()

        bank.start()
        self._stoppers.append(("sandbox bank", bank.stop))

        consumer = QueueConsumer(aws.sqs, plane.settlement_queue_url, process_batch)
        consumer.start()
        self._stoppers.append(("settlement consumer", consumer.stop))

        scheduler = Scheduler(scheduled_jobs(), config.schedule_seconds)
        scheduler.start()
        self._stoppers.append(("scheduler", scheduler.stop))
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
