"""A regulator freezes a whitelisted institution (or lifts its freeze), over HTTP, and the
marker's fan-out runs on the schedule. The model then holds the platform to it: nothing is
sold, taught or paid into a frozen institution's orders and none of its releases is
reserved (checks.py), while refunds flow; at the end of a run every freeze is lifted so the
waiting releases finish."""

from __future__ import annotations

from chalicelib import bootstrap
from chalicelib.service import freezes, sweeps
from tests.simulation import model
from tests.simulation.faults import Fault
from tests.simulation.people import expect
from tests.simulation.world import World
from tests.support import flows


def toggle(w: World, n: int, faults: tuple[Fault, ...] = ()) -> str:
    """Freeze a whitelisted institution, or unfreeze a frozen one; then its orders are
    marked (pass 1 of the fan-out, as the sweep queue would run it)."""
    whitelisted = [i for i in w.institutions if i.status == "whitelisted"]
    institution = w.pick(whitelisted, n)
    if institution is None:
        return "no institution to freeze"
    return change(w, institution, freeze=not institution.frozen, faults=faults)


def change(w: World, institution: model.Institution, *, freeze: bool,
           faults: tuple[Fault, ...] = ()) -> str:
    verb = "freeze" if freeze else "unfreeze"
    path = f"/v1/regulator/institutions/{institution.institution_id}/{verb}"
    reply = w.http("POST", path, flows.regulator(w.p), {"reason": "监管措施"},
                   key=w.new_key(), faults=faults)
    if institution.liquidating and not freeze:
        expect(reply, {409}, {"institution_liquidating"})
        return f"{institution.institution_id} is being liquidated: not unfrozen"
    expect(reply, {200})
    if reply.body["frozen"] is not freeze:
        raise model.Violation(f"{institution.institution_id} {verb}: answered {reply.body}")
    institution.frozen = freeze
    with w.faults.armed():
        sweeps.run_all(bootstrap.context(), freezes.JOB)
    return f"{verb} {institution.institution_id}"


def lift_all(w: World) -> None:
    """The end of a run: every freeze is lifted (but a liquidation's), so what waited can
    finish."""
    for institution in [i for i in w.institutions if i.frozen and not i.liquidating]:
        w.note(f"  end: {change(w, institution, freeze=False)}")
