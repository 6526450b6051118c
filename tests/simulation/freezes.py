"""Regulators' measures, over HTTP: a freeze (or its lifting), a blacklisting (or its
lifting), each by one of the offices supervising the run's institutions, and the marker's
fan-out then run as the sweep queue would. The model holds the platform to them: nothing is
sold, taught or paid into a frozen (or blacklisted) institution's orders and none of its
releases is reserved, silence confirms none of its lessons, and once the freeze ends each
lesson still pending gets its whole window again (checks.py), while refunds flow. A measure
is lifted only by its office or its department above it (`model.may_undo`): anyone else is
refused `measure_imposed_elsewhere`, and no freeze is lifted while blacklisted or
liquidating. At the end of a run every measure is lifted (but a liquidation's) so the
waiting releases finish."""

from __future__ import annotations

from chalicelib import bootstrap
from chalicelib.service.institutions import freezes
from chalicelib.service.jobs import sweeps
from tests.simulation import model
from tests.simulation.faults import Fault
from tests.simulation.liquidations import STILL_SELLING
from tests.simulation.people import expect
from tests.simulation.world import World
from tests.support import flows
from tests.support.harness import Reply

REASON = {"reason": "监管措施"}


def toggle(w: World, n: int, office: int, faults: tuple[Fault, ...] = ()) -> str:
    """An office freezes a whitelisted institution, or tries to lift the freeze of a frozen
    (or blacklisted) one."""
    candidates = [i for i in w.institutions if i.status == "whitelisted"
                  or (i.status == "blacklisted" and i.frozen)]
    institution = w.pick(candidates, n)
    if institution is None:
        return "no institution to freeze"
    return change(w, institution, freeze=not institution.frozen,
                  office=_office(institution, office), faults=faults)


def _office(institution: model.Institution, pick: int) -> tuple[str, str]:
    supervising = model.offices(institution.region)
    return supervising[pick % len(supervising)]


def change(w: World, institution: model.Institution, *, freeze: bool,
           office: tuple[str, str], faults: tuple[Fault, ...] = ()) -> str:
    verb = "freeze" if freeze else "unfreeze"
    reply = _as(w, office, institution, verb, faults)
    who = f"{office[0]}@{office[1]}"
    if not freeze:
        refused = _unfreeze_refused(institution, office)
        if refused and institution.thawed_by == office:  # decisions.md: taken for a retry
            expect(reply, {200})
            if reply.body["frozen"] is not True:
                raise model.Violation(f"{institution.institution_id} lifted again by {who}, "
                                      f"who may not: {reply.body}")
            return f"{who} lifting {institution.institution_id} again: answered as it is"
        if refused:
            expect(reply, {refused[0]}, {refused[1]})
            return f"{who} may not unfreeze {institution.institution_id}: {refused[1]}"
    expect(reply, {200})
    if reply.body["frozen"] is not freeze:
        raise model.Violation(f"{institution.institution_id} {verb}: answered {reply.body}")
    if freeze:
        institution.froze(w.now, office, blacklisting=False)
    else:
        institution.thawed_by = office
        w.thawed(institution)
    _fan_out(w)
    return f"{who}: {verb} {institution.institution_id}"


def _unfreeze_refused(institution: model.Institution, office: tuple[str, str]
                      ) -> tuple[int, str] | None:
    if institution.liquidating:
        return 409, "institution_liquidating"
    if institution.status == "blacklisted":
        return 409, "institution_blacklisted"
    if not model.may_undo(office, institution.freeze_office):
        return 403, "measure_imposed_elsewhere"
    return None


