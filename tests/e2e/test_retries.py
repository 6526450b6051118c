"""Every state change is safe to retry (issue 22, point 7): a client that sends a POST again
after a timeout (its write may have succeeded) gets the answer of its first attempt, never
a 409, 404 or 403 for its own action.

For every non-creating POST route (tests/support/repeats.py): the action is done, someone
else moves its entity on where anyone can, and the very same request is sent again, by the
same caller with the same body: without a key (a plain retry), and under the first
attempt's Idempotency-Key after that attempt did its writes and died before answering (its
key's lease runs out, the retry takes the key over and runs the command again). Each answers
200 with the entity as it is now, and changes nothing. A different decision by the same
caller, or the same decision by another caller, keeps its refusal.

And from point 14: a request whose write committed answers what it committed even when
the step after the commit (instructing the bank) fails, so its Idempotency-Key keeps that
answer instead of being released for a retry to be refused.

On moto only (the `platform` below): the rule is the services' reading of their own records,
the same on any engine, and its 120 scenarios on DynamoDB Local as well cost the CI run
minutes it does not have; the writes they make are each run on DynamoDB Local by the
route's own end-to-end tests.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from botocore.exceptions import ReadTimeoutError

from chalicelib.adapters.dynamo import idempotency as records
from chalicelib.adapters.dynamo.transaction import Transaction
from chalicelib.api import idempotency
from chalicelib.domain.errors import ConcurrentUpdate
from chalicelib.service.refunds import refund_outcomes
from tests.support import flows, repeats
from tests.support.harness import Platform, Reply
from tests.support.repeats import CREATIONS, CULTURE_COUNTY, SCENARIOS, Repeat, ok
from tests.support.snapshot import Snapshot, assert_refused, snapshot


@pytest.fixture
def platform(moto_platform: Platform) -> Platform:
    return moto_platform


class LambdaDied(BaseException):
    """The function stopped after its command ran, before its answer was kept."""


def new_key() -> str:
    return f"key-{uuid.uuid4().hex}"


def without_keys(state: Snapshot) -> Snapshot:
    """The state but the Idempotency-Key records (a retry completes its own)."""
    return replace(state, platform_items=tuple(
        item for item in state.platform_items if '"pk": "idem#' not in item))


def dies_before_answering(monkeypatch: pytest.MonkeyPatch) -> None:
    """The next keyed request runs its command, then its process dies before the answer is
    kept under its key (a timeout after the write, from the client's side)."""
    real = records.DynamoIdempotencyStore.complete
    died: list[bool] = []

    def complete(self: records.DynamoIdempotencyStore, *args: Any, **kwargs: Any) -> None:
        if not died:
            died.append(True)
            raise LambdaDied
        real(self, *args, **kwargs)

    monkeypatch.setattr(records.DynamoIdempotencyStore, "complete", complete)


def wrote_and_died(p: Platform, monkeypatch: pytest.MonkeyPatch,
                   request: Callable[[], Reply]) -> None:
    """`request`, under its key, runs its command and dies unanswered; then its key's lease
    runs out (the retry may take the key over)."""
    dies_before_answering(monkeypatch)
    with pytest.raises(LambdaDied):
        request()
    p.clock.advance(idempotency.IN_PROGRESS_LEASE + timedelta(seconds=1))


def assert_current(answer: dict[str, Any], current: dict[str, Any]) -> None:
    """The answer shows the entity as it is now (every field both show)."""
    shared = (set(answer) & set(current)) - {"timeline", "rating"}  # (a shop's, on a read)
    assert shared, (answer, current)
    assert {k: answer[k] for k in shared} == {k: current[k] for k in shared}


def send(p: Platform, r: Repeat, key: str | None = None) -> Reply:
    return p.post(r.path, r.who, r.body, key=key)


@pytest.mark.parametrize("route", list(SCENARIOS))
def test_the_same_request_again_after_its_entity_moved_on_answers_200_with_it_as_it_is_now(
    platform: Platform, route: str,
) -> None:
    p = platform
    r = SCENARIOS[route](p)
    first = send(p, r)
    assert first.status == r.first_status, first.body
    r.move_on()
    before = snapshot(p)
    again = send(p, r)
    assert again.status == 200, again.body
    assert snapshot(p) == before, "the repeat changed state"
    assert_current(again.body, r.read())
    p.check()


@pytest.mark.parametrize("route", list(SCENARIOS))
def test_a_keyed_retry_after_the_first_attempt_wrote_and_died_answers_200_with_it_as_it_is(
    platform: Platform, monkeypatch: pytest.MonkeyPatch, route: str,
) -> None:
    p = platform
    r = SCENARIOS[route](p)
    key = new_key()
    wrote_and_died(p, monkeypatch, lambda: send(p, r, key))
    r.move_on()
    before = without_keys(snapshot(p))
    taken_over = send(p, r, key)
    assert taken_over.status in {200, r.first_status}, taken_over.body
    assert without_keys(snapshot(p)) == before, "the retry changed state"
    assert_current(taken_over.body, r.read())
    replayed = send(p, r, key)
    assert (replayed.status, replayed.body) == (taken_over.status, taken_over.body)
    p.check()


# the three found on unseen seeds, as they happened there: the write committed, its answer
# timed out, and the client sent the request again (under its key, or without one)

FOUND: dict[str, Callable[[Platform], Repeat]] = {
    "a parent's rejection of an answer (was 409 complaint_not_awaiting_parent)":
        repeats.reject,
    "a department's transfer of a fund-risk case (was 404 complaint_not_found)":
        repeats.transfer_of_a_fund_risk_case,
    "a department's transfer to another region (was 403 not_case_holder)":
        repeats.transfer_sideways,
}


def times_out_after_its_write(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """The next transaction commits, then its caller's connection times out (the
    simulator's `timeout_after_write`): the request fails, its write stands."""
    commit = Transaction.commit
    struck: list[bool] = []

    def commit_then_time_out(self: Transaction) -> None:
        commit(self)
        if not struck:
            struck.append(True)
            raise ReadTimeoutError(endpoint_url="simulated TransactWriteItems")

    monkeypatch.setattr(Transaction, "commit", commit_then_time_out)
    return struck


@pytest.mark.parametrize("keyed", [True, False], ids=["its key", "no key"])
@pytest.mark.parametrize("found", list(FOUND))
def test_found_on_seeds_a_step_whose_answer_timed_out_after_its_write_answers_200_again(
    platform: Platform, monkeypatch: pytest.MonkeyPatch, found: str, keyed: bool,
) -> None:
    p = platform
    r = FOUND[found](p)
    key = new_key() if keyed else None
    struck = times_out_after_its_write(monkeypatch)
    first = send(p, r, key)
    assert (first.status, struck) == (500, [True]), first.body
    monkeypatch.undo()
    before = without_keys(snapshot(p))
    again = send(p, r, key)
    assert again.status == 200, again.body
    assert without_keys(snapshot(p)) == before, "the retry changed state"
    assert_current(again.body, r.read())
    p.check()


# a different decision, or another caller, is refused as before


def officer(p: Platform, claims: dict[str, str]) -> dict[str, str]:
    """Another officer of the same office (another sub)."""
    return flows.regulator(p, **{**claims, "sub": claims["sub"] + "-2"})


def colleague(p: Platform, r: Repeat) -> dict[str, str]:
    """Another member of staff of the institution the entity belongs to."""
    institution_id = r.read()["institution_id"]
    return p.token(f"colleague-at-{institution_id}", "institution",
                   institution_id=institution_id)


Other = Callable[[Platform, Repeat], tuple[str, dict[str, str], Any]]

REFUSED: list[tuple[str, Callable[[Platform], Repeat], Other, int, str]] = [
    ("the parent rejects again for another reason", repeats.reject,
     lambda p, r: (r.path, r.who, {"reason": "另有原因"}), 409, "complaint_not_awaiting_parent"),
    ("the parent accepts what it rejected", repeats.reject,
     lambda p, r: (r.path.replace("/reject", "/accept"), r.who, None), 409,
     "complaint_not_awaiting_parent"),
    ("the office that handed a case on sends it elsewhere", repeats.transfer_sideways,
     lambda p, r: (r.path, r.who, {"department": "sports", "reason": "属体育培训"}), 403,
     "not_case_holder"),
    ("another officer of that office repeats its transfer", repeats.transfer_sideways,
     lambda p, r: (r.path, officer(p, CULTURE_COUNTY), r.body), 403, "not_case_holder"),
    ("another officer repeats a transfer out of the department",
     repeats.transfer_of_a_fund_risk_case,
     lambda p, r: (r.path, officer(p, CULTURE_COUNTY), r.body), 404, "complaint_not_found"),
    ("another officer repeats a note after the case escalated", repeats.note,
     lambda p, r: (r.path, officer(p, CULTURE_COUNTY), r.body), 403, "not_case_holder"),
    ("another officer repeats a resolution the money settled otherwise",
     repeats.resolve_settled_otherwise,
     lambda p, r: (r.path, officer(p, CULTURE_COUNTY), r.body), 409,
     "complaint_not_with_department"),
    ("the institution upholds with another note what the parent confirmed", repeats.uphold,
     lambda p, r: (r.path, r.who, {"note": "另有说明"}), 409, "consumption_not_disputed"),
    ("the parent disputes for another reason what was withdrawn", repeats.dispute,
     lambda p, r: (r.path, r.who, {"reason": "另有原因"}), 409, "consumption_not_pending"),
    ("another member of staff repeats a rejection that was escalated", repeats.reject_refund,
     lambda p, r: (r.path, colleague(p, r), r.body), 409, "refund_not_pending"),
    ("the institution approves what it rejected", repeats.reject_refund,
     lambda p, r: (r.path.replace("/reject", "/approve"), r.who, {}), 409,
     "refund_not_pending"),
    ("the parent escalates a dismissed request for another reason", repeats.escalate_refund,
     lambda p, r: (r.path, r.who, {"reason": "另有原因"}), 409, "refund_already_escalated"),
    ("another competent officer approves what was blacklisted", repeats.approve_institution,
     lambda p, r: (r.path, officer(p, flows.CULTURE | {"region": "440000"}), {}), 409,
     "institution_not_pending"),
    ("the regulator rejects what it approved", repeats.approve_institution,
     lambda p, r: (r.path.replace("/approve", "/reject"), r.who, {}), 409,
     "institution_not_pending"),
    ("another officer lifts a blacklisting lifted already", repeats.unblacklist,
     lambda p, r: (r.path, officer(p, CULTURE_COUNTY), r.body), 409,
     "institution_not_blacklisted"),
    ("another officer lifts a freeze its blacklisting renewed", repeats.unfreeze,
     lambda p, r: (r.path, officer(p, CULTURE_COUNTY), r.body), 409, "institution_blacklisted"),
    ("another competent officer approves a course taken off sale", repeats.approve_course,
     lambda p, r: (r.path, officer(p, flows.CULTURE | {"region": "440000"}), {}), 409,
     "course_not_pending"),
    ("the regulator rejects a course it approved", repeats.approve_course,
     lambda p, r: (r.path.replace("/approve", "/reject"), r.who, {}), 409,
     "course_not_pending"),
    ("the applicant edits a rejected application otherwise", repeats.edit_profile,
     lambda p, r: (r.path, r.who, {"address": "广州市越秀区中山路3号"}), 409,
     "institution_not_editable"),
]


@pytest.mark.parametrize(("name", "scenario", "other", "status", "code"), REFUSED,
                         ids=[row[0] for row in REFUSED])
def test_a_different_decision_or_another_caller_is_refused_as_before(
    platform: Platform, name: str, scenario: Callable[[Platform], Repeat], other: Other,
    status: int, code: str,
) -> None:
    p = platform
    r = scenario(p)
    assert send(p, r).status == r.first_status
    r.move_on()
    path, who, body = other(p, r)
    assert_refused(p, lambda: p.post(path, who, body, key=None), status, code)


# point 14: an Idempotency-Key is never released once the write it answers committed


def refund_whose_payout_step_fails(p: Platform, monkeypatch: pytest.MonkeyPatch
                                   ) -> tuple[flows.Family, dict[str, Any]]:
    """An order paid before its course starts (its refund is approved at once and paid
    out), whose payer's account the bank now refuses; the platform's booking of the
    refusal then loses its race every time (after the refund committed)."""
    shop = flows.open_shop(p, price=repeats.PRICE, starts_on="2026-03-16")
    fam = flows.family(p)
    order = flows.buy_and_pay(p, shop, fam, lessons=2)
    p.bank.close_account(fam.payer_account)
    monkeypatch.setattr(refund_outcomes, "resolve", lost_its_race)
    return fam, order


def lost_its_race(*args: Any, **kwargs: Any) -> None:
    """The booking of the bank's refusal, losing its race every time."""
    raise ConcurrentUpdate("数据正被并发修改，请稍后重试")


def test_a_refund_request_committed_before_its_bank_step_failed_keeps_its_201_under_its_key(
    platform: Platform, monkeypatch: pytest.MonkeyPatch,
) -> None:
    p = platform
    fam, order = refund_whose_payout_step_fails(p, monkeypatch)
    path, key = f"/v1/orders/{order['order_id']}/refund-requests", new_key()
    asked = p.post(path, fam.parent, {"reason": "搬家"}, key=key)
    assert asked.status == 201, asked.body
    assert (asked.body["status"], asked.body["amount_fen"]) == ("refunding", order["amount_fen"])
    retried = p.post(path, fam.parent, {"reason": "搬家"}, key=key)
    assert (retried.status, retried.body) == (201, asked.body)
    monkeypatch.undo()
    p.advance(minutes=11)  # the refund job sends what the fast path could not
    p.run_schedule("settlement_sweeper")
    parked = ok(p.get(f"/v1/refund-requests/{asked.body['refund_id']}", fam.parent))
    assert parked["status"] == "needs_review", parked
    p.check()


def test_an_approval_committed_before_its_bank_step_failed_answers_the_approval(
    platform: Platform, monkeypatch: pytest.MonkeyPatch,
) -> None:
    p = platform
    shop, fam, refund_id = repeats.refund_asked(p)
    p.bank.close_account(fam.payer_account)
    monkeypatch.setattr(refund_outcomes, "resolve", lost_its_race)
    key = new_key()
    approved = p.post(f"/v1/refund-requests/{refund_id}/approve", shop.staff, {}, key=key)
    assert (approved.status, approved.body["status"]) == (200, "refunding"), approved.body
    again = p.post(f"/v1/refund-requests/{refund_id}/approve", shop.staff, {}, key=key)
    assert (again.status, again.body) == (200, approved.body)
    p.check()


# creating POSTs: a retry under the key finds what the first attempt created


@pytest.mark.parametrize("route", list(CREATIONS))
def test_a_creation_retried_under_its_key_after_its_first_attempt_died_finds_what_it_made(
    platform: Platform, monkeypatch: pytest.MonkeyPatch, route: str,
) -> None:
    p = platform
    c = CREATIONS[route](p)
    key = new_key()
    wrote_and_died(p, monkeypatch, lambda: p.post(c.path, c.who, c.body, key=key))
    c.move_on()
    before = without_keys(snapshot(p))
    taken_over = p.post(c.path, c.who, c.body, key=key)
    assert taken_over.status == 201, taken_over.body
    assert without_keys(snapshot(p)) == before, "the retry created or changed something"
    assert_current(taken_over.body, c.read(taken_over.body))
    p.check()
