"""Each supervised account's business day, reconciled with the bank's statement (T+1).

The rules of matching: chalicelib/domain/supervision/reconciliation.py. Here: which accounts,
which days, and what is kept. Every institution that was ever whitelisted has its current
supervised account reconciled each day, in order: a day is reconciled on the ledger balance
the day before left, so a day whose predecessors were never reconciled (a missed run, the
first run after the platform started reconciling) has them reconciled first, back to the
day before the institution applied, when its account was empty. A day is reconciled again
on demand (ops, `infra.cli reconcile --date`): the result is replaced, so a payment notice
that came after the first run is matched then.

The scheduled run reconciles yesterday once the day has closed and the bank has had
RUN_AFTER to write its statements; a run that could not finish (the bank unavailable for an
account) is run again the next hour, each account's result replaced.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import date, time, timedelta

from chalicelib.domain.calendar import SHANGHAI, business_date
from chalicelib.domain.escrow.bank import account_number
from chalicelib.domain.institutions.catalog import (
    FROZEN_LISTING,
    Department,
    Institution,
    InstitutionStatus,
)
from chalicelib.domain.supervision.reconciliation import Books, Reconciliation, reconcile
from chalicelib.service.context import Context
from chalicelib.service.ports import BankUnavailable, Page

log = logging.getLogger(__name__)

RUN_AFTER = time(2, 0)
"""Yesterday is reconciled from 02:00 (Asia/Shanghai): its statements are written by then."""

PAGE = 100

LISTINGS = (InstitutionStatus.WHITELISTED, FROZEN_LISTING, InstitutionStatus.BLACKLISTED,
            InstitutionStatus.CHANGES_REQUESTED, InstitutionStatus.REJECTED)
"""Where an institution that may hold money is listed (and in review, by department)."""


def reconcile_account(ctx: Context, institution: Institution, day: date) -> Reconciliation:
    """Reconcile the institution's supervised account for `day` (and any day before it not
    yet reconciled). Raises BankUnavailable while the bank cannot give a statement."""
    bank_account = supervised_account(institution)
    account = account_number(bank_account)
    days, carried = _from_last_reconciled(ctx, account, day,
                                          business_date(institution.created_at))
    for each in days:
        result = _reconcile_day(ctx, institution, bank_account, each, carried)
        carried = result.ledger_closing_fen
    return result


def supervised_account(institution: Institution) -> str:
    """Where its parents' money is: the supervised account its department approved (a
    change still in review holds nothing yet: money moves only once it is approved)."""
    return (institution.approved_custodian or institution.custodian).supervised_account


def _from_last_reconciled(ctx: Context, account: str, day: date, first: date
                          ) -> tuple[list[date], int]:
    """The days to reconcile, in order, up to `day` from the first after the last one
    reconciled, and the ledger balance that one left; back to the account's `first` day,
    before which it held nothing (a supervised account opens empty)."""
    days = [day]
    earlier = day - timedelta(days=1)
    while earlier >= first:
        found = ctx.store.reconciliation(account, earlier)
        if found is not None:
            return days[::-1], found.ledger_closing_fen
        days.append(earlier)
        earlier -= timedelta(days=1)
    return days[::-1], 0


def _reconcile_day(ctx: Context, institution: Institution, bank_account: str, day: date,
                   carried: int) -> Reconciliation:
    account = account_number(bank_account)
    statement = ctx.bank.statement(bank_account, day)
    booked = tuple(ctx.store.bank_entries_on(account, day))
    on_the_day = {entry.key for entry in booked}
    elsewhere = [line.key for line in statement.lines if line.key not in on_the_day]
    known = ctx.store.bank_entries(elsewhere) if elsewhere else {}  # the usual day: none
    unknown = [key for key in elsewhere if key not in known]
    books = Books(booked=booked, known=known,
                  instructions=ctx.store.instructions(unknown) if unknown else {},
                  carried_fen=carried)
    outcome = reconcile(statement, books)
    result = Reconciliation(
        account=account, day=day, institution_id=institution.institution_id,
        region_code=institution.region_code, department=str(institution.department),
        status=outcome.status, differences=outcome.differences,
        bank_opening_fen=statement.opening_fen, bank_closing_fen=statement.closing_fen,
        ledger_closing_fen=outcome.ledger_closing_fen, matched=outcome.matched,
        in_flight=outcome.in_flight, reconciled_at=ctx.now(),
    )
    ctx.store.save_reconciliation(result)
    if outcome.differences:
        log.warning("reconciliation of %s for %s: %d difference(s)", account, day,
                    len(outcome.differences))
    return result


def reconcile_day(ctx: Context, day: date
                  ) -> Iterator[tuple[Institution, Reconciliation | None]]:
    """Reconcile every supervised account for `day`, one by one: each institution with its
    result, or None where the bank could not give a statement (logged; the next run asks
    again)."""
    if day >= business_date(ctx.now()):
        raise ValueError(f"{day} is not over yet")
    for institution in supervised_institutions(ctx):
        try:
            yield institution, reconcile_account(ctx, institution, day)
        except BankUnavailable as unavailable:
            log.warning("no statement of %s for %s: %s", institution.institution_id, day,
                        unavailable)
            yield institution, None


def run_scheduled(ctx: Context) -> int:
    """The scheduled run: once yesterday is closed (RUN_AFTER) and not yet reconciled in full,
    reconcile it; marked done only once every account's statement was read. How many
    accounts it reconciled."""
    local = ctx.now().astimezone(SHANGHAI)
    day = local.date() - timedelta(days=1)
    if local.time() < RUN_AFTER or ctx.store.day_reconciled(day):
        return 0
    done = missing = 0
    for _, result in reconcile_day(ctx, day):
        done += result is not None
        missing += result is None
    if not missing:
        ctx.store.mark_day_reconciled(day, ctx.now(), done)
    return done


def supervised_institutions(ctx: Context) -> Iterator[Institution]:
    """Every institution of the province that was ever whitelisted, page by page (the status
    listings and the review queues; no scan)."""
    listings: list[object] = [*LISTINGS, *Department]
    for listing in listings:
        cursor: str | None = None
        while True:
            page = _listing_page(ctx, listing, cursor)
            yield from (i for i in page.items if i.ever_whitelisted)
            cursor = page.next_cursor
            if cursor is None:
                break


def _listing_page(ctx: Context, listing: object, cursor: str | None) -> Page[Institution]:
    if isinstance(listing, Department):
        return ctx.store.institutions_awaiting(listing, ctx.province_code, PAGE, cursor)
    return ctx.store.institutions_by_status(str(listing), ctx.province_code, PAGE, cursor)
