"""The simulated province: the real platform (tests/support/harness.py) with its AWS clients
under the fault hook, the sandbox bank's callbacks in the simulator's hands, the families and
institutions that use it, and the model of what they were told."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from ulid import ULID

from chalicelib import bootstrap
from tests.simulation import model
from tests.simulation.bank import MisbehavingLink
from tests.simulation.engines import Decoded, Reader
from tests.simulation.faults import AwsFaults, Crash, Fault
from tests.simulation.lockstep import LockStep
from tests.support import flows
from tests.support.harness import Platform, Reply

RETRIES = 6
LEASE = timedelta(seconds=91)  # an Idempotency-Key's in-progress lease, and a bit
FAMILIES = 4
POLICY = Path(__file__).parents[1] / "support" / "policies" / "44.json"
"""The province's policy with a county of its own clocks (model.CLOCKS), as POLICY_FILE."""


class World:
    def __init__(self, p: Platform, seed: int, read: Reader) -> None:
        self.p = p
        self.read = read
        """A table's items, for the checks (test-only)."""
        self.decoded = Decoded()
        self.faults = AwsFaults(p.dynamodb, p.sqs)
        self.lockstep = LockStep(self.faults)
        self._ids = random.Random(f"ids-{seed}")
        self.institutions: list[model.Institution] = []
        self.courses: list[model.Course] = []
        self.shops: list[model.Shop] = []
        """The courses on sale."""
        self.families: list[model.Family] = []
        self.consultations: dict[str, model.Question] = {}
        self.orders: list[model.Order] = []
        self.consumptions: dict[str, model.Consumption] = {}
        self.refunds: dict[str, model.Refund] = {}
        self.cases: dict[str, model.Case] = {}
        self.lessons: list[tuple[str, datetime, datetime]] = []  # (student, start, end)
        self.teaching: dict[str, tuple[str, datetime, datetime]] = {}
        """Each lesson stored, by its id: (teacher, start, end)."""
        self.weekly: Counter[tuple[str, str, tuple[int, int]]] = Counter()
        """Lessons consumed (withdrawn ones too) by (student, course, ISO week)."""
        self.kept_messages: list[tuple[str, str, str]] = []  # (queue, group, body) to replay
        self.misrouted: list[Any] = []
        """payments.Misrouted: money sent under a reference where it cannot pay."""
        self.deposits: list[Any] = []
        """reconciling.Deposit: money the bank booked without telling the platform."""
        self.log: list[str] = []
        self.link = MisbehavingLink(p.bank)
        self.link.on_callback = self.deliver_callbacks
        runtime = bootstrap.runtime()
        bootstrap.use(replace(runtime, context=replace(
            runtime.context, new_id=self._new_id, bank=self.link,
            policies=bootstrap.policies(str(POLICY)))))

    def deliver_callbacks(self) -> int:
        """The bank sends every queued notification once, in order; how many were taken."""
        return sum(self.p.bank.deliver_one(seq) for seq, _, _ in self.p.bank.notifications())

    def _new_id(self, prefix: str, at: datetime | None = None) -> str:
        """The platform's ids, from the seed: a replay names everything as the run did."""
        stamp = ULID.from_datetime(at or self.p.clock.now()).bytes[:6]
        return f"{prefix}_{ULID.from_bytes(stamp + self._ids.randbytes(10))}"

    @property
    def now(self) -> datetime:
        return self.p.clock.now()

    # ------------------------------------------------------------------ the cast

    def setup(self) -> None:
        """The families (the shops are opened by the run's own onboarding actions)."""
        flows.restart_numbering()
        for n in range(FAMILIES):
            fam = flows.family(self.p, f"孩子{n}")
            self.families.append(model.Family(f"fam{n}", fam.parent, fam.student_id,
                                              fam.payer_account))

    def open_accounts(self, setup: Callable[[World], object]) -> None:
        """Orders already bought and paid when the run begins (so the first steps have
        lessons to teach), made by the same actions the run uses."""
        setup(self)
        self.deliver_callbacks()
        self.p.clock.advance(timedelta(hours=20))  # their first lessons come after it

    # ------------------------------------------------------------------ calling the API

    def http(self, method: str, path: str, who: dict[str, str], body: Any = None, *,
             key: str | None = None, faults: tuple[Fault, ...] = ()) -> Reply:
        """As a client does: retry a 5xx, a crash (no answer) or a key still in progress
        under the same Idempotency-Key until the platform answers for good."""
        for attempt in range(RETRIES):
            reply = self.attempt(method, path, who, body, key=key,
                                 faults=faults if attempt == 0 else ())
            if reply is None or reply.status >= 500:
                continue
            if reply.code == "idempotency_request_in_progress":
                self.p.clock.advance(LEASE)
                continue
            return reply
        raise model.Violation(f"{method} {path}: no answer after {RETRIES} tries")

    def attempt(self, method: str, path: str, who: dict[str, str], body: Any = None, *,
                key: str | None = None, faults: tuple[Fault, ...] = ()) -> Reply | None:
        """One try; None if the process crashed under it. A 5xx is only allowed when an AWS
        fault was injected."""
        try:
            with self.faults.armed(faults):
                reply = self.p.request(method, path, self.p.signed_in(who), body, key=key)
        except Crash:
            return None
        if reply.status >= 500 and not faults:
            raise model.Violation(f"{method} {path} answered {reply.status} without a fault: "
                                  f"{reply.body}")
        return reply

    def new_key(self) -> str:
        return f"sim-{self._ids.getrandbits(64):016x}"

    # ------------------------------------------------------------------ lookups

    def pick(self, items: list[Any], n: int) -> Any | None:
        return items[n % len(items)] if items else None

    def order(self, order_id: str) -> model.Order:
        return next(o for o in self.orders if o.order_id == order_id)

    def family_of(self, order: model.Order) -> model.Family:
        return self.families[order.family]

    def shop_of(self, order: model.Order) -> model.Shop:
        return self.shops[order.shop]

    def order_paid_by(self, instruction_id: str) -> str:
        """The order an instruction moves money of (a return of money that matched no order
        stands on its own: its payment's id)."""
        cause = instruction_cause(instruction_id)
        if cause.startswith("ump_"):
            return cause
        known = self.refunds.get(cause) or self.consumptions[cause]
        return known.order_id

    def frozen(self, shop: model.Shop) -> bool:
        """The shop's institution is frozen, as its regulator was told."""
        return any(i.frozen for i in self.institutions if i.institution_id == shop.institution_id)

    def institution_of(self, shop: model.Shop) -> model.Institution:
        return next(i for i in self.institutions if i.institution_id == shop.institution_id)

    def purchase_refusal(self, shop: model.Shop) -> tuple[int, str] | None:
        """Why a purchase of the shop's course is refused whatever its lessons: its
        institution off the whitelist (blacklisted, or back in review), or frozen."""
        institution = self.institution_of(shop)
        if institution.status != "whitelisted":
            return 404, "institution_not_found"
        if institution.frozen:
            return 422, "institution_frozen"
        return None

    def thawed(self, institution: model.Institution) -> None:
        """Its freeze ended now: the parents of its lessons still pending get their whole
        window again from today."""
        institution.thawed(self.now)
        for o in self.orders:
            if self.shop_of(o).institution_id != institution.institution_id:
                continue
            for consumption_id in o.consumptions:
                c = self.consumptions[consumption_id]
                if c.status == "pending_confirmation":
                    c.window_from = self.now

    def liquidating(self, institution_id: str) -> bool:
        """A regulator ordered this institution's liquidation, as the model was told."""
        return any(i.liquidating for i in self.institutions
                   if i.institution_id == institution_id)

    def note(self, line: str) -> str:
        self.log.append(line)
        return line


def instruction_cause(instruction_id: str) -> str:
    """What an instruction pays for: bki_<id>_<attempt> -> con_<id> (a release,
    chalicelib/domain/escrow/consumption.py's naming); bkr_<id>_<attempt> -> rfd_<id> (a refund,
    chalicelib/domain/refunds/refund.py's); bku_<id>_<attempt> -> ump_<id> (a return of money that
    matched no order, chalicelib/domain/escrow/bank.py's)."""
    body = instruction_id[4:].rsplit("_", 1)[0]
    return {"bkr_": "rfd_", "bku_": "ump_"}.get(instruction_id[:4], "con_") + body

