"""The message center (chalicelib/domain/messages/notice.py): notices join the write of the change
they tell of; after it commits they are pushed (the fast path), and the `push` schedule pushes
whatever a crash or an unreachable push service left on the outbox."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from chalicelib.domain.errors import NotFound
from chalicelib.domain.messages.notice import (
    Event,
    Notice,
    institution_inbox,
    parent_inbox,
    regulator_inbox,
)
from chalicelib.service.caller import Caller, Role
from chalicelib.service.context import Context
from chalicelib.service.ports import Page
from chalicelib.service.store import AtomicWrite

log = logging.getLogger(__name__)

JOB = "push"
UNREAD_CAP = 999
"""The unread count stops counting here (a badge shows 999+)."""


def tell(ctx: Context, write: AtomicWrite, recipient: str, event: Event, subject_id: str,
         title: str) -> Notice:
    """Add a notice to `write`: it lands if and only if the write commits."""
    notice = Notice(ctx.new_id("ntf"), recipient, event, subject_id, title, ctx.now())
    write.notify(notice)
    return notice


def push_now(ctx: Context, notices: Iterable[Notice]) -> None:
    """The fast path, after the write committed: whatever fails here the schedule pushes."""
    for notice in notices:
        try:
            _push(ctx, notice)
        except Exception:
            log.exception("notice %s not pushed; the push schedule will", notice.notice_id)


def push_due(ctx: Context, notice_id: str) -> bool:
    """The `push` job: push a notice still on the outbox."""
    notice = ctx.store.outbox(notice_id)
    if notice is None:
        return False
    return _push(ctx, notice)


def _push(ctx: Context, notice: Notice) -> bool:
    """Publish, then take the notice off the outbox (False: a twin, the schedule or the fast
    path, took it off first)."""
    ctx.push.publish(notice)
    return ctx.store.forget_pushed(notice.notice_id)


def recipient_of(caller: Caller) -> str:
    """The inbox a caller reads: their own, their institution's, or their department's at
    their region."""
    if caller.role is Role.PARENT:
        return parent_inbox(caller.sub)
    if caller.role is Role.INSTITUTION:
        return institution_inbox(caller.own_institution())
    caller.require(Role.REGULATOR)
    return regulator_inbox(str(caller.department), caller.region)


def inbox(ctx: Context, caller: Caller, *, limit: int, cursor: str | None
          ) -> tuple[Page[Notice], int]:
    """A page of the caller's inbox, newest first, and how many are unread."""
    recipient = recipient_of(caller)
    page = ctx.store.inbox(recipient, limit, cursor)
    return page, ctx.store.unread_count(recipient, UNREAD_CAP)


def mark_read(ctx: Context, caller: Caller, notice_id: str) -> None:
    """Mark one of the caller's notices read (one already read stays as it is)."""
    recipient = recipient_of(caller)
    if ctx.store.mark_read(recipient, notice_id, ctx.now()):
        return
    if ctx.store.notice(recipient, notice_id) is None:
        raise NotFound("消息不存在", code="notice_not_found", notice_id=notice_id)
