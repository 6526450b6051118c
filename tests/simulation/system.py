"""What the province's machinery does: time passing, the scheduled functions, the queues'
deliveries (with their duplicates, losses, reorderings and poison), the bank's callbacks
(duplicated, reordered, lost for good) and the bank's own failures, and ops retrying parked
releases. Each runs the handler production runs."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from chalicelib import bootstrap
from chalicelib.domain.errors import PlatformError
from chalicelib.service.escrow import parked
from chalicelib.service.jobs.messages import SweepMessage
from chalicelib.service.jobs.schedules import JOBS
from chalicelib.service.ports import SweepTask
from chalicelib.service.refunds import refund_payouts, unmatched_returns
from tests.simulation import accounts
from tests.simulation.bank import REFUND, RELEASE, MisbehavingLink
from tests.simulation.faults import Crash, Fault, Kind
from tests.simulation.world import World, instruction_cause
from tests.support.harness import lambda_record

SCHEDULES = ("expire_orders", "auto_confirm", "settlement_sweeper")
VISIBILITY = 900  # seconds of real time: far longer than a run; failures are put back at once


def advance(w: World, scale: int, amount: int) -> str:
    delta = (timedelta(minutes=10 + amount % 170), timedelta(hours=2 + amount % 16),
             timedelta(days=1 + amount % 3))[scale % 3]
    w.p.clock.advance(delta)
    return f"clock +{delta} -> {w.now.isoformat()}"


def run_schedule(w: World, job: int, faults: tuple[Fault, ...] = ()) -> str:
    name = SCHEDULES[job % len(SCHEDULES)]
    event = {"detail-type": "Scheduled Event", "source": "aws.events", "detail": {},
             "id": str(uuid.UUID(int=w.faults.calls)), "region": "cn-north-1",
             "resources": [], "time": w.now.isoformat(), "account": "123456789012",
             "version": "0"}
    try:
        with w.faults.armed(faults):
            w.p.client.lambda_.invoke(name, event)
    except Crash:
        return f"{name} crashed"
    except Exception as failed:
        if not faults:
            raise
        return f"{name} failed: {type(failed).__name__}"
    return f"ran {name}"


def _queue(w: World, function: str) -> tuple[str, int]:
    """The queue a worker reads, and its batch size."""
    return {"settlement": (w.p.plane.settlement_queue_url, 10),
            "sweep": (w.p.plane.sweep_queue_url, 1),
            "liquidation": (w.p.plane.liquidation_queue_url, 10),
            "complaint": (w.p.plane.complaint_queue_url, 10)}[function]


def deliver_queue(w: World, which: int, mode: int, faults: tuple[Fault, ...] = ()) -> str:
    """One invocation of the settlement (even `which`) or the sweep queue's Lambda."""
    return deliver(w, "sweep" if which % 2 else "settlement", mode, faults)


def deliver_liquidation(w: World, mode: int, faults: tuple[Fault, ...] = ()) -> str:
    """One invocation of the liquidation queue's Lambda."""
    return deliver(w, "liquidation", mode, faults)


def deliver(w: World, function: str, mode: int, faults: tuple[Fault, ...] = ()) -> str:
    """One invocation of a queue's Lambda; mode 6 delivers the batch twice, 7 loses it,
    8 reverses it, 9 keeps a copy to deliver again much later, 10 crashes the worker."""
    url, batch = _queue(w, function)
    with w.faults.unarmed():
        messages = w.p.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=batch,
                                           AttributeNames=["All"], VisibilityTimeout=VISIBILITY
                                           ).get("Messages", [])
    if not messages:
        return f"{function} queue empty"
    mode %= 12
    if mode == 7:
        finish(w, url, messages, set())
        return f"lost {len(messages)} {function} messages"
    if mode == 9:  # a standard queue's messages have no group
        w.kept_messages += [(url, m["Attributes"].get("MessageGroupId", ""), m["Body"])
                            for m in messages]
    if mode == 8:
        messages.reverse()
    failed: set[str] = set()
    for _ in range(2 if mode == 6 else 1):
        failed = invoke(w, function, messages, faults if mode != 10 else (Fault(0, Kind.CRASH),))
    finish(w, url, messages, failed)
    return f"{function} worker: {len(messages)} messages, {len(failed)} failed"


def finish(w: World, url: str, messages: list[dict[str, Any]], failed: set[str]) -> None:
    """As the event source mapping does: delete what succeeded, put the failures back."""
    with w.faults.unarmed():
        for m in messages:
            if m["MessageId"] in failed:
                w.p.sqs.change_message_visibility(
                    QueueUrl=url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0)
            else:
                w.p.sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


