"""The schedules keep up and never starve: a run pages through all due work within a time
budget and hands the rest on, a failing item is put aside while the run goes on, and work
that is blocked moves to a later due time with backoff so it cannot hide newer work."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from chalicelib import bootstrap
from chalicelib.adapters.dynamo import keys
from chalicelib.domain.escrow.consumption import Consumption, ConsumptionStatus
from chalicelib.service.jobs import sweeps
from chalicelib.service.ports import SweepTask
from chalicelib.workers import sweeps as sweep_worker
from tests.support import backlog, flows
from tests.support.harness import Platform
from tests.support.invariants import scan

BLOCKED = 150  # more than a page, and more than the 100 per shard the sweep used to read


def due_at(p: Platform, consumption_id: str) -> datetime | None:
    (item,) = [i for i in scan(p.dynamodb, p.plane.platform_table) if i["pk"] == consumption_id]
    return datetime.fromisoformat(item["due_sk"].split("#")[0]) if "due_sk" in item else None


@pytest.mark.parametrize("platform", ["dynamodb_local"], indirect=True)  # moto: 90 s
def test_hundreds_of_blocked_releases_ahead_of_a_lost_message_do_not_hide_it(
    platform: Platform,
) -> None:
    shop = flows.open_shop(platform)
    fam = flows.family(platform)
    order = flows.buy_and_pay(platform, shop, fam, lessons=4)
    lost = flows.record_lesson(platform, shop, [order["order_id"]])["consumptions"][0]
    flows.confirm(platform, fam, lost["consumption_id"])
    assert platform.lose_settlement_messages() == 1
    lost_due = due_at(platform, lost["consumption_id"])
    assert lost_due is not None
    blocked = backlog.blocked_releases(
        platform, BLOCKED, shard=keys.shard(lost["consumption_id"]),
        due_before=lost_due - timedelta(minutes=1),
    )
    platform.check()

    assert platform.clock.now() > lost_due  # building the backlog took the clock past it
    platform.run_schedule("settlement_sweeper")
    platform.settle_everything()
    platform.check()
    assert flows.order_of(platform, fam.parent, order["order_id"])["released_fen"] == (
        shop.price_per_lesson_fen)

    now = platform.clock.now()
    assert all((due_at(platform, c) or now) > now for c in blocked), "blocked work not put off"
    platform.run_schedule("settlement_sweeper")
    assert platform.queued_settlements() == 0, "put-off work came back at once"


def test_blocked_work_is_put_off_longer_each_time_up_to_an_hour(platform: Platform) -> None:
    (blocked,) = backlog.blocked_releases(platform, 1, shard=0, due_before=platform.clock.now())
    waits = []
    for _ in range(9):
        before = platform.clock.now()
        platform.clock.set(max(before, due_at(platform, blocked) or before))
        platform.run_schedule("settlement_sweeper")
        platform.settle_everything()
        due = due_at(platform, blocked)
        assert due is not None
        waits.append(round((due - platform.clock.now()).total_seconds() / 60))
    assert waits == [1, 2, 4, 8, 16, 32, 60, 60, 60]


def test_a_failing_item_is_put_aside_and_the_rest_of_the_run_goes_on(
    platform: Platform,
) -> None:
    shop = flows.open_shop(platform)
    fam = flows.family(platform)
    order = flows.buy_and_pay(platform, shop, fam, lessons=2)
    good = flows.record_lesson(platform, shop, [order["order_id"]])["consumptions"][0]
    ctx = bootstrap.context()
    stored = ctx.store.consumption(good["consumption_id"])
    assert stored is not None
    broken = Consumption(**{  # due first, but its order is gone: confirming it fails
        **stored.__dict__, "order_id": "ord_" + "0" * 26,
        "consumption_id": backlog.id_in_shard("con", keys.shard(good["consumption_id"]),
                                              stored.recorded_at - timedelta(minutes=1)),
    })
    ctx.store.write().create(broken, "consumption", due=(
        "autoconfirm", stored.confirm_deadline - timedelta(minutes=1))).commit()

    platform.clock.set(stored.confirm_deadline + timedelta(minutes=1))
    report = sweeps.run_all(ctx, "autoconfirm")
    assert (report.handled, report.failed_ids) == (1, [broken.consumption_id])
    confirmed = ctx.store.consumption(good["consumption_id"])
    assert confirmed is not None and confirmed.status is ConsumptionStatus.CONFIRMED
    assert due_at(platform, broken.consumption_id) == (
        platform.clock.now() + sweeps.FAILED_ITEM_DELAY)


def test_a_run_that_outgrows_its_budget_continues_where_it_stopped(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop = flows.open_shop(platform)
    families = [flows.family(platform, name) for name in ("小明", "小红", "小刚", "小丽", "小华")]
    orders = [flows.buy_and_pay(platform, shop, fam, lessons=2)["order_id"] for fam in families]
    recorded = flows.record_lesson(platform, shop, orders)["consumptions"]
    deadline = max(c["confirm_by"] for c in recorded)
    monkeypatch.setattr(sweep_worker, "BUDGET", timedelta(0))
    monkeypatch.setattr(sweeps, "PAGE_SIZE", 1)  # every page ends the budget: continue
    platform.clock.set(datetime.fromisoformat(deadline + "T23:59:59+08:00")
                       + timedelta(seconds=2))
    platform.run_schedule("auto_confirm")
    platform.settle_everything()
    platform.check()
    for fam, order_id in zip(families, orders, strict=True):
        assert flows.order_of(platform, fam.parent, order_id)["lessons_released"] == 1


def test_a_run_budget_is_checked_between_pages_and_the_cursor_resumes_exactly(
    platform: Platform,
) -> None:
    shop = flows.open_shop(platform)
    fam = flows.family(platform)
    order = flows.buy_and_pay(platform, shop, fam, lessons=3)
    for _ in range(3):
        flows.record_lesson(platform, shop, [order["order_id"]])
    ctx = bootstrap.context()
    platform.advance(days=30)
    handled = 0
    for shard in range(ctx.schedule.shards):
        task: SweepTask | None = SweepTask("autoconfirm", shard, ctx.now())
        while task is not None:
            report = sweeps.run(ctx, task, budget=timedelta(0), page_size=1)
            handled += report.handled
            task = report.continuation
    assert handled == 3
    assert flows.order_of(platform, fam.parent, order["order_id"])[
        "lessons_confirmed_unreleased"] == 3


def test_a_recovery_run_handles_each_item_once(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocked = backlog.blocked_releases(platform, 3, shard=0, due_before=platform.clock.now())
    monkeypatch.setattr(sweeps, "PAGE_SIZE", 1)  # pages end between items, as in a backlog
    ctx = bootstrap.context()
    grace = timedelta(minutes=ctx.policy("440106").settlement_grace_minutes)
    report = sweeps.run_all(ctx, "settle", until=ctx.now() + grace)  # infra/local/stack.py
    deferrals = []
    for consumption_id in blocked:
        stored = ctx.store.consumption(consumption_id)
        assert stored is not None and keys.shard(consumption_id) == 0
        deferrals.append(stored.deferrals)
    assert (report.handled, deferrals) == (3, [1, 1, 1])
