"""A poison message goes to the dead-letter queue and never blocks its order forever.

On a FIFO queue the messages behind a poison one in the same batch are reported failed too
(to keep their order), so after maxReceiveCount they reach the dead-letter queue with it. The
sweeper re-drives their consumptions from the database, so the money still moves, once; and
replaying the dead letters later changes nothing.
"""

from __future__ import annotations

from tests.support import flows
from tests.support.harness import Platform

MAX_RECEIVES = 5  # infra/template.yaml: the settlement queue's maxReceiveCount


def test_a_poison_message_goes_to_the_dead_letter_queue_and_the_order_still_settles_once(
    platform: Platform,
) -> None:
    shop = flows.open_shop(platform, price=8_000)
    fam = flows.family(platform)
    order = flows.buy_and_pay(platform, shop, fam, lessons=2)
    lesson = flows.record_lesson(platform, shop, [order["order_id"]])
    platform.sqs.send_message(
        QueueUrl=platform.plane.settlement_queue_url, MessageBody="{not json",
        MessageGroupId=order["order_id"], MessageDeduplicationId="poison-1",
    )
    flows.confirm(platform, fam, lesson["consumptions"][0]["consumption_id"])

    for _ in range(MAX_RECEIVES):
        batch = platform.receive_settlement()
        assert batch[0]["Body"] == "{not json"  # FIFO: its order's work waits behind it
        assert platform.run_worker(batch) == sorted(m["MessageId"] for m in batch)
        platform.check()
    assert platform.receive_settlement() == []
    dead = platform.sqs.receive_message(
        QueueUrl=platform.plane.settlement_dlq_url, MaxNumberOfMessages=10
    )["Messages"]
    assert len(dead) == 2 and dead[0]["Body"] == "{not json"

    platform.advance(minutes=11)
    platform.run_schedule("settlement_sweeper")
    assert platform.queued_settlements() == 1
    platform.settle_everything()
    platform.check()
    assert flows.order_of(platform, fam.parent, order["order_id"])["released_fen"] == 8_000

    assert platform.invoke_worker([dead[1]]) == set()  # a replayed dead letter is a no-op
    platform.bank.deliver_pending()
    platform.check()
    assert platform.bank.instructions_executed() == 1
    assert platform.bank.balance(shop.general_account) == 8_000