def invoke(w: World, function: str, messages: list[dict[str, Any]],
           faults: tuple[Fault, ...]) -> set[str]:
    """One invocation of the queue's Lambda; the ids of the messages that failed."""
    url, _ = _queue(w, function)
    event = {"Records": [lambda_record(m, url) for m in messages]}
    try:
        with w.faults.armed(faults):
            payload = w.p.client.lambda_.invoke(function, event).payload
    except Crash:
        return {m["MessageId"] for m in messages}
    if not isinstance(payload, dict) or "batchItemFailures" not in payload:
        if not faults:
            raise AssertionError(f"{function} failed without a fault: {payload}")
        return {m["MessageId"] for m in messages}  # the invocation failed: all come back
    return {f["itemIdentifier"] for f in payload["batchItemFailures"]}


DEADLINE_JOBS = ("autoconfirm", "autoconfirm", "autoconfirm", "disputeescalate",
                 "refunddecide", "expire", "complaintdue", "freezefanout", "liquidate")
"""The jobs that act on a deadline, the silence of parents three times (its early action
would pay a lesson out)."""


def sweep_message(w: World, job: int, offset: int) -> str:
    """A run's sweep messages (one per shard) naming a stale or a future instant (a bug
    upstream, a replay, a forgery), mostly of a job that acts on a deadline (the parents'
    silence whenever a lesson waits for one): delivered to
    the sweep Lambda at once, or queued with the rest. Nothing may act before its deadline
    (the deadline checks after every step count them on their own)."""
    names = sorted(JOBS)
    name = DEADLINE_JOBS[job // 4 % len(DEADLINE_JOBS)] if job % 4 else names[job % len(names)]
    if job % 2 and any(c.status == "pending_confirmation" for c in w.consumptions.values()):
        name = "autoconfirm"  # half the time a lesson is waiting for its parent: its silence
    hours = offset // 9 % (24 * 53)
    until = (w.now + timedelta(days=7, hours=hours) if offset % 3  # two in three: 7-60 days
             else w.now - timedelta(hours=1 + hours % 240))  # stale: up to 10 days
    ctx = bootstrap.context()
    tasks = [SweepTask(name, shard, until) for shard in range(ctx.schedule.shards)]
    if offset // 3 % 3 == 0:  # one in three waits on the queue
        for task in tasks:
            ctx.publisher.publish_sweep(task)
        return f"{name} sweep messages naming {until.isoformat()} queued"
    records = [{"MessageId": str(uuid.UUID(int=len(w.log) * 256 + n)), "ReceiptHandle": "now",
                "Body": SweepMessage.of(task).model_dump_json(), "Attributes": {}}
               for n, task in enumerate(tasks)]
    failed = sum(len(invoke(w, "sweep", [record], ())) for record in records)
    return f"{name} sweep messages naming {until.isoformat()} delivered: {failed} failed"


def replay_kept(w: World, index: int) -> str:
    if not w.kept_messages:
        return "no kept message"
    url, group, body = w.kept_messages.pop(index % len(w.kept_messages))
    fifo = {"MessageGroupId": group,
            "MessageDeduplicationId": uuid.UUID(int=len(w.log)).hex} if group else {}
    w.p.sqs.send_message(QueueUrl=url, MessageBody=body, **fifo)
    return "a stale copy of a message delivered again"


def poison(w: World, which: int) -> str:
    url, _ = _queue(w, "sweep" if which % 2 else "settlement")
    w.p.sqs.send_message(QueueUrl=url, MessageBody='{"not": "a task"', MessageGroupId="poison",
                         MessageDeduplicationId=uuid.UUID(int=len(w.log) + 1).hex)
    return "a poison message queued"


def bank_callbacks(w: World, mode: int, pick: int, faults: tuple[Fault, ...] = ()) -> str:
    """The bank delivers its notifications: in order (0-4), reversed (5), one out of turn
    twice (6), or gives one release outcome up for good (7)."""
    queued = w.p.bank.notifications()
    if not queued:
        return "no callbacks"
    mode %= 8
    if mode == 7:
        outcomes = [q for q in queued if b'"transfer_' in q[2]]
        if not outcomes:
            return "no release outcome to lose"
        w.p.bank.drop_notification(outcomes[pick % len(outcomes)][0])
        return "a release outcome lost for good"
    chosen = [queued[pick % len(queued)]] if mode == 6 else (
        queued[::-1] if mode == 5 else queued)
    acknowledged = 0
    with w.faults.armed(faults):
        for seq, _, _ in chosen:
            try:
                acknowledged += w.p.bank.deliver_one(seq, copies=2 if mode == 6 else 1)
            except Crash:
                break
    return f"{acknowledged} of {len(chosen)} callbacks acknowledged"


def bank_trouble(w: World, kind: int, shop: int) -> str:
    link = link_of()
    bank, sh = w.p.bank, w.pick(w.shops, shop)
    kind %= 8
    if kind == 0:
        bank.fail_next_transfers(1)
        return "the next transfer fails"
    if kind == 1:
        bank.close_account(sh.general)
        return f"{sh.general} closed"
    if kind == 7:  # refunds and returns to it are refused for good, and parked
        payer = w.pick(w.families, shop).payer
        bank.close_account(payer)
        return f"{payer} closed"
    if kind == 2:
        reopen_accounts(w)
        return "accounts reopened"
    if kind in (3, 4):
        bank.set_unavailable(kind == 3)
        return "bank down" if kind == 3 else "bank up"
    if kind == 5:
        link.time_out_next += 1
        return "the next instruction times out after the bank executed it"
    link.answers_first = not link.answers_first
    return f"bank answers first: {link.answers_first}"


def link_of() -> MisbehavingLink:
    link = bootstrap.context().bank
    assert isinstance(link, MisbehavingLink)
    return link


def reopen_accounts(w: World) -> None:
    for account in sorted(accounts.general_accounts(w)) + [f.payer for f in w.families]:
        w.p.bank.reopen_account(account)


def late_execution(w: World, kind: int) -> str:
    """The bank takes the next release (or refund) without answering (its resends refused
    while it holds it, with no record of it yet: parked); or it executes, late, what it
    took and the platform parked."""
    link = link_of()
    if kind % 3:
        link.take_late.append(RELEASE if kind % 3 == 1 else REFUND)
        return f"the bank will take the next {link.take_late[-1]}… without answering"
    return execute_late(w, parked_only=True)


def execute_late(w: World, *, parked_only: bool = False) -> str:
    """The bank executes what it took without answering, if the platform still awaits it
    (during the run: only once the platform parked it; at the end: whatever it awaits)."""
    link = link_of()
    awaited = {i.instruction_id: _awaited(i.instruction_id) for i in link.taken}
    executed = link.execute_taken(still_awaited, lambda i: not parked_only or (
        awaited.get(i) == "needs_review"))
    return f"the bank executed late: {', '.join(f'{i} ({awaited[i]})' for i in executed)}"


def still_awaited(instruction_id: str) -> bool:
    """The platform still awaits this instruction (its release or refund is under that
    attempt, sent or parked): a bank that said it never executed it may still do so. Once
    ops retried it under a new attempt, the bank keeps its word and never executes it."""
    return _awaited(instruction_id) in ("releasing", "refunding", "needs_review")


def _awaited(instruction_id: str) -> str:
    """The status of the release or refund under this instruction ("" if it moved on to
    another attempt)."""
    cause = instruction_cause(instruction_id)
    store = bootstrap.context().store
    found = store.refund(cause) if cause.startswith("rfd_") else store.consumption(cause)
    return str(found.status) if found is not None and found.instruction_id == (
        instruction_id) else ""


def ops_retry(w: World, pick: int) -> str:
    parked_ids = [c.consumption_id for c in w.consumptions.values() if c.status == "needs_review"]
    parked_ids += [r.refund_id for r in w.refunds.values() if r.status == "needs_review"]
    if not parked_ids:
        return "nothing parked"
    parked_id = parked_ids[pick % len(parked_ids)]
    if parked_id.startswith("rfd_"):
        return retry_refund(w, parked_id)
    return retry_parked(w, parked_id)


def retry_refund(w: World, refund_id: str) -> str:
    """What `infra.cli refunds retry` does, after ops fixed the payer's account (or not)."""
    return _as_ops(w, refund_payouts.retry_parked, refund_id, "queued to be paid out again")


def retry_parked(w: World, consumption_id: str) -> str:
    """What `infra.cli review retry` does, after ops fixed the account (or not)."""
    return _as_ops(w, parked.retry, consumption_id, "retried")


def return_parked(w: World, unmatched_id: str) -> str:
    """What `infra.cli payments return` does, after ops fixed the payer's account. (An
    unmatched payment's id derives from the sandbox bank's random event id: the log names
    it by its order, so that a seed replays to the same log.)"""
    payment = bootstrap.context().store.unmatched(unmatched_id)
    named = f"the return of {payment.order_id or 'a payment'}" if payment else unmatched_id
    return _as_ops(w, unmatched_returns.retry_parked, unmatched_id, "queued for return again",
                   named=named)


def _as_ops(w: World, act: Callable[[Any, str], object], entity_id: str, done: str, *,
            named: str = "") -> str:
    named = named or entity_id
    try:
        with w.faults.armed():
            after = act(bootstrap.context(), entity_id)
    except PlatformError as refused:
        return f"ops on {named} refused: {refused.code}"
    return f"ops: {named} {done}, now {getattr(after, 'status', '?')}"


def queued(w: World) -> int:
    total = 0
    for url in (w.p.plane.settlement_queue_url, w.p.plane.sweep_queue_url,
                w.p.plane.liquidation_queue_url, w.p.plane.complaint_queue_url):
        attributes = w.p.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])
        total += sum(int(v) for v in attributes["Attributes"].values())
    return total
