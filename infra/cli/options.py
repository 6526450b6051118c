"""Options every ops command that talks to a stack shares, and the target they name."""

from __future__ import annotations

from typing import Annotated

import typer

from infra.cli.targets import NoLocalStack, Target, connect

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
