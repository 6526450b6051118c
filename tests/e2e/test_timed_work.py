"""Timed work re-checks time: every scheduled or queued job that acts on a deadline checks
it against the platform's clock when it acts, whatever instant its sweep message carries. A
message naming a future instant (a bug upstream, a forged or replayed message) pulls no work
forward: the sweep pages only what is due by now, and each handler checks its own deadline
(a lesson's confirm-by day, a dispute's answer-by day, a refund's decide-by day, a case's
due day, an order's payment deadline, a freeze's second pass, a liquidation's next look)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest

from chalicelib import bootstrap
from chalicelib.domain.institutions.catalog import Institution
from chalicelib.domain.institutions.liquidation import LIST_AFTER
from chalicelib.service.context import Context
from chalicelib.service.institutions import freezes, institutions
from chalicelib.service.jobs import sweeps
from chalicelib.service.jobs.schedules import JOBS
from chalicelib.service.ports import Page, SweepTask
from tests.e2e.test_complaints import case, file
from tests.e2e.test_refunds import PRICE, ask, refund_of
from tests.e2e.test_sweeps import due_at
from tests.support import flows
from tests.support.harness import Platform

FAR = timedelta(days=60)


def from_the_future(p: Platform, job: str, until: datetime) -> None:
    """A run of `job` whose messages name `until`, delivered to the sweep worker."""
    ctx = bootstrap.context()
    for shard in range(ctx.schedule.shards):
        ctx.publisher.publish_sweep(SweepTask(job, shard, until))
    p.drain_sweeps()


def consumption(p: Platform, who: dict[str, str], consumption_id: str) -> dict[str, Any]:
    listed = p.get("/v1/consumptions?limit=100", who)
    assert listed.status == 200, listed.body
    return next(c for c in listed.body["items"] if c["consumption_id"] == consumption_id)


def a_pending_and_a_disputed_lesson(p: Platform
                                    ) -> tuple[flows.Shop, flows.Family, str, str, str]:
    """An order of 4 lessons with one lesson pending and one disputed: (the shop, the
    family, the order's id, the pending lesson's, the disputed one's)."""
    shop = flows.open_shop(p, price=PRICE)
    fam = flows.family(p)
    order = flows.buy_and_pay(p, shop, fam, lessons=4)["order_id"]
    pending, disputed = (flows.record_lesson(p, shop, [order])["consumptions"][0]
                         ["consumption_id"] for _ in range(2))
    flows.dispute(p, fam, disputed)
    return shop, fam, order, pending, disputed


def test_sweep_messages_from_the_future_act_on_no_deadline_before_it_comes(
    platform: Platform,
) -> None:
    p = platform
    shop, fam, order, silent, disputed = a_pending_and_a_disputed_lesson(p)
    other = flows.family(p, "小红")
    asking = flows.buy_and_pay(p, shop, other, lessons=3)["order_id"]
    flows.record_lesson(p, shop, [asking])
    asked = ask(p, other, asking)
    assert asked.status == 201 and asked.body["status"] == "pending_decision", asked.body
    complaint = file(p, fam.parent, shop.institution_id)["complaint_id"]
    p.drain_complaints()
    assert case(p, fam.parent, complaint)["stage"] == "institution"
    unpaid = flows.buy(p, shop, fam, lessons=1)["order_id"]

    future = p.clock.now() + FAR
    for job in ("expire", "autoconfirm", "disputeescalate", "refunddecide", "complaintdue"):
        from_the_future(p, job, future)
    p.settle_everything()
    assert flows.order_of(p, fam.parent, unpaid)["status"] == "pending_payment"
    assert consumption(p, fam.parent, silent)["status"] == "pending_confirmation"
    assert consumption(p, fam.parent, disputed)["escalated_at"] is None
    assert refund_of(p, other.parent, asked.body["refund_id"])["status"] == "pending_decision"
    assert case(p, fam.parent, complaint)["stage"] == "institution"
    assert flows.order_of(p, fam.parent, order)["released_fen"] == 0
    p.check()

    p.clock.set(future)  # the same work, once its time has come
    p.run_schedule("expire_orders")
    p.run_schedule("auto_confirm")
    p.settle_everything()
    assert flows.order_of(p, fam.parent, unpaid)["status"] == "expired"
    assert consumption(p, fam.parent, silent)["confirmed_by"] == "auto"
    assert consumption(p, fam.parent, disputed)["escalated_at"] is not None
    assert refund_of(p, other.parent, asked.body["refund_id"])["approved_by"] == "silence"
    assert case(p, fam.parent, complaint)["stage"] != "institution"
    p.check()


def test_a_sweep_message_from_the_future_does_not_pull_put_off_work_forward(
    platform: Platform,
) -> None:
    """A release waiting on a dispute is put off with backoff; a run naming a later instant
    leaves it where it is, and the run at its time drives it again."""
    p = platform
    _, fam, _, waiting, _ = a_pending_and_a_disputed_lesson(p)
    flows.confirm(p, fam, waiting)
    p.settle_everything()  # blocked by the dispute: it waits on the schedule
    due = due_at(p, waiting)
    assert due is not None and due > p.clock.now()

    from_the_future(p, "settle", due + FAR)
    assert due_at(p, waiting) == due
    assert p.queued_settlements() == 0

    p.clock.set(due)
    p.run_schedule("settlement_sweeper")
    later = due_at(p, waiting)
    assert later is not None and later > due  # driven again, and put off again
    p.check()


class _Recorded:
    """The schedule port, recording the instants the sweep pages up to."""

    def __init__(self, real: Any) -> None:
        self.real, self.shards, self.untils = real, real.shards, []

    def due_page(self, job: str, shard: int, until: datetime, limit: int, cursor: str | None
                 ) -> Page[str]:
        self.untils.append(until)
        return self.real.due_page(job, shard, until, limit, cursor)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


@pytest.mark.parametrize("job", sorted(JOBS))
def test_every_job_pages_only_the_work_due_by_the_platform_clock(
    platform: Platform, job: str,
) -> None:
    ctx: Context = bootstrap.context()
    recorded = _Recorded(ctx.schedule)
    clamped = replace(ctx, schedule=recorded)  # type: ignore[arg-type]
    now = ctx.now()
    sweeps.run(clamped, SweepTask(job, 0, now + FAR), budget=timedelta(seconds=5))
    stale = now - timedelta(days=1)  # a stale instant pages only what was due then
    sweeps.run(clamped, SweepTask(job, 0, stale), budget=timedelta(seconds=5))
    assert recorded.untils == [now, stale]


def test_a_freeze_second_pass_waits_for_its_time_whatever_a_message_says(
    platform: Platform, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The second pass marks orders bought from a read of the institution made just before
    the freeze; run early, it would finish before such an order is written."""
    p = platform
    shop = flows.open_shop(p, price=PRICE)
    fam = flows.family(p)
    flows.buy_and_pay(p, shop, fam, lessons=2)
    assert p.post(f"/v1/regulator/institutions/{shop.institution_id}/freeze",
                  flows.regulator(p), {"reason": "立案调查"}).status == 200
    p.drain_sweeps()  # pass 1
    from_the_future(p, freezes.JOB, p.clock.now() + FAR)

    monkeypatch.setattr(institutions, "selling", _read_before_the_freeze)
    late = flows.buy(p, shop, fam, lessons=2)["order_id"]
    monkeypatch.undo()
    p.advance(seconds=freezes.SECOND_PASS_AFTER.total_seconds() + 1)
    p.run_schedule("settlement_sweeper")
    assert flows.order_of(p, fam.parent, late)["frozen"] is True
    p.check()


def _read_before_the_freeze(ctx: Any, institution_id: str) -> Institution:
    institution = ctx.store.institution(institution_id)
    return replace(institution, frozen_at=None)


def test_a_liquidation_looks_at_its_progress_only_when_its_next_look_is_due(
    platform: Platform,
) -> None:
    p = platform
    shop = flows.open_shop(p, price=PRICE)
    for n in range(2):
        flows.buy_and_pay(p, shop, flows.family(p, f"孩子{n}"), lessons=2)
    assert p.post(f"/v1/regulator/institutions/{shop.institution_id}/liquidate",
                  flows.regulator(p), {"reason": "机构停业"}).status == 200
    p.drain_sweeps()
    p.advance(seconds=LIST_AFTER.total_seconds() + 1)
    from_the_future(p, "liquidate", p.clock.now() + FAR)  # listing is due: it lists
    listed = _queued_liquidations(p)
    assert listed == 2

    from_the_future(p, "liquidate", p.clock.now() + FAR)  # the next look is not due
    assert _queued_liquidations(p) == listed  # nothing listed again
    p.drain_liquidation()
    p.settle_everything()
    p.check()


def _queued_liquidations(p: Platform) -> int:
    attributes = p.sqs.get_queue_attributes(
        QueueUrl=p.plane.liquidation_queue_url,
        AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"])
