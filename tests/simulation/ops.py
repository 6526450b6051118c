"""Operations: what the seed asks the simulated province to do, one step each.

An operation is data (a kind, raw numbers, the AWS faults it runs under, and for a race its
parts and the seed of their interleaving). Its numbers are resolved against the world only
when it runs (`order 7` is the 7th order modulo how many exist), so a run is a list of
operations, a failing list can be cut shorter and still mean something, and the same seed
always makes the same list.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from tests.simulation import (
    accounts,
    case_privacy,
    complaints,
    disputes,
    freezes,
    liquidations,
    onboarding,
    payments,
    people,
    races,
    reconciling,
    refund_cycles,
    refunds,
    shops,
    system,
    teaching,
)
from tests.simulation.faults import Fault, Kind
from tests.simulation.world import World


@dataclass(frozen=True)
class Op:
    kind: str
    args: tuple[int, ...]
    faults: tuple[Fault, ...] = ()

    def __str__(self) -> str:
        faults = "".join(f" !{f.kind}@{f.call}" for f in self.faults)
        return f"{self.kind}{list(self.args)}{faults}"


ACTIONS: dict[str, Callable[..., str]] = {
    "apply": onboarding.apply,
    "decide_institution": onboarding.decide_institution,
    "submit_course": onboarding.submit_course,
    "decide_course": onboarding.decide_course,
    "buy_off_sale": onboarding.buy_off_sale,
    "freeze": freezes.toggle,
    "blacklist": freezes.blacklist,
    "unblacklist": freezes.unblacklist,
    "sweep_message": system.sweep_message,
    "liquidate": liquidations.liquidate,
    "liquidation_job": liquidations.run_job,
    "liquidation_queue": system.deliver_liquidation,
    "ask_refund": refunds.ask_refund,
    "decide_refund": refunds.decide_refund,
    "escalate_refund": refunds.escalate_refund,
    "regulate_refund": refunds.regulate_refund,
    "cycle_refund": refund_cycles.cycle,
    "create_order": people.create_order,
    "replay_create": people.replay_create,
    "pay": people.pay,
    "misroute": payments.misroute,
    "name_refund_account": payments.name_refund_account,
    "record_lesson": teaching.record_lesson,
    "lessons_in_bulk": teaching.record_in_bulk,
    "confirm": people.confirm,
    "dispute": people.dispute,
    "withdraw": disputes.withdraw,
    "uphold": disputes.uphold,
    "decide_dispute": disputes.decide,
    "read_order": people.read_order,
    "advance": system.advance,
    "schedule": system.run_schedule,
    "deliver_queue": system.deliver_queue,
    "replay_kept": system.replay_kept,
    "poison": system.poison,
    "bank_callbacks": system.bank_callbacks,
    "bank_trouble": system.bank_trouble,
    "ops_retry": system.ops_retry,
    "late_execution": system.late_execution,
    "change_accounts": accounts.change,
    "race": races.race,
    "file_complaint": complaints.file_complaint,
    "complaint_queue": complaints.deliver,
    "answer_complaint": complaints.answer,
    "complaint_verdict": complaints.verdict,
    "department": complaints.department,
    "institution_reads": case_privacy.institution_reads,
    "browse": shops.browse,
    "consult": shops.consult,
    "deposit_unannounced": reconciling.deposit,
    "reconcile": reconciling.reconcile,
}
"""Each kind's action: (world, *args[, faults]) -> what happened, for the log."""

