"""Which regulator acts on what in the simulated province."""

from __future__ import annotations

from chalicelib import bootstrap
from chalicelib.domain.complaints.complaint import Complaint, Stage
from tests.simulation.world import World
from tests.support import flows


def deciding_regulator(w: World, linked_id: str) -> dict[str, str]:
    """Who decides an escalated refund or lesson on the regulators' routes: the department
    holding its case once one does; before it is routed, the department routing will give
    it to (culture, competent for the run's arts institutions), here at the province."""
    case = bootstrap.context().store.complaint("cmp_" + linked_id.split("_", 1)[1])
    if case is None or case.stage is not Stage.DEPARTMENT:
        return flows.competent(w.p)
    return holder_of(w, case)


def holder_of(w: World, case: Complaint) -> dict[str, str]:
    return flows.regulator(w.p, sub=holder_sub(case), region=case.region,
                           department=str(case.department))


def holder_sub(case: Complaint) -> str:
    """The run's regulator of the office holding the case (or that held it last)."""
    return f"reg-{case.department}-{case.region}"
