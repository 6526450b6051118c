"""Reconcile a business day of every supervised account with the bank's statements, now.

The scheduled run does this every night for yesterday (chalicelib/service/supervision/
reconciliations.py); ops run it for a day at once, or again once a late notice arrived (the
day's results are replaced). Each account's result is kept and listed here with every
difference named and its amount.

    python -m infra.cli reconcile --date 2026-03-02 [--stage local] [--bank-url …]
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

import typer

from chalicelib.domain.calendar import business_date
from chalicelib.domain.supervision.reconciliation import Reconciliation
from chalicelib.service.supervision import reconciliations
from infra.cli.app import cli
from infra.cli.options import (
    BankUrl,
    EndpointUrl,
    Region,
    Stage,
    aws_errors_end_the_command,
    target_of,
)


@cli.command("reconcile")
def reconcile(
    day: Annotated[str, typer.Option("--date", help="the business day, YYYY-MM-DD (default: "
                                                    "yesterday by the platform's clock)")] = "",
    stage: Stage = "local", endpoint_url: EndpointUrl = "", region: Region = "",
    bank_url: BankUrl = "",
) -> None:
    """Reconcile every supervised account for one closed business day (and any day before
    it not yet reconciled); exit 1 if the bank could not give a statement of one."""
    target = target_of(stage, endpoint_url, region, bank_url)
    ctx = target.context()
    wanted = _day(day, business_date(ctx.now()))
    typer.echo(f"{target.description}: reconciling {wanted}\n")
    typer.echo(f"{'account':<24} {'institution':<32} {'status':<12} {'bank_fen':>12} "
               f"{'ledger_fen':>12}  differences")
    counts = {"reconciled": 0, "differences": 0, "no statement": 0}
    with aws_errors_end_the_command():
        for institution, result in reconciliations.reconcile_day(ctx, wanted):
            if result is None:
                typer.echo(f"{institution.institution_id}: no statement from the bank "
                           "(asked again by the next run)", err=True)
                counts["no statement"] += 1
                continue
            counts[result.status] += 1
            typer.echo(_row(result))
    typer.echo("\n" + ", ".join(f"{n} {what}" for what, n in counts.items()))
    if counts["no statement"]:
        raise typer.Exit(1)


def _day(given: str, today: date) -> date:
    if not given:
        return today - timedelta(days=1)
    try:
        wanted = date.fromisoformat(given)
    except ValueError:
        typer.echo(f"error: --date {given!r} is not YYYY-MM-DD", err=True)
        raise typer.Exit(2) from None
    if wanted >= today:
        typer.echo(f"error: {wanted} is not over yet (today is {today})", err=True)
        raise typer.Exit(2)
    return wanted


def _row(result: Reconciliation) -> str:
    named = "; ".join(f"{d.kind} {d.amount_fen:+d} fen" + (f" ({d.key})" if d.key else "")
                      for d in result.differences)
    return (f"{result.account:<24} {result.institution_id:<32} {result.status:<12} "
            f"{result.bank_closing_fen:>12} {result.ledger_closing_fen:>12}  {named or '-'}")
