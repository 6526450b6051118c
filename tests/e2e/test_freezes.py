"""Freezes: a frozen institution sells nothing new, is hidden from search, records no
lessons and releases nothing, while its parents' refunds still flow; an unfreeze lets the
waiting releases go. The freeze is checked inside each money write's own condition, on the
marker a fan-out copied onto the order (never read before the write)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest

from chalicelib import bootstrap
from chalicelib.domain.calendar import SHANGHAI, business_date
from chalicelib.domain.institutions.catalog import Department, Institution
from chalicelib.service import local_policy
from chalicelib.service.caller import Caller, Role
from chalicelib.service.escrow import orders, settlement, silence
from chalicelib.service.institutions import freezes, institutions
from tests.e2e.test_refunds import PRICE, ask, refund_of, taught_order
from tests.support import flows
from tests.support.concurrency import race
from tests.support.harness import Platform

REASON = {"reason": "涉嫌挪用预收费，立案调查"}


def freeze(p: Platform, institution_id: str, who: dict[str, str] | None = None) -> Any:
    return p.post(f"/v1/regulator/institutions/{institution_id}/freeze",
                  who or flows.regulator(p), REASON)


def unfreeze(p: Platform, institution_id: str) -> Any:
    return p.post(f"/v1/regulator/institutions/{institution_id}/unfreeze",
                  flows.regulator(p), {"reason": "调查结束，未发现问题"})


def swept_later(p: Platform) -> None:
    """The settlement queue drained, then the settlement sweeper's run two hours later."""
    p.settle_everything()
    p.advance(hours=2)
    p.run_schedule("settlement_sweeper")
    p.settle_everything()


def listed(p: Platform, who: dict[str, str] | None, status: str = "whitelisted") -> set[str]:
    got = p.get(f"/v1/institutions?status={status}&limit=100", who)
    assert got.status == 200, got.body
    return {item["institution_id"] for item in got.body["items"]}


def test_a_frozen_institution_sells_teaches_and_releases_nothing_but_refunds_flow(
    platform: Platform,
) -> None:
    shop, fam, order, consumed = taught_order(platform, lessons=7, taught=1)
    frozen = freeze(platform, shop.institution_id)
    assert frozen.status == 200, frozen.body
    assert (frozen.body["frozen"], frozen.body["freeze_reason"]) == (True, REASON["reason"])
    platform.drain_sweeps()  # the marker's fan-out, started at once
    assert flows.order_of(platform, fam.parent, order["order_id"])["frozen"] is True
    assert shop.institution_id not in listed(platform, fam.parent)
    assert shop.institution_id in listed(platform, flows.regulator(platform), "frozen")

    bought = platform.post("/v1/orders", fam.parent, {
        "course_id": shop.course_id, "student_id": fam.student_id, "lessons": 2})
    assert (bought.status, bought.code) == (422, "institution_frozen"), bought.body
    lesson = platform.post("/v1/lessons", shop.staff,
                           flows.teach(platform, shop, [order["order_id"]]))
    assert (lesson.status, lesson.code) == (409, "institution_frozen"), lesson.body

    flows.confirm(platform, fam, consumed[0])  # the parent may still confirm what was taught
    swept_later(platform)
    waiting = flows.order_of(platform, fam.parent, order["order_id"])
    assert (waiting["released_fen"], waiting["lessons_confirmed_unreleased"]) == (0, 1)
    platform.check()

    asked = ask(platform, fam, order["order_id"])  # refunds still flow
    assert asked.status == 201, asked.body
    approved = platform.post(f"/v1/refund-requests/{asked.body['refund_id']}/approve",
                             shop.staff, {})
    assert approved.status == 200, approved.body
    platform.settle_everything()
    assert refund_of(platform, fam.parent, asked.body["refund_id"])["status"] == "refunded"
    assert platform.bank.balance(fam.payer_account) == -PRICE  # paid 7 lessons, 6 back
    platform.check()

    lifted = unfreeze(platform, shop.institution_id)
    assert (lifted.status, lifted.body["frozen"]) == (200, False), lifted.body
    platform.drain_sweeps()
    platform.advance(hours=2)
    platform.run_schedule("settlement_sweeper")  # the waiting release resumes
    platform.settle_everything()
    done = flows.order_of(platform, fam.parent, order["order_id"])
    assert (done["status"], done["frozen"], done["released_fen"], done["refunded_fen"]) == (
        "completed", False, PRICE, 6 * PRICE)
    assert shop.institution_id in listed(platform, fam.parent)
    platform.check()


def test_a_payment_for_a_frozen_institutions_order_goes_back_to_the_payer(
    platform: Platform,
) -> None:
    shop = flows.open_shop(platform, price=PRICE)
    fam = flows.family(platform)
    order = flows.buy(platform, shop, fam, lessons=3)  # bought before the freeze
    assert freeze(platform, shop.institution_id).status == 200
    platform.drain_sweeps()
    flows.pay(platform, fam, order)  # paid after it
    platform.settle_everything()
    unpaid = flows.order_of(platform, fam.parent, order["order_id"])
    assert (unpaid["status"], unpaid["paid_fen"]) == ("pending_payment", 0)
    assert platform.bank.balance(fam.payer_account) == 0  # the money went back
    assert platform.bank.balance(shop.supervised_account) == 0
    platform.check()


