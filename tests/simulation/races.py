"""Two use cases at once, in lock-step at their AWS calls in the order the seed picks
(tests/simulation/lockstep.py): two confirms of one lesson, a lesson recorded while its
order's parent confirms another, a payment racing the order's expiry, twin requests under one
Idempotency-Key, two lessons racing for one order, one settlement message handled twice at
once, a dispute racing a confirm, a withdrawal racing a confirm, a confirm stalled past its
key's lease while the retry takes it over, two regulators deciding one application. Whatever
the interleaving, each answer must be one the platform could give alone, and the checks
after the step hold the money to account."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from tests.simulation import accounts, disputes, model, people, system, teaching
from tests.simulation.faults import Crash, Fault
from tests.simulation.lockstep import stalled
from tests.simulation.model import Violation
from tests.simulation.world import LEASE, World
from tests.support import flows
from tests.support.harness import Reply

Request = tuple[str, str, dict[str, str], Any, str | None]  # method, path, who, body, key
CONFIRM_WRITES = 4  # its key's reservation, the confirm, its settlement message, the answer


def race(w: World, kind: int, a: int, seed: int, faults: tuple[Fault, ...] = ()) -> str:
    kind %= len(RACES)
    return RACES[kind](w, a, seed, faults)


def _requests(w: World, requests: list[Request], seed: int,
              faults: tuple[Fault, ...]) -> list[Reply]:
    """Send the requests at once; then, as clients do, retry each one that got no answer."""
    def sender(r: Request) -> Callable[[], Reply | None]:
        return lambda: w.p.request(r[0], r[1], r[2], r[3], key=r[4])

    for request in requests:  # before the threads: a token past its life is renewed once
        w.p.signed_in(request[2])

    with w.faults.armed(faults):
        results = w.lockstep.run([sender(r) for r in requests], seed)
    replies = []
    for request, result in zip(requests, results, strict=True):
        if isinstance(result, Reply) and result.status >= 500 and not faults:
            raise Violation(f"{request[1]} answered {result.status} in a race: {result.body}")
        if isinstance(result, BaseException) and not isinstance(result, Crash):
            raise result
        if (not isinstance(result, Reply) or result.status >= 500
                or result.code == "idempotency_request_in_progress"):
            result = w.http(request[0], request[1], request[2], request[3], key=request[4])
        replies.append(result)
    return replies


def _not_withdrawn(w: World) -> list[model.Consumption]:
    return [c for c in w.consumptions.values() if c.status != "withdrawn"]


def two_confirms(w: World, a: int, seed: int, faults: tuple[Fault, ...]) -> str:
    c = w.pick(_not_withdrawn(w), a)
    if c is None:
        return "no lesson to confirm twice"
    parent = w.family_of(w.order(c.order_id)).parent
    path = f"/v1/consumptions/{c.consumption_id}/confirm"
    replies = _requests(w, [("POST", path, parent, None, w.new_key()),
                           ("POST", path, parent, None, w.new_key())], seed, faults)
    for reply in replies:
        people.expect(reply, {200})
    c.parent_confirmed = c.parent_confirmed or c.status in ("pending_confirmation", "disputed")
    return f"two confirms of {c.consumption_id} at once"


def dispute_and_confirm(w: World, a: int, seed: int, faults: tuple[Fault, ...]) -> str:
    c = w.pick(_not_withdrawn(w), a)
    if c is None:
        return "no lesson to dispute and confirm"
    parent = w.family_of(w.order(c.order_id)).parent
    replies = _requests(w, [
        ("POST", f"/v1/consumptions/{c.consumption_id}/dispute", parent, {"reason": "有异议"},
         w.new_key()),
        ("POST", f"/v1/consumptions/{c.consumption_id}/confirm", parent, None, w.new_key()),
    ], seed, faults)
    people.expect(replies[0], {200, 409})
    people.expect(replies[1], {200})
    c.parent_confirmed = c.parent_confirmed or c.status in ("pending_confirmation", "disputed")
    return f"a dispute and a confirm of {c.consumption_id} at once"


def withdraw_and_confirm(w: World, a: int, seed: int, faults: tuple[Fault, ...]) -> str:
    """The institution withdraws a lesson while its parent confirms it: exactly one wins,
    and the other is told so."""
    pending = [c for c in w.consumptions.values() if c.status in disputes.OPEN]
    c = w.pick(pending, a)
    if c is None:
        return "no lesson to withdraw and confirm"
    o = w.order(c.order_id)
    withdrew, confirmed = _requests(w, [
        ("POST", f"/v1/consumptions/{c.consumption_id}/withdraw", w.shop_of(o).staff,
         {"reason": "误录"}, w.new_key()),
        ("POST", f"/v1/consumptions/{c.consumption_id}/confirm", w.family_of(o).parent, None,
         w.new_key()),
    ], seed, faults)
    if withdrew.status == 200:
        people.expect(confirmed, {409}, {"consumption_withdrawn"})
        disputes.withdrawn(w, o, c)
        return f"{c.consumption_id} withdrawn before its confirm"
    people.expect(withdrew, {409}, {"consumption_not_withdrawable"})
    people.expect(confirmed, {200})
    c.parent_confirmed = True
    return f"{c.consumption_id} confirmed before its withdrawal"


def twin_creates(w: World, a: int, seed: int, faults: tuple[Fault, ...]) -> str:
    fam, shop = w.pick(w.families, a), w.pick(w.shops, seed)
    body = {"course_id": shop.course_id, "student_id": fam.student_id, "lessons": 1 + a % 3}
    key = w.new_key()
    replies = _requests(w, [("POST", "/v1/orders", fam.parent, body, key)] * 2, seed, faults)
    status, refusal = w.purchase_refusal(shop) or (
        422, people.refused_purchase(w, fam, shop, body["lessons"]))
    if refusal:
        for reply in replies:
            people.expect(reply, {status}, {refusal})
        return f"twin creates refused: {refusal}"
    ids = {people.expect(r, {200, 201}).body["order_id"] for r in replies}
    if len(ids) != 1:
        raise Violation(f"twin requests under one key created {sorted(ids)}")
    created = replies[0].body
    w.orders.append(model.Order(
        created["order_id"], w.families.index(fam), w.shops.index(shop), body["lessons"],
        created["amount_fen"], created["payment"]["reference"], created["payment"]["account"],
        datetime.fromisoformat(created["payment"]["expires_at"]), key, body, w.now))
    return f"twin creates under one key: {created['order_id']}"


def two_lessons(w: World, a: int, seed: int, faults: tuple[Fault, ...]) -> str:
    """Two lessons at different times for one order (its last lesson, often)."""
    paid = [o for o in w.orders if o.status == "paid" and o.remaining > 0]
    last = [o for o in paid if o.remaining == 1]
    o = w.pick(last or paid, a)
    if o is None:
        return "no paid order for two lessons"
    shop, now = w.shop_of(o), w.now
    bodies = []
    for n in range(2):
        ended = teaching.by_closing(now - timedelta(minutes=1 + seed % 7), shop.minutes) - (
            timedelta(minutes=n * (shop.minutes + 5)))
        started = ended - timedelta(minutes=shop.minutes)
        bodies.append({"course_id": shop.course_id, "started_at": started.isoformat(),
                       "ended_at": ended.isoformat(), "teacher_id": shop.teacher_id,
                       "order_ids": [o.order_id]})
    replies = _requests(w, [("POST", "/v1/lessons", shop.staff, b, w.new_key()) for b in bodies],
                        seed, faults)
    accepted, codes = 0, []
    for body, reply in zip(bodies, replies, strict=True):
        codes.append(reply.code or str(reply.status))
        broken, _ = teaching.predicted_refusals(w, [o],
                                                datetime.fromisoformat(body["started_at"]),
                                                datetime.fromisoformat(body["ended_at"]))
        if broken:  # a time rule refuses it before any order is looked at
            people.expect(reply, {400, 409, 422}, broken)
            continue
        people.expect(reply, {409} if w.frozen(shop) else {201, 409, 422})
        for view in reply.body.get("consumptions", []) if reply.status == 201 else []:
            if view["consumption_id"] not in w.consumptions:
                teaching.remember(w, o, view, datetime.fromisoformat(body["started_at"]),
                                  datetime.fromisoformat(body["ended_at"]),
                                  reply.body["lesson_id"])
                accepted += 1
    return f"two lessons racing for {o.order_id}: {accepted} consumed {codes}"


def payment_and_expiry(w: World, a: int, seed: int, faults: tuple[Fault, ...]) -> str:
    """The bank's payment callbacks delivered while the expiry run and its sweep go."""
    def expiry() -> str:
        system.run_schedule(w, 0)
        for _ in range(10):
            if system.deliver_queue(w, 1, 0) == "sweep queue empty":
                break
        return "expired"

    def callbacks() -> int:
        return sum(w.p.bank.deliver_one(seq) for seq, _, _ in w.p.bank.notifications())

    with w.faults.armed(faults):
        w.lockstep.run([expiry, callbacks], seed)
    return "payment callbacks racing the expiry run"


