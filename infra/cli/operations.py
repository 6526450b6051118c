"""Operations: demo data, dead-letter replay and a stack's health at a glance.

    python -m infra.cli seed                         demo data in the running local stack
    python -m infra.cli status [--stage local]       queue depths, dead letters, stragglers
    python -m infra.cli replay-dlq --queue settlement [--stage local] [--endpoint-url URL]

`--stage local` (the default) finds the running local stack through its run record; other
stages use the default AWS credentials (infra/cli/targets.py).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import UTC
from typing import TYPE_CHECKING, Annotated, Any
from zoneinfo import ZoneInfo

import typer
from botocore.exceptions import BotoCoreError, ClientError

from infra.cli.app import cli
from infra.cli.options import EndpointUrl, Region, Stage, aws_errors_end_the_command, target_of
from infra.cli.targets import Queue, Target
from infra.local import runfile
from infra.local.clock import LocalClock
from infra.local.config import AuthConfig, ConfigError, data_dir
from infra.local.seed import SeedError, exports
from infra.local.seed import seed as seed_demo

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef

DUE_JOBS = {
    "settle": "confirmed or releasing consumptions past their grace (the sweeper re-drives)",
    "autoconfirm": "lessons past their confirm-by date (auto-confirm)",
    "expire": "unpaid orders past their payment deadline (expiry)",
    "refund": "refund payouts not yet answered by the bank (resent with backoff)",
    "returnpayment": "returns of unmatched payments not yet answered (resent with backoff)",
    "freezefanout": "freezes or unfreezes not yet copied onto every order of the institution",
    "liquidate": "liquidations listing their orders, or to look at again (until completed)",
    "liquidationpaid": "refunds of a liquidation paid and not yet counted in its progress",
    "complaintroute": "complaints filed and not yet routed to a department",
    "complaintdue": "complaints whose stage's day began (reminder) or ended (next stage)",
    "push": "notices not yet handed to the push service",
}
STRAGGLER_LIMIT = 100
SHANGHAI = ZoneInfo("Asia/Shanghai")
SHOWN_IDS = 3

@cli.command()
def seed(
    api_url: Annotated[str, typer.Option(help="the API (default: the running local stack's)")]
    = "",
) -> None:
    """Create demo data in a running local stack through its HTTP API and print its ids and
    tokens as shell exports (what `make run ARGS=--seed` does at start)."""
    record = runfile.read(data_dir())
    api_url = api_url or (record.api_url if record else "")
    if not api_url:
        typer.echo("error: no local stack is running; start it with `make run`, or pass "
                   "--api-url", err=True)
        raise typer.Exit(1)
    try:
        demo = seed_demo(api_url, AuthConfig.from_environment())
    except (SeedError, ConfigError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None
    typer.echo(exports(demo, api_url, record.bank_url if record else "<the sandbox bank>"))


@cli.command()
def status(
    stage: Stage = "local", endpoint_url: EndpointUrl = "", region: Region = "",
    check: Annotated[bool, typer.Option(help="exit 1 if there are dead letters or settlement "
                                              "stragglers")] = False,
) -> None:
    """Queue depths (visible / in flight) with the dead-letter queue, and stragglers: items
    overdue on the `due` index, per scheduled job."""
    target = target_of(stage, endpoint_url, region)
    typer.echo(f"{target.description}\n")
    with aws_errors_end_the_command():
        problems = _report(target)
    if check and problems:
        raise typer.Exit(1)


def _report(target: Target) -> int:
    """Print the queues, the stragglers and the parked releases; return how many of them
    need ops (dead letters, settlement stragglers, parked releases)."""
    if isinstance(target.platform_clock, LocalClock):
        moved = target.platform_clock.offset
        now = target.platform_clock.now().astimezone(SHANGHAI).isoformat(timespec="seconds")
        typer.echo(f"platform clock {now} ({moved.days}d {moved.seconds // 3600}h ahead of real "
                   "time; `infra.cli clock advance` moves it)\n")
    dead = 0
    typer.echo(f"{'queue':<40} {'visible':>8} {'in flight':>10}")
    for queue in Queue:
        for dead_letter in (False, True):
            visible, in_flight = _depth(target.sqs, target.queue_url(queue,
                                                                      dead_letter=dead_letter))
            dead += visible + in_flight if dead_letter else 0
            typer.echo(f"{target.queue_name(queue, dead_letter=dead_letter):<40} "
                       f"{visible:>8} {in_flight:>10}")
    now = target.clock().now().astimezone(UTC)
    typer.echo(f"\noverdue on the due index at {now:%Y-%m-%d %H:%M:%S}Z")
    schedule = target.schedule()
    stragglers = 0
    for job, meaning in DUE_JOBS.items():
        ids = schedule.due(job, now, STRAGGLER_LIMIT)
        stragglers += len(ids) if job == "settle" else 0
        count = f"{len(ids)}+" if len(ids) >= STRAGGLER_LIMIT else str(len(ids))
        typer.echo(f"  {job:<15} {count:>5}  {meaning}")
        if ids:
            typer.echo(f"  {'':<15} {'':>5}  e.g. {', '.join(ids[:SHOWN_IDS])}")
    parked = target.store().count_needing_review()
    typer.echo(f"\n{parked} release(s) parked for review (the bank refused them): "
               "`python -m infra.cli review list`")
    return dead + stragglers + parked


def _depth(sqs: SQSClient, queue_url: str) -> tuple[int, int]:
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return (int(attributes["ApproximateNumberOfMessages"]),
            int(attributes["ApproximateNumberOfMessagesNotVisible"]))


@cli.command("replay-dlq")
def replay_dlq(
    queue: Annotated[Queue, typer.Option(help="the queue whose dead letters to move back")],
    stage: Stage = "local", endpoint_url: EndpointUrl = "", region: Region = "",
    limit: Annotated[int, typer.Option(min=0, help="move at most this many (0: all)")] = 0,
) -> None:
    """Move dead letters back to their queue: same body, attributes and message group, a new
    deduplication id; each is deleted from the dead-letter queue only once it was sent.
    Safe to repeat: every settlement step is idempotent."""
    target = target_of(stage, endpoint_url, region)
    with aws_errors_end_the_command():
        source = target.queue_url(queue, dead_letter=True)
        destination = target.queue_url(queue)
        waiting = sum(_depth(target.sqs, source))
    typer.echo(f"{target.description}: {waiting} message(s) in "
               f"{target.queue_name(queue, dead_letter=True)}", err=True)
    moved = 0
    try:
        with typer.progressbar(length=max(limit or waiting, 1), label="replaying",
                               file=sys.stderr) as bar:
            for message in _dead_letters(target.sqs, source, limit):
                _move(target.sqs, message, source, destination, fifo=queue.fifo)
                moved += 1
                bar.update(1)
    except (ClientError, BotoCoreError, ReplayError) as error:
        typer.echo(f"error after {moved} message(s): {error}; the rest stay in the "
                   "dead-letter queue", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"moved {moved} message(s) from {target.queue_name(queue, dead_letter=True)} "
               f"to {target.queue_name(queue)}")


def _dead_letters(sqs: SQSClient, queue_url: str, limit: int) -> Iterator[MessageTypeDef]:
    """Receive until the queue has nothing more to give (or `limit` were given)."""
    given = 0
    while not limit or given < limit:
        batch = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=min(10, limit - given) if limit else 10,
            WaitTimeSeconds=1,
            VisibilityTimeout=60,
            MessageSystemAttributeNames=["MessageGroupId"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not batch:
            return
        for message in batch:
            given += 1
            yield message


class ReplayError(RuntimeError):
    pass


def _move(sqs: SQSClient, message: MessageTypeDef, source: str, destination: str, *,
          fifo: bool) -> None:
    """Send first, then delete: a failure in between leaves a copy in both queues, never none.
    On a FIFO queue the deduplication id comes from the dead letter's message id, so a second
    replay of the same letter within SQS's five-minute window is dropped by the queue (on the
    standard liquidation and complaint queues a second copy is harmless: liquidating an
    order and routing a complaint are idempotent)."""
    sent: dict[str, Any] = {"QueueUrl": destination, "MessageBody": message["Body"],
                            "MessageAttributes": message.get("MessageAttributes", {})}
    if fifo:
        group = message.get("Attributes", {}).get("MessageGroupId")
        if not group:
            raise ReplayError(f"dead letter {message['MessageId']} has no MessageGroupId")
        sent.update(MessageGroupId=group,
                    MessageDeduplicationId=f"replay-{message['MessageId']}")
    sqs.send_message(**sent)
    sqs.delete_message(QueueUrl=source, ReceiptHandle=message["ReceiptHandle"])
