"""Releases parked for review (chalicelib/service/escrow/parked.py): the bank refused them for good,
or failed them too often. Their money is held on the order; fix the account with the bank,
then retry them (the bank is asked first: an instruction it executed late is booked).

    python -m infra.cli review list [--stage local]
    python -m infra.cli review retry con_… [con_… ...] [--stage local]
"""

from __future__ import annotations

from typing import Annotated

import typer

from chalicelib.domain.escrow.consumption import ConsumptionStatus
from chalicelib.service.escrow import parked
from infra.cli.app import cli
from infra.cli.options import (
    BankUrl,
    EndpointUrl,
    Region,
    Stage,
    aws_errors_end_the_command,
    each_or_exit,
    every,
    target_of,
)

review = typer.Typer(no_args_is_help=True, help=__doc__.splitlines()[0])
cli.add_typer(review, name="review")

PAGE = 100


@review.command("list")
def list_parked(stage: Stage = "local", endpoint_url: EndpointUrl = "",
                region: Region = "") -> None:
    """Every release parked for review, with the bank's reason."""
    target = target_of(stage, endpoint_url, region)
    store = target.store()
    typer.echo(f"{target.description}\n")
    typer.echo(f"{'consumption':<32} {'order':<32} {'amount_fen':>10} {'attempt':>7}  reason")
    shown = 0
    with aws_errors_end_the_command():
        for c in every(lambda cursor: store.consumptions_needing_review(PAGE, cursor)):
            typer.echo(f"{c.consumption_id:<32} {c.order_id:<32} {c.amount_fen:>10} "
                       f"{c.attempt:>7}  {c.review_reason}")
            shown += 1
    typer.echo(f"\n{shown} release(s) need review")


@review.command("retry")
def retry_parked(
    consumption_ids: Annotated[list[str], typer.Argument(help="consumptions to settle again")],
    stage: Stage = "local", endpoint_url: EndpointUrl = "", region: Region = "",
    bank_url: BankUrl = "",
) -> None:
    """Settle parked releases again, each under a new attempt (a new bank instruction id),
    unless the bank says it executed the last one: that is booked, not sent again."""
    ctx = target_of(stage, endpoint_url, region, bank_url).context()

    def settle_again(consumption_id: str) -> str:
        retried = parked.retry(ctx, consumption_id)
        if retried.status is ConsumptionStatus.RELEASED:
            return f"booked: the bank had executed {retried.instruction_id} (not sent again)"
        return (f"queued again as attempt {retried.attempt} "
                f"(instruction {retried.instruction_id})")

    each_or_exit(consumption_ids, settle_again, "not retried")
