"""Payments that matched no order, returned to their payer from the account they reached.

Another account credited, an institution's own account paying, an unknown reference, the
wrong amount, an order no longer payable (chalicelib/service/escrow/payments_received.py): each is
returned through the bank (chalicelib/service/refunds/unmatched_returns.py).
Ops watch the returns and follow up the ones parked for review.

    python -m infra.cli payments unmatched [--status needs_review] [--stage local]
    python -m infra.cli payments return ump_… [ump_… ...] [--stage local]
    python -m infra.cli payments return ump_… --payer <account> --received <account>
"""

from __future__ import annotations

from typing import Annotated

import typer

from chalicelib.domain.escrow.bank import UnmatchedStatus
from chalicelib.service.refunds import unmatched_returns
from infra.cli.app import cli
from infra.cli.options import (
    BankUrl,
    EndpointUrl,
    Region,
    Stage,
    aws_errors_end_the_command,
    each_or_exit,
    every,
    require_known,
    target_of,
)

payments = typer.Typer(no_args_is_help=True, help=__doc__.splitlines()[0])
cli.add_typer(payments, name="payments")

PAGE = 100
STATUSES = [str(s) for s in UnmatchedStatus]
UNFINISHED = [str(UnmatchedStatus.RETURNING), str(UnmatchedStatus.NEEDS_REVIEW)]


@payments.command("unmatched")
def list_unmatched(
    status: Annotated[list[str], typer.Option(help=f"any of {', '.join(STATUSES)}")] = UNFINISHED,
    stage: Stage = "local", endpoint_url: EndpointUrl = "", region: Region = "",
) -> None:
    """Unmatched payments by return status (default: being returned, or parked)."""
    require_known(status, STATUSES)
    target = target_of(stage, endpoint_url, region)
    store = target.store()
    typer.echo(f"{target.description}\n")
    typer.echo(f"{'payment':<32} {'reason':<20} {'status':<12} {'amount_fen':>10} "
               f"{'attempt':>7}  payer -> received  note")
    shown = 0
    with aws_errors_end_the_command():
        for wanted in status:
            for p in every(lambda cursor, wanted=wanted: store.unmatched_by_status(
                    wanted, "", PAGE, cursor)):
                typer.echo(f"{p.unmatched_id:<32} {p.reason:<20} {p.status:<12} "
                           f"{p.amount_fen:>10} {p.attempt:>7}  "
                           f"{p.payer_account or '-'} -> {p.received_account or '-'}  "
                           f"{p.review_reason}".rstrip())
                shown += 1
    typer.echo(f"\n{shown} unmatched payment(s)")


@payments.command("return")
def return_parked(
    unmatched_ids: Annotated[list[str], typer.Argument(help="parked payments to return")],
    payer: Annotated[str, typer.Option(
        help="the account that paid, from the bank's record (a notice that named none)")] = "",
    received: Annotated[str, typer.Option(
        help="the account the money reached, from the bank's record")] = "",
    stage: Stage = "local", endpoint_url: EndpointUrl = "", region: Region = "",
    bank_url: BankUrl = "",
) -> None:
    """Return parked payments again, each under a new attempt (a new bank instruction id),
    sent by the settlement sweeper's next run; unless the bank says it paid the last one
    back: that is booked, not sent again. A payment whose notice named no accounts needs
    --payer and --received, read off the bank's own record."""
    ctx = target_of(stage, endpoint_url, region, bank_url).context()

    def queue(unmatched_id: str) -> str:
        retried = unmatched_returns.retry_parked(ctx, unmatched_id, payer_account=payer,
                                                 received_account=received)
        if retried.status is UnmatchedStatus.RETURNED:
            return f"booked: the bank had returned it ({retried.instruction_id}, not sent again)"
        return (f"queued for return as attempt {retried.attempt} "
                f"(instruction {retried.instruction_id})")

    each_or_exit(unmatched_ids, queue, "not returned")
