"""A parent cycling refund request -> the institution's rejection -> escalation -> the
regulator's dismissal -> request again, to keep the order's releases stopped (a request
awaiting its decision stops them): after the dismissal the order takes no request, new or an
older rejection escalated, for its region's working days (the model predicts
`refund_request_too_soon`), and the lessons it had confirmed are released meanwhile (the
end's checks: every lesson released or withdrawn)."""

from __future__ import annotations

from tests.simulation import checks, refunds
from tests.simulation.faults import Fault
from tests.simulation.world import World


def cycle(w: World, order: int, faults: tuple[Fault, ...] = ()) -> str:
    paid = [o for o in w.orders if o.status == "paid" and o.remaining > 0 and not o.open_refund]
    o = w.pick(paid, order)
    if o is None:
        return "no order to cycle refunds on"
    older = [r for r in w.refunds.values() if r.order_id == o.order_id
             and r.status == "rejected" and not r.dismissed]
    steps = [refunds.ask(w, o, faults)]
    r = w.refunds.get(o.open_refund)
    if r is not None:
        for step in (lambda: refunds.decide(w, r, False), lambda: refunds.escalate(w, r),
                     lambda: refunds.regulate(w, r, False)):
            checks.after_step(w)  # the model learns each answer's outcome from the tables
            steps.append(step())
    checks.after_step(w)
    steps.append(refunds.ask(w, o))
    steps += [refunds.escalate(w, rejected) for rejected in older[:1]]
    return "; ".join(steps)
