"""A refund request awaiting its decision stops the order's releases (DOMAIN.md). A parent
must not keep them stopped for good by cycling request -> rejection -> escalation ->
dismissal -> request: once a regulator dismissed an escalation, the order takes no request,
new or escalated, for the policy's working days, and its confirmed lessons are released
meanwhile."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from zoneinfo import ZoneInfo

from tests.e2e.test_refund_escalation import escalate
from tests.e2e.test_refunds import ask, taught_order
from tests.support import flows
from tests.support.harness import Platform
from tests.support.snapshot import assert_refused

SHANGHAI = ZoneInfo("Asia/Shanghai")


def lesson_status(p: Platform, fam: flows.Family, consumption_id: str) -> str:
    listed = p.get("/v1/consumptions?limit=100", fam.parent).body["items"]
    return str(next(c["status"] for c in listed if c["consumption_id"] == consumption_id))


def test_after_a_dismissed_escalation_the_order_takes_no_request_for_ten_working_days(
    platform: Platform,
) -> None:
    p = platform
    shop, fam, order, (lesson,) = taught_order(p, lessons=4, taught=1)
    order_id = order["order_id"]
    first = ask(p, fam, order_id)
    assert first.status == 201, first.body
    flows.confirm(p, fam, lesson)
    p.settle_everything()
    assert lesson_status(p, fam, lesson) == "confirmed"  # its release waits for the request
    no = {"reason": "已按合同上课"}
    assert p.post(f"/v1/refund-requests/{first.body['refund_id']}/reject", shop.staff,
                  no).status == 200
    second = ask(p, fam, order_id, "再申请一次")  # asking again after a rejection: allowed
    assert second.status == 201, second.body
    assert p.post(f"/v1/refund-requests/{second.body['refund_id']}/reject", shop.staff,
                  no).status == 200
    assert escalate(p, fam, second.body["refund_id"]).status == 200
    dismissed = p.post(f"/v1/regulator/refund-requests/{second.body['refund_id']}/dismiss",
                       flows.competent(p), {"reason": "有签到记录"})
    assert dismissed.status == 200, dismissed.body
    assert flows.order_of(p, fam.parent, order_id)["refund_again_on"] == "2026-03-16"

    for again in (partial(ask, p, fam, order_id, "第三次申请"),
                  partial(escalate, p, fam, first.body["refund_id"])):  # an older rejection
        refused = assert_refused(p, again, 422, "refund_request_too_soon")
        assert refused.body["error"]["details"]["again_on"] == "2026-03-16"  # 10 working days
    p.advance(hours=2)
    p.run_schedule("settlement_sweeper")
    p.settle_everything()
    assert lesson_status(p, fam, lesson) == "released"  # the lesson confirmed is paid

    p.clock.set(datetime(2026, 3, 15, 23, 59, tzinfo=SHANGHAI))
    assert_refused(p, partial(ask, p, fam, order_id, "第三次申请"), 422,
                   "refund_request_too_soon")
    p.clock.set(datetime(2026, 3, 16, 0, 0, tzinfo=SHANGHAI))
    later = ask(p, fam, order_id, "第三次申请")
    assert (later.status, later.body["status"]) == (201, "pending_decision"), later.body
    p.check()


def test_a_request_rejected_by_the_institution_alone_may_be_asked_again_at_once(
    platform: Platform,
) -> None:
    p = platform
    shop, fam, order, _ = taught_order(p, lessons=4, taught=1)
    for _ in range(2):
        asked = ask(p, fam, order["order_id"])
        assert asked.status == 201, asked.body
        assert p.post(f"/v1/refund-requests/{asked.body['refund_id']}/reject", shop.staff,
                      {"reason": "已按合同上课"}).status == 200
    p.check()
