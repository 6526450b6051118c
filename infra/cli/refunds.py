"""Refunds in flight and waiting on a regulator, across the province: what ops watch
against the payout deadlines (chalicelib/domain/refunds/refund.py), and pay out again once the bank
refused them for good and the payer's account is fixed.

    python -m infra.cli refunds list [--status refunding] [--overdue] [--stage local]
    python -m infra.cli refunds retry rfd_… [rfd_… ...] [--stage local]
"""

from __future__ import annotations

from functools import partial
from typing import Annotated

import typer

from chalicelib.adapters.dynamo.records import REGULATED_REFUNDS
from chalicelib.domain.calendar import business_date
from chalicelib.domain.refunds.refund import RefundStatus
from chalicelib.service.refunds import refund_payouts
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

refunds = typer.Typer(no_args_is_help=True, help=__doc__.splitlines()[0])
cli.add_typer(refunds, name="refunds")

PAGE = 100
STATUSES = sorted(str(s) for s in REGULATED_REFUNDS)


@refunds.command("list")
def list_refunds(
    status: Annotated[list[str], typer.Option(help=f"any of {', '.join(STATUSES)}")] = STATUSES,
    overdue: Annotated[bool, typer.Option(help="only payouts past their payout_due")] = False,
    stage: Stage = "local", endpoint_url: EndpointUrl = "", region: Region = "",
) -> None:
    """Refund requests escalated or being paid out, each with its deadline."""
    require_known(status, STATUSES)
    target = target_of(stage, endpoint_url, region)
    store, today = target.store(), business_date(target.clock().now())
    typer.echo(f"{target.description}\n")
    typer.echo(f"{'refund':<32} {'order':<32} {'status':<12} {'amount_fen':>10}  payout_due")
    shown = late = 0
    with aws_errors_end_the_command():
        for wanted in status:
            for r in every(partial(store.refunds_by_status, RefundStatus(wanted), "", PAGE)):
                is_late = r.payout_overdue(today)
                if overdue and not is_late:
                    continue
                typer.echo(f"{r.refund_id:<32} {r.order_id:<32} {r.status:<12} "
                           f"{r.amount_fen:>10}  {r.payout_due}{'  OVERDUE' * is_late}")
                shown, late = shown + 1, late + is_late
    typer.echo(f"\n{shown} refund(s), {late} past their payout deadline")


@refunds.command("retry")
def retry_parked(
    refund_ids: Annotated[list[str], typer.Argument(help="parked refunds to pay out again")],
    stage: Stage = "local", endpoint_url: EndpointUrl = "", region: Region = "",
    bank_url: BankUrl = "",
) -> None:
    """Pay parked refunds out again, each under a new attempt (a new bank instruction id),
    reserved and sent by the settlement sweeper's next run; unless the bank says it paid
    the last one: that is booked, not sent again."""
    ctx = target_of(stage, endpoint_url, region, bank_url).context()

    def queue(refund_id: str) -> str:
        retried = refund_payouts.retry_parked(ctx, refund_id)
        if retried.status is RefundStatus.REFUNDED:
            return f"booked: the bank had paid {retried.instruction_id} (not sent again)"
        return f"queued as attempt {retried.attempt} (instruction {retried.instruction_id})"

    each_or_exit(refund_ids, queue, "not retried")