def duplicate_settlement(w: World, a: int, seed: int, faults: tuple[Fault, ...]) -> str:
    """One settlement message handled by two workers at once (SQS delivered it twice)."""
    url = w.p.plane.settlement_queue_url
    messages = w.p.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1,
                                       AttributeNames=["All"],
                                       VisibilityTimeout=system.VISIBILITY).get("Messages", [])
    if not messages:
        return "no settlement message to deliver twice"
    with w.faults.armed(faults):
        results = w.lockstep.run([lambda: system.invoke(w, "settlement", messages, ())] * 2,
                                 seed)
    failed = set().union(*(r for r in results if isinstance(r, set)))
    system.finish(w, url, messages, failed)
    return f"one settlement message handled twice at once ({len(failed)} failed)"


def callbacks_at_once(w: World, a: int, seed: int, faults: tuple[Fault, ...]) -> str:
    """Two of the bank's callbacks (often two releases of one order) applied at once."""
    queued = w.p.bank.notifications()
    if len(queued) < 2:
        return "fewer than two callbacks to race"
    by_order: dict[str, list[int]] = {}
    for seq, _, body in queued:
        instruction = json.loads(body).get("instruction_id")
        if instruction is not None:
            order_id = w.order_paid_by(instruction)
            by_order.setdefault(order_id, []).append(seq)
    pairs = [seqs[:2] for seqs in by_order.values() if len(seqs) > 1]
    first = a % len(queued)
    chosen = pairs[a % len(pairs)] if pairs else [queued[first][0],
                                                   queued[(first + 1) % len(queued)][0]]
    with w.faults.armed(faults):
        results = w.lockstep.run([lambda seq=seq: w.p.bank.deliver_one(seq) for seq in chosen],
                                 seed)
    return f"two callbacks at once: {results}"