def test_freezing_takes_a_reason_a_regulator_of_the_jurisdiction_and_a_whitelisted_institution(
    platform: Platform,
) -> None:
    shop, fam, order, _ = taught_order(platform, lessons=3, taught=0)
    path = f"/v1/regulator/institutions/{shop.institution_id}/freeze"
    assert platform.post(path, flows.regulator(platform), {"reason": ""}).code == (
        "validation_error")
    assert platform.post(path, fam.parent, REASON).status == 403
    assert platform.post(path, shop.staff, REASON).status == 403
    elsewhere = flows.regulator(platform, sub="reg-sz", region="440300")
    assert freeze(platform, shop.institution_id, elsewhere).status == 404
    sports = flows.regulator(platform, sub="reg-gd-sports", department="sports")
    assert freeze(platform, shop.institution_id, sports).status == 404  # culture's business
    applicant = platform.token("staff-applicant", "institution")
    pending = platform.post("/v1/institutions", applicant, flows.application())
    refused = freeze(platform, pending.body["institution_id"])
    assert (refused.status, refused.code) == (409, "institution_not_whitelisted")
    platform.drain_sweeps()
    assert flows.order_of(platform, fam.parent, order["order_id"])["frozen"] is False

    first, again = freeze(platform, shop.institution_id), freeze(platform, shop.institution_id)
    assert first.status == again.status == 200
    assert first.body["frozen_at"] == again.body["frozen_at"]  # frozen once


def test_the_marker_reaches_every_order_page_by_page_and_a_purchase_racing_the_freeze(
    platform: Platform, monkeypatch: pytest.MonkeyPatch,
) -> None:
    shop = flows.open_shop(platform, price=PRICE)
    fam = flows.family(platform)
    orders = [flows.buy_and_pay(platform, shop, fam, lessons=2)["order_id"] for _ in range(5)]
    monkeypatch.setattr(freezes, "PAGE_SIZE", 2)
    monkeypatch.setattr(freezes, "BUDGET_SECONDS", 0.0)  # one page per run: continuations
    assert freeze(platform, shop.institution_id).status == 200
    platform.drain_sweeps()
    marked = [flows.order_of(platform, fam.parent, o)["frozen"] for o in orders]
    assert marked.count(True) == 2  # one page (this clock stands still: the continuation's
    for _ in range(2):              # message is the first run's twin; the schedule goes on)
        platform.advance(minutes=5)
        platform.run_schedule("settlement_sweeper")
    assert all(flows.order_of(platform, fam.parent, o)["frozen"] for o in orders)

    # A purchase that read the institution just before the freeze committed.
    monkeypatch.setattr(institutions, "selling", _read_before_the_freeze)
    late = flows.buy(platform, shop, fam, lessons=2)["order_id"]
    monkeypatch.undo()
    assert flows.order_of(platform, fam.parent, late)["frozen"] is False
    platform.advance(seconds=freezes.SECOND_PASS_AFTER.total_seconds() + 1)
    platform.run_schedule("settlement_sweeper")  # the second pass
    assert flows.order_of(platform, fam.parent, late)["frozen"] is True
    platform.check()


def _read_before_the_freeze(ctx: Any, institution_id: str) -> Institution:
    institution = ctx.store.institution(institution_id)
    return replace(institution, frozen_at=None)


@pytest.mark.parametrize("platform", ["dynamodb_local"], indirect=True)
def test_a_freeze_racing_a_release_either_lets_the_reserved_release_finish_or_holds_it(
    platform: Platform,
) -> None:
    """On the real engine: the release's reservation and the freeze marker are two writes
    of one order item. Whichever commits first, the other adapts: a release reserved first
    is paid; one not reserved yet waits for the unfreeze; nothing is paid twice or lost."""
    shop, fam, order, consumed = taught_order(platform, lessons=3, taught=1)
    flows.confirm(platform, fam, consumed[0])  # its settlement message waits on the queue
    ctx = bootstrap.context()
    regulator = Caller(sub="reg-gd-edu", role=Role.REGULATOR, region="440000",
                       department=Department.EDUCATION)

    freezes.freeze(ctx, regulator, shop.institution_id, reason=REASON["reason"])
    outcome, marked = race(lambda: settlement.settle(ctx, consumed[0]),
                           lambda: freezes.fan_out(ctx, shop.institution_id))
    assert marked
    assert outcome in {"instructed", "confirmed"}, outcome  # reserved first, or it waits
    platform.settle_everything()
    held = flows.order_of(platform, fam.parent, order["order_id"])
    assert held["frozen"] is True
    assert held["released_fen"] == (PRICE if outcome == "instructed" else 0)
    assert held["releasing_fen"] == 0
    platform.check()

    assert unfreeze(platform, shop.institution_id).status == 200
    platform.drain_sweeps()
    platform.advance(hours=2)
    platform.run_schedule("settlement_sweeper")
    platform.settle_everything()
    assert flows.order_of(platform, fam.parent, order["order_id"])["released_fen"] == PRICE
    platform.check()


