"""Who may read a disputed lesson: the institution it belongs to, a regulator supervising
that institution, or the department holding its escalation's case (after a transfer);
anyone else gets 404, as if it did not exist. How a dispute ends: disputes.py."""

from __future__ import annotations

from chalicelib.domain.errors import NotFound
from chalicelib.domain.escrow.consumption import Consumption
from chalicelib.service.caller import Caller, Role, region_prefix
from chalicelib.service.complaints import linked_cases
from chalicelib.service.context import Context
from chalicelib.service.institutions import institutions
from chalicelib.service.ports import Page


def escalated(ctx: Context, caller: Caller, *, limit: int, cursor: str | None
              ) -> Page[Consumption]:
    """The escalated disputes of the caller's jurisdiction and department, by region, then
    by the time each lesson was recorded."""
    caller.require(Role.REGULATOR)
    page = ctx.store.escalated_disputes(region_prefix(caller.region), limit, cursor)
    return institutions.supervised_only(ctx, caller, page)


def of_institution(ctx: Context, caller: Caller, consumption_id: str) -> Consumption:
    own = caller.own_institution()
    found = ctx.store.consumption(consumption_id)
    if found is None or found.institution_id != own:
        raise not_found(consumption_id)
    return found


def supervised(ctx: Context, caller: Caller, consumption_id: str) -> Consumption:
    caller.require(Role.REGULATOR)
    found = ctx.store.consumption(consumption_id)
    if found is None or not _supervises(ctx, caller, found):
        raise not_found(consumption_id)
    return found


def regulated(ctx: Context, caller: Caller, consumption_id: str) -> Consumption:
    """A lesson as a regulator reads it: of an institution it supervises, or one whose
    escalation's case its department holds (after a transfer: it must read what it
    decides). Anyone else: 404."""
    caller.require(Role.REGULATOR)
    found = ctx.store.consumption(consumption_id)
    if found is None or not (_supervises(ctx, caller, found)
                             or linked_cases.held_by(ctx, caller, consumption_id)):
        raise not_found(consumption_id)
    return found


def _supervises(ctx: Context, caller: Caller, consumption: Consumption) -> bool:
    institution = ctx.store.institution(consumption.institution_id)
    return institution is not None and caller.supervises(institution)


def get(ctx: Context, consumption_id: str) -> Consumption:
    found = ctx.store.consumption(consumption_id)
    if found is None:
        raise not_found(consumption_id)
    return found


def not_found(consumption_id: str) -> NotFound:
    return NotFound("消课记录不存在", code="consumption_not_found", consumption_id=consumption_id)
