"""The local stack's platform clock (infra/local/clock.py), kept with its data.

    python -m infra.cli clock show
    python -m infra.cli clock advance 16d        (2h, 90m, 1w2d, 1d12h30m)

It moves forward only; the running stack picks the move up at once. Deployed stages have no
such clock: they read the system clock.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

import typer

from infra.cli.app import cli
from infra.local.clock import ClockError, LocalClock, existing, parse_duration
from infra.local.config import data_dir

clock = typer.Typer(no_args_is_help=True, help="The local stack's platform clock.")
cli.add_typer(clock, name="clock")

SHANGHAI = ZoneInfo("Asia/Shanghai")


@clock.command()
def show() -> None:
    """The platform time of the local data, and how far it is ahead of real time."""
    _report(_the_clock())


@clock.command()
def advance(
    duration: Annotated[str, typer.Argument(help="how far: 16d, 2h, 90m, 1w2d, 1d12h30m")],
) -> None:
    """Move the platform clock forward (the running stack sees it at once; schedules act on
    what became due at their next run)."""
    the_clock = _the_clock()
    try:
        the_clock.advance(parse_duration(duration))
    except ClockError as error:
        raise typer.BadParameter(str(error)) from None
    _report(the_clock)


def _the_clock() -> LocalClock:
    folder = data_dir()
    try:
        found = existing(folder)
    except ClockError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None
    if found is None:
        typer.echo(f"error: {folder} has no platform clock yet: the local stack creates it at "
                   "its first start (`make run`)", err=True)
        raise typer.Exit(1)
    return found


def _report(the_clock: LocalClock) -> None:
    now = the_clock.now().astimezone(SHANGHAI)
    typer.echo(f"platform time  {now.isoformat(timespec='seconds')}")
    typer.echo(f"ahead of real  {_span(the_clock.offset)}")
    typer.echo(f"kept in        {the_clock.path}")


def _span(delta: timedelta) -> str:
    sign = "-" if delta < timedelta(0) else ""
    seconds = abs(int(delta.total_seconds()))
    days, rest = divmod(seconds, 86400)
    return f"{sign}{days}d {rest // 3600:02d}:{rest % 3600 // 60:02d}:{rest % 60:02d}"
