"""Options every ops command that talks to a stack shares, and the target they name."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, TypeVar

import typer
from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.domain.errors import PlatformError
from chalicelib.service.ports import Page
from infra.cli.targets import NoLocalStack, Target, connect

T = TypeVar("T")

Stage = Annotated[str, typer.Option(help="the stage: local (the running local stack) or a "
                                         "deployed one")]
EndpointUrl = Annotated[str, typer.Option(help="one endpoint for DynamoDB and SQS "
                                               "(e.g. a moto server)")]
Region = Annotated[str, typer.Option(help="AWS region (default: the stage's usual one)")]
BankUrl = Annotated[str, typer.Option(help="the custodian bank's API, asked what it did with "
                                           "a parked payout's last instruction before it is "
                                           "retried (default: the local stack's sandbox bank)")]


def target_of(stage: str, endpoint_url: str, region: str, bank_url: str = "") -> Target:
    try:
        return connect(stage, endpoint_url=endpoint_url or None, region=region or None,
                       bank_url=bank_url or None)
    except NoLocalStack as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None


@contextmanager
def aws_errors_end_the_command() -> Iterator[None]:
    """An AWS error inside (the tables or the endpoint unreachable, a throttle, no
    credentials) ends the command: said on stderr, exit 1, never a traceback."""
    try:
        yield
    except (ClientError, BotoCoreError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None


def every(fetch: Callable[[str | None], Page[T]]) -> Iterator[T]:
    """Every item of a paginated listing, page after page (`fetch(cursor)`)."""
    cursor: str | None = None
    while True:
        page = fetch(cursor)
        yield from page.items
        cursor = page.next_cursor
        if cursor is None:
            return


def require_known(statuses: list[str], known: list[str]) -> None:
    """Exit 2 naming any of `statuses` not in `known`."""
    unknown = sorted(set(statuses) - set(known))
    if unknown:
        typer.echo(f"error: unknown status {', '.join(unknown)} (one of {', '.join(known)})",
                   err=True)
        raise typer.Exit(2)


def each_or_exit(ids: list[str], act: Callable[[str], str], refused: str) -> None:
    """`act` on each id, echoing what it says; an id it refuses (a PlatformError) is reported
    as `<id>: <refused> (<code>: <message>)` and the command exits 1 after trying them all."""
    failed = 0
    for entity_id in ids:
        try:
            typer.echo(f"{entity_id}: {act(entity_id)}")
        except PlatformError as refusal:
            typer.echo(f"{entity_id}: {refused} ({refusal.code}: {refusal.message})", err=True)
            failed += 1
    if failed:
        raise typer.Exit(1)
