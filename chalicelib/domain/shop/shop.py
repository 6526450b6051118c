"""What an institution's shop shows besides its courses and reviews: announcements its staff
post, and consultations, a parent's question that the institution answers once.

A consultation is between the parent who asked and the institution: it is not on the public
shop (a question may name a child or a phone number)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

TITLE_LIMIT = 100
TEXT_LIMIT = 2000


@dataclass(frozen=True)
class Announcement:
    announcement_id: str
    """A ULID: the shop lists them newest first by id."""
    institution_id: str
    title: str
    text: str
    posted_at: datetime
    posted_by: str


class ConsultationStatus(StrEnum):
    ASKED = "asked"
    ANSWERED = "answered"


@dataclass(frozen=True)
class Consultation:
    consultation_id: str
    """A ULID: listed newest first by id."""
    institution_id: str
    parent_sub: str
    question: str
    asked_at: datetime
    status: ConsultationStatus = ConsultationStatus.ASKED
    answer: str = ""
    answered_at: datetime | None = None
    answered_by: str = ""