def confirm_outliving_its_lease(w: World, a: int, seed: int,
                                faults: tuple[Fault, ...]) -> str:
    """A parent's confirm stalled before one of its writes (the seed picks which) past its
    key's lease, and the client's retry under the same key taking it over after the lesson
    was settled and the bank called back, so the two runs can answer differently
    (`confirmed`, then `released`). The key must then answer what the retry answered: the
    record belongs to whoever took it over, and the stalled run's late answer must not
    overwrite it."""
    pending = [c for c in w.consumptions.values() if c.status == "pending_confirmation"]
    c = w.pick(pending or _not_withdrawn(w), a)
    if c is None:
        return "no lesson to confirm"
    parent = w.p.signed_in(w.family_of(w.order(c.order_id)).parent)
    path, key = f"/v1/consumptions/{c.consumption_id}/confirm", w.new_key()

    def slow() -> Reply:
        return w.p.request("POST", path, parent, None, key=key)

    def retry_once_it_settled() -> Reply:
        w.p.clock.advance(LEASE)
        system.deliver_queue(w, 0, 0, faults)  # the race's faults may strike: tolerated
        w.deliver_callbacks()
        return w.p.request("POST", path, parent, None, key=key)

    with w.faults.armed(faults):
        results = w.lockstep.run([slow, retry_once_it_settled], seed, stalled(_stall_before(seed)))
    for result in results:
        if isinstance(result, BaseException) and not isinstance(result, Crash):
            raise result
    again = people.expect(w.http("POST", path, parent, None, key=key), {200})
    if again.body["consumption_id"] != c.consumption_id:
        raise Violation(f"the key of a confirm of {c.consumption_id} answers for "
                        f"{again.body['consumption_id']}")
    retried = results[1]
    if isinstance(retried, Reply) and retried.status == 200 and again.body != retried.body:
        raise Violation(f"the key of a confirm of {c.consumption_id} answers "
                        f"{again.body['status']}; the retry that held it answered "
                        f"{retried.body['status']}")
    c.parent_confirmed = c.parent_confirmed or c.status in ("pending_confirmation", "disputed")
    return f"a confirm of {c.consumption_id} outlived its lease"