WEIGHTS = {
    "apply": 1, "decide_institution": 1, "submit_course": 1, "decide_course": 1,
    "buy_off_sale": 1, "freeze": 2, "blacklist": 1, "unblacklist": 1, "sweep_message": 3,
    "liquidate": 1, "liquidation_job": 2,
    "liquidation_queue": 3,
    "ask_refund": 3, "decide_refund": 2,
    "escalate_refund": 1, "regulate_refund": 1, "cycle_refund": 1,
    "create_order": 6, "replay_create": 2, "pay": 7, "misroute": 2,
    "name_refund_account": 1, "record_lesson": 16, "lessons_in_bulk": 1, "confirm": 9,
    "dispute": 2, "withdraw": 2, "uphold": 1, "decide_dispute": 2, "read_order": 1,
    "advance": 9, "schedule": 6, "deliver_queue": 16,
    "replay_kept": 1, "poison": 1, "bank_callbacks": 7, "bank_trouble": 3, "ops_retry": 1,
    "late_execution": 3, "change_accounts": 2,
    "race": 12,
    "file_complaint": 4, "complaint_queue": 4, "answer_complaint": 2, "complaint_verdict": 2,
    "department": 8, "browse": 1, "consult": 2, "institution_reads": 1,
    "deposit_unannounced": 1, "reconcile": 2,
}
FAULTABLE = frozenset({"apply", "decide_institution", "submit_course", "decide_course",
                       "buy_off_sale", "freeze", "blacklist", "unblacklist", "liquidate",
                       "liquidation_job",
                       "liquidation_queue",
                       "ask_refund", "decide_refund", "escalate_refund",
                       "regulate_refund", "cycle_refund", "create_order",
                       "replay_create", "record_lesson", "lessons_in_bulk", "confirm",
                       "dispute", "withdraw",
                       "uphold", "decide_dispute", "schedule",
                       "deliver_queue", "bank_callbacks", "race", "file_complaint",
                       "complaint_queue", "answer_complaint", "complaint_verdict",
                       "department", "browse", "consult", "name_refund_account",
                       "change_accounts"})
FAULT_RATE = 0.2
KINDS = list(Kind)
DECISIONS = frozenset({"decide_institution", "decide_course", "freeze", "blacklist",
                       "unblacklist", "liquidate", "decide_refund", "escalate_refund",
                       "regulate_refund", "confirm", "dispute", "withdraw", "uphold",
                       "decide_dispute", "answer_complaint", "complaint_verdict",
                       "department", "consult", "name_refund_account"})
"""Someone's decision over HTTP. Besides the faults every operation may meet, one in
`RETRIED_RATE` of those with none runs with its first write's answer timing out (the write
stands): the client sends it again and the answer is held to what the model expects of
the first attempt, a 200 for a decision taken (issue 22, point 7)."""
RETRIED_RATE = 0.15


def generate(seed: int, steps: int) -> list[Op]:
    rng = random.Random(seed)
    retried = random.Random(seed * 7919 + 22)  # its own stream: the seed's operations stay
    kinds, weights = list(WEIGHTS), list(WEIGHTS.values())
    return [_retried(retried, _one(rng, rng.choices(kinds, weights)[0]))
            for _ in range(steps)]


def _one(rng: random.Random, kind: str) -> Op:
    args = tuple(rng.randrange(1 << 16) for _ in range(4))
    faults: tuple[Fault, ...] = ()
    if kind in FAULTABLE and rng.random() < FAULT_RATE:
        faults = (Fault(rng.randrange(8), rng.choice(KINDS)),)
    return Op(kind, args, faults)


def _retried(rng: random.Random, op: Op) -> Op:
    """`op`, or (a decision without a fault, one in RETRIED_RATE) the same with its first
    write after its first call timing out after it succeeded: the decision's own write,
    past an Idempotency-Key's reservation (call 0), so a keyed retry takes the key over."""
    if rng.random() >= RETRIED_RATE or op.kind not in DECISIONS or op.faults:
        return op
    return Op(op.kind, op.args, (Fault(1, Kind.TIMEOUT_AFTER_WRITE),))


def apply(w: World, op: Op) -> str:
    action = ACTIONS[op.kind]
    arity = action.__code__.co_argcount - 1
    if op.kind in FAULTABLE:
        return action(w, *op.args[:arity - 1], faults=op.faults)
    return action(w, *op.args[:arity])
