"""The local stack's platform clock (infra/local/clock.py), kept with its data.

    python -m infra.cli clock show
    python -m infra.cli clock advance 16d        (2h, 90m, 1w2d, 1d12h30m)
    python -m infra.cli clock advance --to 08:00 (the next 08:00, Asia/Shanghai)

It moves forward only; the running stack picks the move up at once. Deployed stages have no
such clock: they read the system clock.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
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
    duration: Annotated[str, typer.Argument(help="how far: 16d, 2h, 90m, 1w2d, 1d12h30m")] = "",
    to: Annotated[str, typer.Option(help="instead, to the next HH:MM of the day (Asia/Shanghai)")]
    = "",
) -> None:
    """Move the platform clock forward (the running stack sees it at once; schedules act on
    what became due at their next run)."""
    if bool(duration) == bool(to):
        raise typer.BadParameter("give a duration or --to HH:MM, not both")
    the_clock = _the_clock()
    try:
        the_clock.advance(parse_duration(duration) if duration else
                          until_next(the_clock.now(), _time_of_day(to)))
    except ClockError as error:
        raise typer.BadParameter(str(error)) from None
    _report(the_clock)


def until_next(now: datetime, moment: time) -> timedelta:
    """How long from `now` to the next `moment` of the day in Asia/Shanghai (a whole day if
    it is that moment now)."""
    local = now.astimezone(SHANGHAI)
    target = datetime.combine(local.date(), moment, SHANGHAI)
    if target <= local:
        target = datetime.combine(local.date() + timedelta(days=1), moment, SHANGHAI)
    return target - local


def _time_of_day(text: str) -> time:
    try:
        return time.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"--to takes a time of day as HH:MM, got {text!r}") from None


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
