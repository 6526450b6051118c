"""The daily reconciliation with the bank, as regulators read it (jurisdiction and
department; accounts masked)."""

from __future__ import annotations

from chalice.app import Blueprint

from chalicelib.api import schemas, views
from chalicelib.api.routing import Call, Result, route
from chalicelib.domain.supervision.reconciliation import Reconciliation
from chalicelib.service.ports import Page
from chalicelib.service.supervision import reconciliation_results as service

reconciliations = Blueprint(__name__)


@route(reconciliations, "GET", "/v1/regulator/reconciliations",
       summary="A business day's reconciliations of the supervised accounts in the "
               "caller's jurisdiction", tag="supervision",
       query=schemas.ReconciliationDayQuery, response=schemas.ReconciliationPage)
def of_day(call: Call) -> Result:
    q = call.query
    return 200, _page(service.of_day(call.ctx, call.who, q.date, limit=q.limit,
                                     cursor=q.cursor))


@route(reconciliations, "GET", "/v1/regulator/institutions/{institution_id}/reconciliations",
       summary="An institution's supervised account, reconciled day by day (newest first)",
       tag="supervision", query=schemas.PageQuery, response=schemas.ReconciliationPage)
def of_institution(call: Call) -> Result:
    q = call.query
    return 200, _page(service.of_institution(call.ctx, call.who, call.params["institution_id"],
                                             limit=q.limit, cursor=q.cursor))


def _page(page: Page[Reconciliation]) -> schemas.ReconciliationPage:
    return schemas.ReconciliationPage(items=[views.reconciliation(r) for r in page.items],
                                      next_cursor=page.next_cursor)
