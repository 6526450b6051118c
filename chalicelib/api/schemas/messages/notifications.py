"""The message center: a caller's inbox, newest first, with its unread count."""

from __future__ import annotations

from pydantic import BaseModel

from chalicelib.api.schemas.common import Page, Time


class NoticeView(BaseModel):
    notice_id: str
    event: str
    subject_id: str
    title: str
    at: Time
    read: bool


class NoticePage(Page):
    items: list[NoticeView]
    unread: int
    """Unread notices in the whole inbox (counted up to 999)."""


class ReadReceipt(BaseModel):
    notice_id: str
    read: bool
