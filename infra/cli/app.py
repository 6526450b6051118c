"""The one ops CLI (`python -m infra.cli --help`); each module adds its commands to `cli`."""

from __future__ import annotations

import typer

cli = typer.Typer(no_args_is_help=True, add_completion=False)


@cli.callback()
def main() -> None:
    """Ops and developer tools for the platform: local stack, tokens, deploys, queues."""
