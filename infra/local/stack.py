"""The local stack's composition: start every part in dependency order, stop in reverse.

Tables live in DynamoDB Local with their data in the data folder (moto, in memory, when
LOCAL_ENGINE=moto or Java is missing); the settlement queue lives in moto's SQS, in memory.
Work queued when the stack stopped is therefore gone at the next start, so the start re-drives
every consumption still being settled, and the sandbox bank, whose state is kept next to the
tables, delivers the callbacks it had not delivered.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path

from chalicelib import bootstrap
from chalicelib.service.jobs import sweeps
from chalicelib.settings import Settings
from chalicelib.workers import complaints as complaint_worker
from chalicelib.workers import liquidation as liquidation_worker
from chalicelib.workers import settlement as settlement_worker
from chalicelib.workers import sweeps as sweep_worker
from chalicelib.workers.schedules import (
    auto_confirm,
    expire_orders,
    reconcile,
    settlement_sweeper,
)
from infra.dynamodb_local import DynamoDBLocal
from infra.local import runfile
from infra.local.api import ApiServer, load_app
from infra.local.bank import LocalBank
from infra.local.clock import LocalClock
from infra.local.config import STAGE, Engine, LocalConfig
from infra.local.consumers import QueueConsumer
from infra.local.emulator import Emulator, clients, point_boto3_at
from infra.local.engine import Storage
from infra.local.ports import PortInUse, bind
from infra.local.scheduler import Job, Scheduler, scheduled_event
from infra.resources import DataPlane, create_data_plane

__all__ = ["Endpoints", "LocalStack", "PortInUse", "bind"]

log = logging.getLogger(__name__)

BANK_STATE_FILE = "bank.json"


@dataclass(frozen=True)
class Endpoints:
    api_url: str
    bank_url: str
    aws_url: str
    """moto: SQS, and the tables too when `engine` is moto."""
    dynamodb_url: str
    engine: Engine
    """Where the tables actually are (moto after a fallback, whatever was asked)."""
    data_dir: Path
    plane: DataPlane
    recovered: int
    """Consumptions in flight at the last stop, re-driven at this start."""
    clock: LocalClock
    """The platform clock every part of the stack reads."""


def settings_for(config: LocalConfig, plane: DataPlane) -> Settings:
    return Settings(
        stage=STAGE,
        province_code=config.province_code,
        platform_table=plane.platform_table,
        journal_table=plane.journal_table,
        settlement_queue_url=plane.settlement_queue_url,
        sweep_queue_url=plane.sweep_queue_url,
        liquidation_queue_url=plane.liquidation_queue_url,
        complaint_queue_url=plane.complaint_queue_url,
        auth_issuer=config.auth.issuer,
        auth_audience=config.auth.audience,
        auth_hs256_secret=config.auth.secret,
        bank_webhook_secret=config.bank_secret,
    )


def scheduled_jobs() -> list[Job]:
    """The scheduled functions of chalicelib/workers/schedules.py (each fans its run out over
    the sweep queue, which the local sweep consumer works through)."""
    return [
        Job(name, partial(handler, scheduled_event(name), None))
        for name, handler in (("expire_orders", expire_orders), ("auto_confirm", auto_confirm),
                              ("settlement_sweeper", settlement_sweeper),
                              ("reconcile", reconcile))
    ]


def recover_in_flight() -> int:
    """Re-drive every confirmed or releasing consumption now. Their queue messages ended with
    the last run; the sweep would find them only once due (after the policy's grace). Safe
    whatever their state: every step of settlement is idempotent."""
    ctx = bootstrap.context()
    regions = {ctx.province_code, *(region for region in ctx.policies.layers
                                    if region.startswith(ctx.province_code))}
    grace = max(ctx.policy(region).settlement_grace_minutes for region in regions)
    until = ctx.now() + timedelta(minutes=grace)  # the longest of any region's
    return sweeps.run_all(ctx, "settle", until=until).handled



class LocalStack:
    def __init__(self, config: LocalConfig, *, storage: Storage | None = None) -> None:
        """`storage`: the data folder already claimed and DynamoDB Local already launching
        (`python -m infra.local` does that before importing this module); else start does."""
        self._config = config
        self._storage = storage
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
        storage, self._storage = self._storage or Storage(config), None
        self._stoppers.append(("DynamoDB Local and run record", storage.stop))
        launcher = storage.launcher
        emulator = bind("AWS emulator", "MOTO_PORT", config.moto_port,
                        lambda: Emulator(config.moto_port))
        self._stoppers.append(("AWS emulator", emulator.stop))
        aws_url = emulator.start()
        load_app()  # while the JVM starts; the API binds its port only once it can answer soon

        dynamodb = launcher.wait() if launcher is not None else None
        if launcher is not None and dynamodb is None:
            log.warning("falling back to moto for the tables: all-Python and in memory, so "
                        "orders and money will NOT survive a restart")
        dynamodb_url = dynamodb.endpoint_url if dynamodb is not None else aws_url
        engine = Engine.DYNAMODB_LOCAL if dynamodb is not None else Engine.MOTO
        runfile.update(config.data_dir, engine=engine.value, sqs_url=aws_url,
                       dynamodb_url=dynamodb_url,
                       engine_pid=dynamodb.process.pid if dynamodb is not None else None)
        point_boto3_at(aws_url, dynamodb_url=dynamodb_url)
        aws = clients(aws_url, dynamodb_url=dynamodb_url)
        plane = create_data_plane(aws.dynamodb, aws.sqs, STAGE)

        api = bind("HTTP API", "API_PORT", config.api_port, lambda: ApiServer(config.api_port))
        bank = LocalBank(config.bank_secret, api.url, config.bank_port,
                         state_file=self._bank_state_file(dynamodb), now=storage.clock.now)
        runtime = bootstrap.build(
            settings_for(config, plane), dynamodb=aws.dynamodb, sqs=aws.sqs, bank=bank.sandbox,
            clock=storage.clock,
        )
        bootstrap.use(runtime)
        self._stoppers.append(("runtime", lambda: bootstrap.use(None)))

        for name, queue_url, handler in (
            ("settlement", plane.settlement_queue_url, settlement_worker.process_batch),
            ("sweep", plane.sweep_queue_url, sweep_worker.process_batch),
            ("liquidation", plane.liquidation_queue_url, liquidation_worker.process_batch),
            ("complaint", plane.complaint_queue_url, complaint_worker.process_batch),
        ):
            consumer = QueueConsumer(aws.sqs, queue_url, handler)
            consumer.start()
            self._stoppers.append((f"{name} consumer", consumer.stop))
        recovered = recover_in_flight()
        if recovered:
            log.info("re-driven %d consumption(s) still being settled at the last stop",
                     recovered)

        scheduler = Scheduler(scheduled_jobs(), config.schedule_seconds)
        scheduler.start()
        self._stoppers.append(("scheduler", scheduler.stop))

        bind("sandbox bank", "BANK_PORT", config.bank_port, bank.start)
        self._stoppers.append(("sandbox bank", bank.stop))

        self._stoppers.append(("HTTP API", api.stop))
        api.start()
        runfile.update(config.data_dir, api_url=api.url, bank_url=bank.url)
        return Endpoints(api.url, bank.url, aws_url, dynamodb_url, engine, config.data_dir,
                         plane, recovered, storage.clock)

    def _bank_state_file(self, dynamodb: DynamoDBLocal | None) -> Path | None:
        """The bank keeps its money only when the platform keeps its books."""
        return self._config.data_dir / BANK_STATE_FILE if dynamodb is not None else None

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
