"""The rules in force: public, so parents, institutions and regulators read the same."""

from __future__ import annotations

from chalice.app import Blueprint

from chalicelib.api import schemas
from chalicelib.api.routing import Call, Result, route
from chalicelib.domain.calendar import business_date

policy = Blueprint(__name__)


@route(policy, "GET", "/v1/policy", summary="The policy in force for a region today",
       tag="public", query=schemas.PolicyQuery, response=schemas.PolicyView, public=True)
def policy_in_force(call: Call) -> Result:
    region = call.query.region or call.ctx.province_code
    found = call.ctx.policies.effective(region, business_date(call.ctx.now()))
    return 200, schemas.PolicyView(
        region=region, effective_on=found.day, policy=found.policy,
        versions=[schemas.PolicyVersionView(
            region=layer.region, name=layer.name, effective_from=version.effective_from,
            source=version.source, changes=sorted(version.changes),
        ) for layer, version in found.versions],
        next_change_on=found.next_change_on,
    )