def _stall_before(seed: int) -> int:
    """Which write of the confirm stalls: its last (the answer, where a late write could
    overwrite what the takeover answered) half the time, any of them otherwise."""
    return CONFIRM_WRITES if seed % 2 else 1 + seed // 2 % CONFIRM_WRITES


def two_releases_of_one_order(w: World, a: int, seed: int,
                              faults: tuple[Fault, ...]) -> str:
    """An order taught twice in a day, both lessons confirmed and settled, and the bank's
    two callbacks arriving at once (API Gateway runs them side by side)."""
    paid = [o for o in w.orders if o.status == "paid" and o.remaining >= 2
            and not o.open_refund
            and not any(w.consumptions[c].status == "disputed" for c in o.consumptions)]
    o = w.pick(paid, a)
    if o is None:
        return "no order with two lessons left"
    shop, lessons = w.orders.index(o), len(o.consumptions)
    for _ in range(2):
        theirs = [x for x in w.orders if x.shop == o.shop]
        teaching.record_lesson(w, o.shop, theirs.index(o), 0, seed)
        w.p.clock.advance(timedelta(minutes=w.shop_of(o).minutes + 30))
    for consumption_id in o.consumptions[lessons:]:
        people.confirm(w, list(w.consumptions).index(consumption_id), 0)
    system.deliver_queue(w, 0, 0)
    return f"order {shop}: " + callbacks_at_once(w, a, seed, faults)


def two_reviews(w: World, a: int, seed: int, faults: tuple[Fault, ...]) -> str:
    """Two regulators decide one application at once, one to whitelist and one to reject:
    exactly one decision stands, the other is told it came too late."""
    pending = [i for i in w.institutions if i.status == "pending_review"]
    institution = w.pick(pending or w.institutions, a)
    if institution is None:
        return "no institution to review"
    base = f"/v1/regulator/institutions/{institution.institution_id}"
    approver, rejecter = (flows.regulator(w.p, sub=sub, department="culture")
                          for sub in ("regulator-a", "regulator-b"))
    replies = _requests(w, [
        ("POST", f"{base}/approve", approver, {}, w.new_key()),
        ("POST", f"{base}/reject", rejecter, {"reason": "材料不全"}, w.new_key())], seed, faults)
    decided = {r.body["status"] for r in replies if r.status == 200}
    late = [r for r in replies if r.status != 200]
    unchecked = institution.status == "pending_review" and not institution.teacher_id
    for reply in late:
        if unchecked and reply.status == 422:  # no staff checked: it cannot be whitelisted
            people.expect(reply, {422}, {"whitelist_criteria_unmet"})
        else:
            people.expect(reply, {409}, {"institution_not_pending", "institution_changed"})
    if institution.status == "pending_review" and len(decided) != 1:
        raise Violation(f"{institution.institution_id} decided {sorted(decided)} at once")
    if institution.status != "pending_review" and decided - {institution.status}:
        raise Violation(f"{institution.institution_id}, {institution.status}, was re-decided "
                        f"{sorted(decided)}")
    institution.status = next(iter(decided), institution.status)
    accounts.decided(w, institution)
    return f"{institution.institution_id} reviewed twice at once: {institution.status}"


RACES: list[Callable[[World, int, int, tuple[Fault, ...]], str]] = [
    two_confirms, dispute_and_confirm, twin_creates, two_lessons, two_lessons,
    payment_and_expiry, duplicate_settlement, callbacks_at_once, callbacks_at_once,
    confirm_outliving_its_lease, confirm_outliving_its_lease, two_releases_of_one_order,
    two_releases_of_one_order, two_releases_of_one_order, two_releases_of_one_order,
    two_reviews, withdraw_and_confirm,
]
"""Each race's share of the race steps (the money races, and a key outliving its lease,
more than once)."""
