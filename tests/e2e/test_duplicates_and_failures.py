"""Duplicates, failures, races and lost work: the ledger stays right and the work gets done."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from chalicelib import bootstrap
from chalicelib.domain.errors import PlatformError
from chalicelib.domain.escrow.consumption import ConfirmedBy
from chalicelib.service.caller import Caller, Role
from chalicelib.service.escrow import consumptions, lessons
from tests.support import flows
from tests.support.concurrency import race, refused_or_result
from tests.support.harness import Platform
from tests.support.invariants import scan


def one_confirmed_lesson(p: Platform, lessons_bought: int = 4) -> tuple[Any, Any, dict, str]:
    shop = flows.open_shop(p, price=12_500)
    fam = flows.family(p)
    order = flows.buy_and_pay(p, shop, fam, lessons=lessons_bought)
    lesson = flows.record_lesson(p, shop, [order["order_id"]])
    consumption_id = lesson["consumptions"][0]["consumption_id"]
    flows.confirm(p, fam, consumption_id)
    p.check()
    return shop, fam, order, consumption_id


def journal_of(p: Platform, order_id: str) -> list[dict[str, Any]]:
    return [e for e in scan(p.dynamodb, p.plane.journal_table) if e["order_id"] == order_id]


def test_a_payment_notification_delivered_three_times_is_applied_once(platform: Platform) -> None:
    shop = flows.open_shop(platform)
    fam = flows.family(platform)
    order = flows.buy(platform, shop, fam, lessons=3)
    platform.bank.duplicate_callbacks(3)
    flows.pay(platform, fam, order)
    platform.check()
    seen = flows.order_of(platform, fam.parent, order["order_id"])
    assert seen["held_fen"] == order["amount_fen"] and seen["paid_fen"] == order["amount_fen"]
    assert len(journal_of(platform, order["order_id"])) == 1


def test_a_settlement_message_delivered_twice_releases_the_money_once(platform: Platform) -> None:
    shop, fam, order, _ = one_confirmed_lesson(platform)
    (message,) = platform.receive_settlement()
    assert platform.invoke_worker([message]) == set()
    assert platform.invoke_worker([message]) == set()
    platform.check()
    platform.bank.deliver_pending()
    platform.check()
    assert platform.invoke_worker([message]) == set()
    platform.bank.deliver_pending()
    platform.check()
    assert platform.bank.instructions_executed() == 1
    assert platform.bank.balance(shop.general_account) == 12_500
    assert flows.order_of(platform, fam.parent, order["order_id"])["released_fen"] == 12_500


def test_a_failed_bank_transfer_is_voided_and_retried_until_it_succeeds_once(
    platform: Platform,
) -> None:
    shop, fam, order, consumption_id = one_confirmed_lesson(platform)
    platform.bank.fail_next_transfers(1)
    platform.drain_settlement()
    platform.bank.deliver_pending()
    platform.check()
    after_failure = flows.order_of(platform, fam.parent, order["order_id"])
    assert (after_failure["releasing_fen"], after_failure["released_fen"]) == (0, 0)
    assert after_failure["held_fen"] == order["amount_fen"]

    platform.settle_everything()
    platform.check()
    released = flows.order_of(platform, fam.parent, order["order_id"])
    assert released["released_fen"] == 12_500 and released["lessons_released"] == 1
    assert platform.bank.balance(shop.general_account) == 12_500
    phases = sorted(e["phase"] for e in journal_of(platform, order["order_id"]))
    assert phases == ["pending", "pending", "post", "single", "void"]
    consumptions = platform.get("/v1/consumptions?status=released", fam.parent).body["items"]
    assert [c["consumption_id"] for c in consumptions] == [consumption_id]


def test_a_lost_settlement_message_is_found_by_the_sweeper_and_released(
    platform: Platform,
) -> None:
    shop, fam, order, _ = one_confirmed_lesson(platform)
    assert platform.lose_settlement_messages() == 1
    platform.run_schedule("settlement_sweeper")
    assert platform.queued_settlements() == 0  # not overdue yet
    platform.advance(minutes=11)
    platform.run_schedule("settlement_sweeper")
    assert platform.queued_settlements() == 1
    platform.settle_everything()
    platform.check()
    assert flows.order_of(platform, fam.parent, order["order_id"])["released_fen"] == 12_500
    assert platform.bank.balance(shop.general_account) == 12_500


def test_a_release_the_bank_could_not_take_is_put_off_and_instructed_again_by_the_sweep(
    platform: Platform,
) -> None:
    _shop, fam, order, _ = one_confirmed_lesson(platform)
    platform.bank.set_unavailable(True)
    (message,) = platform.receive_settlement()
    assert platform.run_worker([message]) == []  # put off: no use redelivering at once
    platform.check()
    reserved = flows.order_of(platform, fam.parent, order["order_id"])
    assert reserved["releasing_fen"] == 12_500
    for _ in range(3):  # the bank stays down: each sweep puts it off a little longer
        platform.advance(minutes=70)
        platform.run_schedule("settlement_sweeper")
        platform.settle_everything()
        assert flows.order_of(platform, fam.parent, order["order_id"])["releasing_fen"] == 12_500
    platform.bank.set_unavailable(False)
    platform.advance(minutes=70)
    platform.run_schedule("settlement_sweeper")
    platform.settle_everything()
    platform.check()
    assert flows.order_of(platform, fam.parent, order["order_id"])["released_fen"] == 12_500
    assert platform.bank.instructions_executed() == 1


def test_a_releasing_consumption_whose_message_was_lost_is_reinstructed_by_the_sweeper(
    platform: Platform,
) -> None:
    shop, _fam, _order, _ = one_confirmed_lesson(platform)
    platform.bank.set_unavailable(True)
    platform.run_worker(platform.receive_settlement())
    platform.lose_settlement_messages()
    platform.bank.set_unavailable(False)
    platform.advance(minutes=11)
    platform.run_schedule("settlement_sweeper")
    assert platform.queued_settlements() == 1
    platform.settle_everything()
    platform.check()
    assert platform.bank.balance(shop.general_account) == 12_500


# moto applies concurrent transactions without isolation (no lock around its table copies), so
# races are only meaningful on the real engine.
@pytest.mark.parametrize("platform", ["dynamodb_local"], indirect=True)
def test_two_threads_confirming_the_same_lesson_release_it_once(platform: Platform) -> None:
    shop = flows.open_shop(platform, price=9_000)
    fam = flows.family(platform)
    order = flows.buy_and_pay(platform, shop, fam, lessons=2)
    lesson = flows.record_lesson(platform, shop, [order["order_id"]])
    consumption_id = lesson["consumptions"][0]["consumption_id"]
    ctx = bootstrap.context()

    def confirm() -> str:
        return consumptions.confirm_now(ctx, consumption_id, ConfirmedBy.PARENT).status

    results = race(confirm, confirm)
    assert results == ["confirmed", "confirmed"]
    platform.check()
    seen = flows.order_of(platform, fam.parent, order["order_id"])
    assert seen["lessons_confirmed_unreleased"] == 1 and seen["lessons_pending_confirmation"] == 0
    platform.settle_everything()
    platform.check()
    assert platform.bank.balance(shop.general_account) == 9_000
    assert platform.bank.instructions_executed() == 1


def test_a_payment_of_the_wrong_amount_is_recorded_for_review_and_not_applied(
    platform: Platform,
) -> None:
    shop = flows.open_shop(platform)
    fam = flows.family(platform)
    order = flows.buy(platform, shop, fam, lessons=2)
    flows.pay(platform, fam, order, amount_fen=order["amount_fen"] - 1)
    platform.check()
    seen = flows.order_of(platform, fam.parent, order["order_id"])
    assert seen["status"] == "pending_payment" and seen["paid_fen"] == 0
    unmatched = [
        i for i in scan(platform.dynamodb, platform.plane.platform_table)
        if i["sk"] == "#unmatched_payment"
    ]
    assert [(u["reason"], u["amount_fen"], u["order_id"]) for u in unmatched] == [
        ("amount_mismatch", order["amount_fen"] - 1, order["order_id"])
    ]
    assert journal_of(platform, order["order_id"]) == []


def test_money_for_an_expired_order_is_recorded_for_return_not_kept(platform: Platform) -> None:
    shop = flows.open_shop(platform)
    fam = flows.family(platform)
    order = flows.buy(platform, shop, fam, lessons=2)
    platform.advance(minutes=31)
    platform.run_schedule("expire_orders")
    assert flows.order_of(platform, fam.parent, order["order_id"])["status"] == "expired"
    flows.pay(platform, fam, order)
    platform.check()
    unmatched = [
        i for i in scan(platform.dynamodb, platform.plane.platform_table)
        if i["sk"] == "#unmatched_payment"
    ]
    assert [u["reason"] for u in unmatched] == ["order_not_payable"]


def test_a_second_payment_for_a_paid_order_is_recorded_for_return(platform: Platform) -> None:
    shop = flows.open_shop(platform)
    fam = flows.family(platform)
    order = flows.buy_and_pay(platform, shop, fam, lessons=2)
    flows.pay(platform, fam, order)
    platform.check()
    assert flows.order_of(platform, fam.parent, order["order_id"])["paid_fen"] == order[
        "amount_fen"]
    assert len(journal_of(platform, order["order_id"])) == 1


def test_silence_for_fifteen_working_days_confirms_the_lesson_and_releases_it(
    platform: Platform,
) -> None:
    shop = flows.open_shop(platform, price=10_000)
    fam = flows.family(platform)
    order = flows.buy_and_pay(platform, shop, fam, lessons=3)
    lesson = flows.record_lesson(platform, shop, [order["order_id"]])
    (consumption,) = lesson["consumptions"]
    assert consumption["confirm_by"] == "2026-03-23"  # 15 working days after Mon 2 March
    platform.advance(days=21)  # Monday 23 March, 10:05: not yet past the confirm-by day
    platform.run_schedule("auto_confirm")
    assert platform.queued_settlements() == 0
    platform.advance(days=1)
    platform.run_schedule("auto_confirm")
    assert platform.queued_settlements() == 1
    platform.settle_everything()
    platform.check()
    released = platform.get("/v1/consumptions?status=released", fam.parent).body["items"]
    assert [(c["consumption_id"], c["confirmed_by"]) for c in released] == [
        (consumption["consumption_id"], "auto")
    ]


def test_a_disputed_lesson_holds_back_the_orders_releases_until_the_parent_confirms_it(
    platform: Platform,
) -> None:
    shop = flows.open_shop(platform, price=10_000)
    fam = flows.family(platform)
    order = flows.buy_and_pay(platform, shop, fam, lessons=3)
    first = flows.record_lesson(platform, shop, [order["order_id"]])["consumptions"][0]
    second = flows.record_lesson(platform, shop, [order["order_id"]])["consumptions"][0]
    disputed = platform.post(f"/v1/consumptions/{first['consumption_id']}/dispute", fam.parent,
                             {"reason": "孩子当天请假未上课"})
    assert disputed.status == 200 and disputed.body["status"] == "disputed"
    flows.confirm(platform, fam, second["consumption_id"])
    platform.settle_everything()
    platform.check()
    held_back = flows.order_of(platform, fam.parent, order["order_id"])
    assert (held_back["released_fen"], held_back["open_disputes"]) == (0, 1)

    flows.confirm(platform, fam, first["consumption_id"])
    platform.settle_everything()
    platform.advance(minutes=11)
    platform.run_schedule("settlement_sweeper")
    platform.settle_everything()
    platform.check()
    released = flows.order_of(platform, fam.parent, order["order_id"])
    assert (released["released_fen"], released["open_disputes"]) == (20_000, 0)


def test_recording_the_same_lesson_twice_with_one_key_creates_one_consumption(
    platform: Platform,
) -> None:
    shop = flows.open_shop(platform)
    fam = flows.family(platform)
    order = flows.buy_and_pay(platform, shop, fam, lessons=3)
    body = flows.teach(platform, shop, [order["order_id"]])
    first = platform.post("/v1/lessons", shop.staff, body, key="lesson-key-0001")
    again = platform.post("/v1/lessons", shop.staff, body, key="lesson-key-0001")
    assert first.status == again.status == 201 and first.body == again.body
    platform.check()
    assert flows.order_of(platform, fam.parent, order["order_id"])["lessons_remaining"] == 2


def test_an_unreadable_queue_message_fails_alone_and_stops_the_rest_of_its_fifo_batch(
    platform: Platform,
) -> None:
    _, fam, order, _ = one_confirmed_lesson(platform)
    (good,) = platform.receive_settlement()
    poison = dict(good, MessageId="poison-1", Body="{not json")
    assert platform.invoke_worker([poison, good]) == {"poison-1", good["MessageId"]}
    assert platform.invoke_worker([good]) == set()
    platform.bank.deliver_pending()
    platform.check()
    assert flows.order_of(platform, fam.parent, order["order_id"])["released_fen"] == 12_500


def test_every_lesson_of_several_orders_and_institutions_is_released_to_the_fen(
    platform: Platform,
) -> None:
    shops = [flows.open_shop(platform, price=p) for p in (3_333, 10_001)]
    families = [flows.family(platform, name) for name in ("小明", "小红")]
    orders = {
        (s, f): flows.buy_and_pay(platform, shops[s], families[f], lessons=3)
        for s in range(2) for f in range(2)
    }
    platform.check()
    for s, shop in enumerate(shops):
        for _ in range(3):
            attending = [orders[(s, f)]["order_id"] for f in (0, 1)]
            lesson = flows.record_lesson(platform, shop, attending)
            platform.check()
            for f, consumption in enumerate(lesson["consumptions"]):
                flows.confirm(platform, families[f], consumption["consumption_id"])
                platform.check()
            platform.settle_everything()
            platform.check()
    for (_, f), order in orders.items():
        seen = flows.order_of(platform, families[f].parent, order["order_id"])
        assert (seen["status"], seen["released_fen"]) == ("completed", order["amount_fen"])
    for shop in shops:
        assert platform.bank.balance(shop.general_account) == 2 * 3 * shop.price_per_lesson_fen
        assert platform.bank.balance(shop.supervised_account) == 0


@pytest.mark.parametrize("platform", ["dynamodb_local"], indirect=True)
def test_two_lessons_racing_for_an_orders_last_lesson_consume_it_once(platform: Platform) -> None:
    shop = flows.open_shop(platform, price=7_000)
    fam = flows.family(platform)
    order = flows.buy_and_pay(platform, shop, fam, lessons=1)
    ctx = bootstrap.context()
    staff = Caller(sub="staff", role=Role.INSTITUTION, institution_id=shop.institution_id)
    started = platform.clock.now()
    platform.advance(minutes=65)

    def record(lesson_id: str) -> Callable[[], lessons.RecordedLesson | PlatformError]:
        return refused_or_result(lambda: lessons.record(
            ctx, staff, lesson_id, course_id=shop.course_id, started_at=started,
            ended_at=started + timedelta(hours=1), teacher_id=shop.teacher_id,
            order_ids=[order["order_id"]],
        ))

    outcomes = race(*(record(f"les_0000000000000000000000000{n}") for n in (1, 2)))
    platform.check()
    recorded = [o for o in outcomes if isinstance(o, lessons.RecordedLesson)]
    refused = [o.code for o in outcomes if isinstance(o, PlatformError)]
    assert len(recorded) == 1 and len(recorded[0].consumptions) == 1
    assert refused in (["order_has_no_lessons"], ["student_lesson_overlap"])
    seen = flows.order_of(platform, fam.parent, order["order_id"])
    assert (seen["lessons_remaining"], seen["lessons_pending_confirmation"]) == (0, 1)
