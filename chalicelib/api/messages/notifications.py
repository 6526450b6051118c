"""The message center: every signed-in caller's inbox (a parent's own, their institution's,
their department's at their region)."""

from __future__ import annotations

from chalice.app import Blueprint

from chalicelib.api import schemas, views
from chalicelib.api.routing import Call, Result, route
from chalicelib.service.messages import notices

notifications = Blueprint(__name__)


@route(notifications, "GET", "/v1/notifications",
       summary="The caller's inbox, newest first, with its unread count", tag="notifications",
       query=schemas.PageQuery, response=schemas.NoticePage)
def inbox(call: Call) -> Result:
    page, unread = notices.inbox(call.ctx, call.who, limit=call.query.limit,
                                 cursor=call.query.cursor)
    return 200, schemas.NoticePage(items=[views.notice(n) for n in page.items],
                                   next_cursor=page.next_cursor, unread=unread)


@route(notifications, "POST", "/v1/notifications/{notice_id}/read",
       summary="Mark a notice read", tag="notifications", response=schemas.ReadReceipt)
def mark_read(call: Call) -> Result:
    notices.mark_read(call.ctx, call.who, call.params["notice_id"])
    return 200, schemas.ReadReceipt(notice_id=call.params["notice_id"], read=True)