def test_silence_over_a_freeze_confirms_nothing_and_the_window_starts_again_when_it_ends(
    platform: Platform,
) -> None:
    """Whatever was left of a lesson's window when its institution froze, its parent gets
    the whole window again from the day the freeze ends (docs/decisions.md, issue 22)."""
    p = platform
    shop, fam, order, (early, late) = taught_order(p, lessons=4, taught=2)
    first_deadline = _lesson(p, fam, early)["confirm_by"]
    p.advance(days=10)  # the early lesson's window is partly gone
    assert freeze(p, shop.institution_id).status == 200
    p.drain_sweeps()

    p.clock.set(_end_of(first_deadline) + timedelta(days=3))
    p.run_schedule("auto_confirm")
    p.settle_everything()
    assert {_lesson(p, fam, c)["status"] for c in (early, late)} == {"pending_confirmation"}
    p.check()

    p.advance(days=30)
    ended = p.clock.now()
    assert unfreeze(p, shop.institution_id).status == 200
    p.drain_sweeps()
    ctx = bootstrap.context()
    window = ctx.calendar.add_working_days(
        business_date(ended), local_policy.of_institution(ctx, shop.institution_id)
        .auto_confirm_working_days)
    for lesson in (early, late):
        assert _lesson(p, fam, lesson)["confirm_by"] == window.due_on.isoformat()

    p.clock.set(_end_of(window.due_on.isoformat()) - timedelta(minutes=1))
    p.run_schedule("auto_confirm")
    assert _lesson(p, fam, early)["status"] == "pending_confirmation"
    p.advance(minutes=2)
    p.run_schedule("auto_confirm")
    p.settle_everything()
    assert {_lesson(p, fam, c)["confirmed_by"] for c in (early, late)} == {"auto"}
    assert flows.order_of(p, fam.parent, order["order_id"])["released_fen"] == 2 * PRICE
    p.check()


def test_a_lesson_skipped_while_frozen_and_missed_by_the_unfreeze_gets_its_window_then(
    platform: Platform, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The unfreeze's fan-out reads the parent's lessons from an index; one it does not see
    yet is never confirmed on its old deadline: its window starts again when silence next
    looks at it."""
    p = platform
    shop, fam, _, (lesson,) = taught_order(p, lessons=3, taught=1)
    deadline = _lesson(p, fam, lesson)["confirm_by"]
    assert freeze(p, shop.institution_id).status == 200
    p.drain_sweeps()
    p.clock.set(_end_of(deadline) + timedelta(hours=1))
    p.run_schedule("auto_confirm")  # frozen: looked at again tomorrow
    monkeypatch.setattr(silence, "restart_pending", lambda *args: None)
    assert unfreeze(p, shop.institution_id).status == 200
    p.drain_sweeps()
    monkeypatch.undo()
    assert _lesson(p, fam, lesson)["confirm_by"] == deadline  # not restarted yet

    p.advance(days=1, hours=1)
    looked = p.clock.now()
    p.run_schedule("auto_confirm")
    restarted = _lesson(p, fam, lesson)
    window = bootstrap.context().calendar.add_working_days(business_date(looked), 15)
    assert (restarted["status"], restarted["confirm_by"]) == (
        "pending_confirmation", window.due_on.isoformat())
    p.check()


def test_a_freeze_marker_landing_while_silence_confirms_stops_it(platform: Platform) -> None:
    """Silence judged the order unfrozen, then the freeze's fan-out marked it before the
    confirming write: the write's own condition refuses it."""
    p = platform
    shop, fam, _, (lesson,) = taught_order(p, lessons=3, taught=1)
    ctx = bootstrap.context()
    found = ctx.store.consumption(lesson)
    assert found is not None
    p.clock.set(found.confirm_deadline + timedelta(minutes=1))
    assert freeze(p, shop.institution_id).status == 200
    read_order, reads = orders.get, []

    def marked_after_the_confirming_read(context: Any, order_id: str) -> Any:
        before = read_order(context, order_id)
        reads.append(order_id)
        if len(reads) == 2:  # the confirming attempt's read: the marker lands after it
            freezes.fan_out(context, shop.institution_id)
        return before

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(orders, "get", marked_after_the_confirming_read)
        assert silence.confirm_due(ctx, lesson) is False
    assert len(reads) == 3  # refused by the write's condition, read again: frozen
    assert _lesson(p, fam, lesson)["status"] == "pending_confirmation"
    p.check()


def _lesson(p: Platform, fam: flows.Family, consumption_id: str) -> dict[str, Any]:
    listed = p.get("/v1/consumptions?limit=100", fam.parent)
    assert listed.status == 200, listed.body
    return next(c for c in listed.body["items"] if c["consumption_id"] == consumption_id)


def _end_of(day: str) -> datetime:
    """The first instant after `day` (Asia/Shanghai): a deadline on `day` has passed."""
    return datetime.combine(date.fromisoformat(day) + timedelta(days=1), time(), SHANGHAI)
