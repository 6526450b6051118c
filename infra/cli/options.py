"""Options every ops command that talks to a stack shares, and the target they name."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, TypeVar

import typer

from chalicelib.service.ports import Page
from infra.cli.targets import NoLocalStack, Target, connect

T = TypeVar("T")

Stage = Annotated[str, typer.Option(help="the stage: local (the running local stack) or a "
                                         "deployed one")]
EndpointUrl = Annotated[str, typer.Option(help="one endpoint for DynamoDB and SQS "
                                               "(e.g. a moto server)")]
Region = Annotated[str, typer.Option(help="AWS region (default: the stage's usual one)")]


def target_of(stage: str, endpoint_url: str, region: str) -> Target:
    try:
        return connect(stage, endpoint_url=endpoint_url or None, region=region or None)
    except NoLocalStack as error:
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
