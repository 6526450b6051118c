"""A rejection the parent disagrees with goes to the regulator: escalated, the order waits
again; a regulator supervising the institution orders the refund (priced from the order
then, due within the policy's days) or dismisses the escalation, once. Regulators watch the
payouts in flight against their deadline."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from typer.testing import CliRunner

from infra.cli import cli
from infra.cli import refunds as refunds_cli
from tests.e2e.test_refunds import PRICE, ask, refund_of, taught_order
from tests.support import flows
from tests.support.harness import Platform
from tests.support.served_bank import served


def rejected(p: Platform) -> tuple[flows.Shop, flows.Family, dict[str, Any], str]:
    shop, fam, order, _ = taught_order(p, lessons=3, taught=1)
    refund_id = ask(p, fam, order["order_id"]).body["refund_id"]
    no = p.post(f"/v1/refund-requests/{refund_id}/reject", shop.staff, {"reason": "已按合同上课"})
    assert no.status == 200, no.body
    return shop, fam, order, refund_id


def escalate(p: Platform, fam: flows.Family, refund_id: str) -> Any:
    return p.post(f"/v1/refund-requests/{refund_id}/escalate", fam.parent,
                  {"reason": "机构从未开课，拒绝无理"})


def test_a_regulator_orders_an_escalated_refund_and_the_payer_is_paid(platform: Platform) -> None:
    shop, fam, order, refund_id = rejected(platform)
    flows.record_lesson(platform, shop, [order["order_id"]])  # the order went on meanwhile
    up = escalate(platform, fam, refund_id)
    assert up.status == 200, up.body
    assert (up.body["status"], up.body["lessons"], up.body["amount_fen"]) == (
        "escalated", 1, PRICE)  # priced again: one lesson is left now
    assert escalate(platform, fam, refund_id).body["status"] == "escalated"  # once
    blocked = platform.post("/v1/lessons", shop.staff,
                            flows.teach(platform, shop, [order["order_id"]]))
    assert (blocked.status, blocked.code) == (409, "order_refund_pending")

    province = flows.regulator(platform)
    listed = platform.get("/v1/regulator/refund-requests", province).body["items"]
    assert [r["refund_id"] for r in listed] == [refund_id]
    elsewhere = flows.regulator(platform, sub="reg-sz", region="440300")
    assert platform.get("/v1/regulator/refund-requests", elsewhere).body["items"] == []
    foreign = platform.post(f"/v1/regulator/refund-requests/{refund_id}/order", elsewhere,
                            {"reason": "越权"})
    assert (foreign.status, foreign.code) == (404, "refund_not_found")
    for not_a_regulator in (shop.staff, fam.parent):
        assert platform.post(f"/v1/regulator/refund-requests/{refund_id}/order",
                             not_a_regulator, {"reason": "x"}).status == 403

    decider = flows.competent(platform)  # the department its case goes to (education sees)
    ordered = platform.post(f"/v1/regulator/refund-requests/{refund_id}/order", decider,
                            {"reason": "机构未能证明已上课"})
    assert ordered.status == 200, ordered.body
    body = ordered.body
    assert (body["status"], body["approved_by"], body["regulator_reason"]) == (
        "refunding", "regulator", "机构未能证明已上课")
    assert body["payout_due"] == "2026-03-17"  # 15 days from the order (2 March)
    again = platform.post(f"/v1/regulator/refund-requests/{refund_id}/order", decider,
                          {"reason": "再次"})
    assert again.status == 200 and again.body["status"] == "refunding"
    dismiss = platform.post(f"/v1/regulator/refund-requests/{refund_id}/dismiss", decider,
                            {"reason": "改判"})
    assert (dismiss.status, dismiss.code) == (409, "refund_not_escalated")
    for pending in platform.get("/v1/consumptions?status=pending_confirmation",
                                fam.parent).body["items"]:
        flows.confirm(platform, fam, pending["consumption_id"])  # the two lessons taught
    platform.settle_everything()
    platform.check()
    assert refund_of(platform, fam.parent, refund_id)["status"] == "refunded"
    closed = flows.order_of(platform, fam.parent, order["order_id"])
    assert (closed["status"], closed["released_fen"] + closed["refunded_fen"]) == (
        "completed", 3 * PRICE)


def test_a_dismissed_escalation_lets_the_order_go_on_and_cannot_be_escalated_again(
    platform: Platform,
) -> None:
    shop, fam, order, refund_id = rejected(platform)
    early = platform.post(f"/v1/regulator/refund-requests/{refund_id}/dismiss",
                          flows.regulator(platform), {"reason": "x"})
    assert (early.status, early.code) == (409, "refund_not_escalated")
    assert escalate(platform, fam, refund_id).status == 200
    dismissed = platform.post(f"/v1/regulator/refund-requests/{refund_id}/dismiss",
                              flows.competent(platform), {"reason": "有签到记录"})
    assert dismissed.status == 200, dismissed.body
    assert (dismissed.body["status"], dismissed.body["regulator_reason"]) == ("rejected",
                                                                             "有签到记录")
    assert flows.order_of(platform, fam.parent, order["order_id"])["open_refunds"] == 0
    flows.record_lesson(platform, shop, [order["order_id"]])  # the order goes on
    twice = platform.post(f"/v1/refund-requests/{refund_id}/escalate", fam.parent,
                          {"reason": "再次申诉"})
    assert (twice.status, twice.code) == (409, "refund_already_escalated")
    repeated = escalate(platform, fam, refund_id)  # its own escalation again (issue 22, 7)
    assert (repeated.status, repeated.body["status"]) == (200, "rejected"), repeated.body
    platform.check()


def test_only_a_rejected_request_of_ones_own_is_escalated(platform: Platform) -> None:
    shop, fam, order, rejected_id = rejected(platform)
    stranger = flows.family(platform, "别人家孩子")
    assert escalate(platform, stranger, rejected_id).status == 404
    assert platform.post(f"/v1/refund-requests/{rejected_id}/escalate", shop.staff,
                         {"reason": "x"}).status == 403
    pending_id = ask(platform, fam, order["order_id"], "再申请一次").body["refund_id"]
    waiting = escalate(platform, fam, pending_id)
    assert (waiting.status, waiting.code) == (409, "refund_not_rejected")
    other_open = escalate(platform, fam, rejected_id)
    assert (other_open.status, other_open.code) == (409, "refund_request_open")
    bare = platform.post(f"/v1/refund-requests/{rejected_id}/escalate", fam.parent, {})
    assert (bare.status, bare.code) == (400, "validation_error")
    platform.check()


def test_a_payout_past_its_deadline_is_flagged_overdue_for_the_regulator(
    platform: Platform,
) -> None:
    shop, fam, order, _ = taught_order(platform, lessons=3, taught=1)
    refund_id = ask(platform, fam, order["order_id"]).body["refund_id"]
    platform.bank.close_account(fam.payer_account)
    platform.post(f"/v1/refund-requests/{refund_id}/approve", shop.staff, {})
    parked = refund_of(platform, fam.parent, refund_id)
    assert (parked["status"], parked["payout_due"], parked["payout_overdue"]) == (
        "needs_review", "2026-03-17", False)
    platform.advance(days=16)
    province = flows.regulator(platform)
    listed = platform.get("/v1/regulator/refund-requests?status=needs_review", province)
    assert listed.status == 200, listed.body
    assert [(r["refund_id"], r["payout_overdue"]) for r in listed.body["items"]] == [
        (refund_id, True)]
    platform.check()


@pytest.mark.parametrize("platform", ["moto"], indirect=True)
def test_ops_list_the_refunds_in_flight_and_past_their_deadline_and_retry_parked_ones(
    platform: Platform, monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_target = refunds_cli.target_of
    monkeypatch.setattr(refunds_cli, "target_of", lambda *a: dataclasses.replace(
        real_target(*a), platform_clock=platform.clock))  # the test's clock, not the system's
    shop, fam, order, _ = taught_order(platform, lessons=3, taught=1)
    refund_id = ask(platform, fam, order["order_id"]).body["refund_id"]
    platform.bank.close_account(fam.payer_account)
    platform.post(f"/v1/refund-requests/{refund_id}/approve", shop.staff, {})
    on_time = CliRunner().invoke(cli, ["refunds", "list", "--stage", "test"])
    assert on_time.exit_code == 0, on_time.output
    assert refund_id in on_time.stdout and "needs_review" in on_time.stdout
    assert "1 refund(s), 0 past their payout deadline" in on_time.stdout
    platform.advance(days=16)
    late = CliRunner().invoke(cli, ["refunds", "list", "--overdue", "--status", "needs_review",
                                    "--stage", "test"])
    assert late.exit_code == 0, late.output
    assert f"{refund_id}" in late.stdout and "OVERDUE" in late.stdout
    assert "1 refund(s), 1 past their payout deadline" in late.stdout
    wrong = CliRunner().invoke(cli, ["refunds", "list", "--status", "paid", "--stage", "test"])
    assert wrong.exit_code == 2 and "unknown status paid" in wrong.output

    platform.bank.reopen_account(fam.payer_account)
    with served(platform.bank) as bank_url:  # asked what it did with attempt 1 first
        retry = ["refunds", "retry", refund_id, "--stage", "test", "--bank-url", bank_url]
        retried = CliRunner().invoke(cli, retry)
        assert retried.exit_code == 0, retried.output
        assert f"queued as attempt 2 (instruction bkr_{refund_id[4:]}_2)" in retried.stdout
        again = CliRunner().invoke(cli, retry)
        assert again.exit_code == 1 and "refund_not_needing_review" in again.output
    platform.run_schedule("settlement_sweeper")
    platform.bank.deliver_pending()
    assert refund_of(platform, fam.parent, refund_id)["status"] == "refunded"
    platform.check()
