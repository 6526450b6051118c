"""The message center: what lands in a person's inbox, and who reads which inbox.

A notice is written in the same transaction as the change it tells of, so a change is never
without its notice and a redelivered or retried step (refused by its own condition) never
writes a second one. Beside each notice an outbox record carries it to the push service
(chalicelib/service/messages/notices.py), at least once, under the notice's id.

Inboxes: a parent's (`parent:<sub>`), an institution's (`institution:<id>`, read by its
staff) and a department's at one region (`regulator:<department>:<region>`, read by the
regulators of that department and region).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Event(StrEnum):
    LESSON_TO_CONFIRM = "lesson_to_confirm"
    REFUND_DECIDED = "refund_decided"
    REFUND_PAID = "refund_paid"
    DISPUTE_ANSWERED = "dispute_answered"
    COMPLAINT_STAGE = "complaint_stage_changed"
    CASE_ASSIGNED = "case_assigned"
    CASE_ALERT = "case_alert"
    CASE_DUE_SOON = "case_due_soon"
    CASE_OVERDUE = "case_overdue"
    CONSULTATION_ASKED = "consultation_asked"
    CONSULTATION_ANSWERED = "consultation_answered"
    PAYMENT_RAISED = "payment_raised"
    """Money for an institution's order reached the wrong account, came from an
    institution's own account, or was reported without its accounts (to its department)."""
    REFUND_ACCOUNT_NEEDED = "refund_account_needed"
    """A refund could not be paid back by its route: the parent names another account."""


@dataclass(frozen=True)
class Notice:
    notice_id: str
    recipient: str
    event: Event
    subject_id: str
    """What it is about: a complaint, a lesson (consumption), a refund request, a
    consultation or a payment that matched no order."""
    title: str
    at: datetime
    read_at: datetime | None = None


def parent_inbox(parent_sub: str) -> str:
    return f"parent:{parent_sub}"


def institution_inbox(institution_id: str) -> str:
    return f"institution:{institution_id}"


def regulator_inbox(department: str, region: str) -> str:
    return f"regulator:{department}:{region}"
