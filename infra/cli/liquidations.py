"""Liquidations not completed, and what their escrow still holds.

What each liquidation (chalicelib/service/institutions/liquidations.py) has done, and what its
institution's escrow still holds (parked releases and refunds, payments awaiting their
return, orders still holding money) that ops must clear before it can complete.

    python -m infra.cli liquidations list [--stage local]
    python -m infra.cli liquidations show ins_… [--stage local]
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated

import typer

from chalicelib.domain.institutions.liquidation import Held, Liquidation, Outstanding, Progress
from chalicelib.service.institutions import liquidations as use_cases
from infra.cli.app import cli
from infra.cli.options import (
    EndpointUrl,
    Region,
    Stage,
    aws_errors_end_the_command,
    every,
    target_of,
)
from infra.cli.targets import Target

liquidations = typer.Typer(no_args_is_help=True, help=__doc__.splitlines()[0])
cli.add_typer(liquidations, name="liquidations")

PAGE = 100
EVER = datetime(9999, 12, 31, tzinfo=UTC)
"""How far ahead the schedule is read: a liquidation not completed is always on it."""


@liquidations.command("list")
def list_open(stage: Stage = "local", endpoint_url: EndpointUrl = "",
              region: Region = "") -> None:
    """Every liquidation not completed, with its progress and what its escrow still holds
    (a liquidation stays on the schedule until it is completed)."""
    target = target_of(stage, endpoint_url, region)
    typer.echo(f"{target.description}\n")
    typer.echo(f"{'institution':<32} {'status':<12} {'orders':>9} {'refunded_fen':>21}  "
               "still held")
    shown = 0
    with aws_errors_end_the_command():
        for institution_id in _not_completed(target):
            found = target.store().liquidation(institution_id)
            if found is None:
                continue
            seen = target.store().liquidation_progress(institution_id)
            typer.echo(f"{institution_id:<32} {found.status:<12} "
                       f"{seen.orders_done:>4}/{found.orders_total:<4} "
                       f"{seen.fen_refunded:>10}/{seen.fen_to_refund:<10}  "
                       f"{_summary(found.outstanding)}")
            shown += 1
    typer.echo(f"\n{shown} liquidation(s) not completed")


@liquidations.command("show")
def show(
    institution_id: Annotated[str, typer.Argument(help="the liquidated institution")],
    stage: Stage = "local", endpoint_url: EndpointUrl = "", region: Region = "",
) -> None:
    """One liquidation: its progress, and each kind of money its escrow still holds, with
    the first ids of each."""
    target = target_of(stage, endpoint_url, region)
    store = target.store()
    found = store.liquidation(institution_id)
    if found is None:
        typer.echo(f"{institution_id}: liquidation_not_found", err=True)
        raise typer.Exit(1)
    for line in _detail(found, store.liquidation_progress(institution_id)):
        typer.echo(line)


def _not_completed(target: Target) -> Iterator[str]:
    schedule = target.schedule()
    for shard in range(schedule.shards):
        yield from every(lambda cursor, shard=shard: schedule.due_page(
            use_cases.JOB, shard, EVER, PAGE, cursor))


def _summary(left: Outstanding | None) -> str:
    if left is None:
        return "- (not every order done yet)"
    if left.empty:
        return "nothing"
    return ", ".join(f"{kind} {held.count} ({held.fen} fen)" for kind, held in _kinds(left)
                     if held.count)


def _detail(found: Liquidation, seen: Progress) -> Iterator[str]:
    yield f"{found.institution_id}: {found.status} (started {found.started_at.isoformat()} " \
          f"by {found.started_by}: {found.reason})"
    yield f"  orders done {seen.orders_done} of {found.orders_total}; lessons refunded " \
          f"{seen.lessons_refunded}; fen refunded {seen.fen_refunded} of {seen.fen_to_refund}"
    if found.completed_at is not None:
        yield f"  completed at {found.completed_at.isoformat()}"
    if found.outstanding is None:
        yield "  still held: not looked at yet (orders not all done)"
        return
    for kind, held in _kinds(found.outstanding):
        more = held.count - len(held.ids)
        named = " ".join(held.ids) + (f" (+{more} more)" if more > 0 else "")
        yield f"  {kind:<18} {held.count:>4} {held.fen:>12} fen  {named}".rstrip()


def _kinds(left: Outstanding) -> Iterator[tuple[str, Held]]:
    for field in dataclasses.fields(left):
        yield field.name, getattr(left, field.name)