def blacklist(w: World, n: int, office: int, faults: tuple[Fault, ...] = ()) -> str:
    """An office blacklists a whitelisted institution (the last ones selling are kept):
    culture, its competent department, may (frozen with it: no payment, no release); one
    in four times education tries, and is refused."""
    institution = w.pick([i for i in w.institutions if i.status == "whitelisted"], n)
    if institution is None:
        return "no institution to blacklist"
    selling = {s.institution_id for s in w.shops if w.purchase_refusal(s) is None}
    if len(selling - {institution.institution_id}) < STILL_SELLING:
        return "no blacklisting: the last institutions selling are kept"
    by = model.offices(institution.region)[office % 3 if office % 4 else 4]
    reply = _as(w, by, institution, "blacklist", faults)
    if by[0] != "culture":
        expect(reply, {403}, {"not_competent_department"})
        return f"{by[0]} may not blacklist {institution.institution_id}"
    expect(reply, {200})
    if (reply.body["status"], reply.body["frozen"]) != ("blacklisted", True):
        raise model.Violation(f"{institution.institution_id} blacklisted: {reply.body}")
    institution.status, institution.blacklist_office = "blacklisted", by
    if not institution.frozen:
        institution.froze(w.now, by, blacklisting=True)
    _fan_out(w)
    return f"{by[0]}@{by[1]} blacklisted {institution.institution_id}"


def unblacklist(w: World, n: int, office: int, faults: tuple[Fault, ...] = ()) -> str:
    """An office tries to lift a blacklisting: its own office or its department above it
    does (back to review, unfrozen if the freeze came with it); anyone else is refused."""
    institution = w.pick([i for i in w.institutions if i.status == "blacklisted"], n)
    if institution is None:
        return "no blacklisted institution"
    return lift(w, institution, _office(institution, office), faults)


def lift(w: World, institution: model.Institution, office: tuple[str, str],
         faults: tuple[Fault, ...] = ()) -> str:
    reply = _as(w, office, institution, "unblacklist", faults)
    who = f"{office[0]}@{office[1]}"
    if not model.may_undo(office, institution.blacklist_office):
        expect(reply, {403}, {"measure_imposed_elsewhere"})
        return f"{who} may not lift {institution.institution_id}'s blacklisting"
    expect(reply, {200})
    thaws = institution.frozen_with_blacklisting and not institution.liquidating
    if (reply.body["status"], reply.body["frozen"]) != ("pending_review", not thaws):
        raise model.Violation(f"{institution.institution_id} off the blacklist: {reply.body}")
    institution.status = "pending_review"
    if thaws:
        institution.thawed_by = office
        w.thawed(institution)
        _fan_out(w)
    return f"{who} lifted {institution.institution_id}'s blacklisting"


def _as(w: World, office: tuple[str, str], institution: model.Institution, action: str,
        faults: tuple[Fault, ...]) -> Reply:
    regulator = flows.regulator(w.p, sub=f"reg-{office[0]}-{office[1]}", region=office[1],
                                department=office[0])
    path = f"/v1/regulator/institutions/{institution.institution_id}/{action}"
    return w.http("POST", path, regulator, REASON, key=w.new_key(), faults=faults)


def _fan_out(w: World) -> None:
    """The marker's fan-out (pass 1), as the sweep queue runs it."""
    with w.faults.armed():
        sweeps.run_all(bootstrap.context(), freezes.JOB)


def freeze_the_busiest(w: World) -> bool:
    """The end of a run: the selling institution with the most lessons pending is frozen
    (if none is frozen with lessons pending already), so that a freeze across the
    confirmation window is seen in every run that has lessons pending; True if one is."""
    def pending(institution: model.Institution) -> int:
        return sum(w.consumptions[c].status == "pending_confirmation" for o in w.orders
                   if w.shop_of(o).institution_id == institution.institution_id
                   for c in o.consumptions)
    frozen = [i for i in w.institutions if i.frozen and pending(i)]
    selling = [i for i in w.institutions if i.status == "whitelisted" and not i.frozen]
    busiest = max(selling, key=pending, default=None)
    if not frozen and busiest is not None and pending(busiest):
        w.note(f"  end: {change(w, busiest, freeze=True, office=model.offices(busiest.region)[0])}")
        return True
    return bool(frozen)


def lift_all(w: World) -> None:
    """The end of a run: every blacklisting and freeze is lifted (but a liquidation's), by
    the office that imposed it, so what waited can finish."""
    for institution in [i for i in w.institutions if i.status == "blacklisted"]:
        w.note(f"  end: {lift(w, institution, institution.blacklist_office)}")
    for institution in [i for i in w.institutions if i.frozen and not i.liquidating]:
        w.note(f"  end: {change(w, institution, freeze=False, office=institution.freeze_office)}")
