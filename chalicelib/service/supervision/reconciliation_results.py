"""What regulators read of the reconciliations: a day's, across their jurisdiction and
department, and one institution's, day by day (newest first). Anyone else: refused; an
institution outside the caller's supervision: 404, as if it did not exist."""

from __future__ import annotations

from datetime import date

from chalicelib.domain.supervision.reconciliation import Reconciliation
from chalicelib.service.caller import Caller, Role, region_prefix
from chalicelib.service.context import Context
from chalicelib.service.institutions import institutions
from chalicelib.service.ports import Page
from chalicelib.service.supervision.reconciliations import supervised_account


def of_day(ctx: Context, caller: Caller, day: date, *, limit: int, cursor: str | None
           ) -> Page[Reconciliation]:
    caller.require(Role.REGULATOR)
    page = ctx.store.reconciliations_on(day, region_prefix(caller.region), limit, cursor)
    return institutions.supervised_only(ctx, caller, page)


def of_institution(ctx: Context, caller: Caller, institution_id: str, *, limit: int,
                   cursor: str | None) -> Page[Reconciliation]:
    caller.require(Role.REGULATOR)
    institution = institutions.visible_to_regulator(ctx, caller, institution_id)
    return ctx.store.reconciliations_of(supervised_account(institution), limit, cursor)
