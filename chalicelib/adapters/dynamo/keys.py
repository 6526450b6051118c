"""Key and index attribute values, one function per item kind (docs/data-model.md)."""

from __future__ import annotations

import hashlib
import zlib
from datetime import UTC, date, datetime

from chalicelib.domain.escrow.bank import account_number

ENTITY_SK = {
    "institution": "#institution",
    "course": "#course",
    "order": "#order",
    "lesson": "#lesson",
    "consumption": "#consumption",
    "instruction": "#instruction",
    "bank_event": "#event",
    "unmatched_payment": "#unmatched_payment",
    "refund": "#refund",
    "idempotency": "#idempotency",
    "liquidation": "#liquidation",
    "order_liquidated": "#liquidation",
    "complaint": "#complaint",
    "outbox": "#outbox",
    "review": "#review",
    "staff": "#staff",
    "consultation": "#consultation",
    "bank_entry": "#bank_entry",
}
"""A review lives beside its order (pk `ord_…`): one per order."""
"""A liquidation lives beside its institution (pk `ins_…`), an order's record of its
liquidation beside the order (pk `ord_…`)."""

DUE_SHARDS = 8


def key(kind: str, entity_id: str) -> dict[str, str]:
    return {"pk": entity_id, "sk": ENTITY_SK[kind]}


def student_key(parent_sub: str, student_id: str) -> dict[str, str]:
    return {"pk": parent_partition(parent_sub), "sk": student_id}


def parent_partition(parent_sub: str) -> str:
    return f"par#{parent_sub}"


def institution_partition(institution_id: str) -> str:
    return f"ins#{institution_id}"


def account_partition(bank_account: str) -> str:
    """What is booked against one bank account number (unmatched payments it received)."""
    return f"acct#{bank_account}"


def reconciliation_key(account: str, day: date) -> dict[str, str]:
    return {"pk": f"recon#{account}", "sk": day.isoformat()}


def reconciliation_run_key(day: date) -> dict[str, str]:
    return {"pk": f"reconrun#{day.isoformat()}", "sk": "#run"}


def reconciliation_partition(account: str) -> str:
    return f"recon#{account}"


def reconciliations_on(day: date) -> str:
    """A day's reconciliations, one partition a day (gsi3): written once an account a day."""
    return f"reconciliation#{day.isoformat()}"


def bank_day_prefix(day: date) -> str:
    """A bank account's bank-book entries of one day, under its account partition (gsi2)."""
    return f"bankday#{day.isoformat()}#"


def review_partition(kind: str, status: str) -> str:
    return f"{kind}#{status}"


def review_queue(kind: str, department: str) -> str:
    """What awaits one department's review (institutions, courses), by jurisdiction."""
    return f"{kind}#pending_review#{department}"


def shard(entity_id: str) -> int:
    return zlib.crc32(entity_id.encode()) % DUE_SHARDS


def due_partition(job: str, shard_number: int) -> str:
    return f"{job}#{shard_number}"


def due_attributes(job: str, entity_id: str, due_at: datetime) -> dict[str, str]:
    """The sparse `due` index attributes that schedule `job` for an item at `due_at`."""
    return {
        "due_pk": due_partition(job, shard(entity_id)),
        "due_sk": f"{due_instant(due_at)}#{entity_id}",
    }


def due_instant(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def progress_key(institution_id: str, shard_number: int) -> dict[str, str]:
    """One shard of a liquidation's progress counters."""
    return {"pk": institution_id, "sk": f"{PROGRESS_PREFIX}{shard_number}"}


PROGRESS_PREFIX = "#liquidation#progress#"


def rating_key(institution_id: str, shard_number: int) -> dict[str, str]:
    """One shard of an institution's rating (its reviews' stars and count)."""
    return {"pk": institution_id, "sk": f"{RATING_PREFIX}{shard_number}"}


RATING_PREFIX = "#rating#"


def step_key(complaint_id: str, seq: int) -> dict[str, str]:
    """One step of a complaint's timeline, beside the complaint, in order."""
    return {"pk": complaint_id, "sk": f"{STEP_PREFIX}{seq:05d}"}


STEP_PREFIX = "#step#"


def status_change_key(institution_id: str, at: datetime, change_id: str) -> dict[str, str]:
    """One change of an institution's status, beside it, in time order."""
    return {"pk": institution_id, "sk": f"{HISTORY_PREFIX}{due_instant(at)}#{change_id}"}


HISTORY_PREFIX = "#history#"


def place_key(student_id: str, course_id: str) -> dict[str, str]:
    """A child's place in a course: its version orders the child's purchases of it."""
    return {"pk": f"place#{student_id}", "sk": course_id}


def credit_code_key(uscc: str) -> dict[str, str]:
    """The one institution registered under a unified social credit code."""
    return {"pk": f"uscc#{uscc}", "sk": "#registration"}


def bank_account_key(account: str) -> dict[str, str]:
    """The institution that registered a bank account (its number as a bank reads it)."""
    return {"pk": f"bankacct#{account_number(account)}", "sk": "#registration"}


def institution_name_key(name_key: str) -> dict[str, str]:
    """The one institution holding a name of the province, by the name's search form (its
    hash: a folded name may be longer than a partition key may be)."""
    digest = hashlib.sha256(name_key.encode()).hexdigest()
    return {"pk": f"iname#{digest}", "sk": "#registration"}


def directory_key(facet: str, region_code: str, institution_id: str) -> dict[str, str]:
    """An institution's entry in one partition of the directory parents search, by region."""
    return {"pk": directory_partition(facet), "sk": f"{region_code}#{institution_id}"}


def directory_partition(facet: str) -> str:
    return f"dir#{facet}"


def shop_post_key(institution_id: str, announcement_id: str) -> dict[str, str]:
    """An announcement on an institution's shop, beside it, in time order (ULID ids)."""
    return {"pk": institution_id, "sk": f"{ANNOUNCEMENT_PREFIX}{announcement_id}"}


ANNOUNCEMENT_PREFIX = "#announcement#"


def inbox_partition(recipient: str) -> str:
    return f"inbox#{recipient}"


def unread_partition(recipient: str) -> str:
    return f"unread#{recipient}"


def bank_event_key(event_id: str) -> dict[str, str]:
    return {"pk": f"bev#{event_id}", "sk": ENTITY_SK["bank_event"]}


def idempotency_key(caller_sub: str, idempotency_key: str) -> dict[str, str]:
    return {"pk": f"idem#{caller_sub}#{idempotency_key}", "sk": ENTITY_SK["idempotency"]}
