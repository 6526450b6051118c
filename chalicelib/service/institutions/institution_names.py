"""One name, one institution, per province: a name is held in the form search compares it
in (chalicelib/domain/shop/directory.py `name_key`: NFKC, case folded, letters and digits only),
so no institution can pass itself off as another in the directory by spacing, case, width
or punctuation. A name is registered in the application's (or the rename's) own
transaction; a rename frees the old name in the same write.

Who holds a name: an institution applying (pending review, or asked for changes),
whitelisted (frozen or liquidating included), or blacklisted (the blacklist is about that
name too). A rejected application's name is free again."""

from __future__ import annotations

from chalicelib.domain.errors import RuleViolation, StateConflict
from chalicelib.domain.institutions.catalog import Institution, InstitutionStatus
from chalicelib.domain.shop import directory
from chalicelib.service.context import Context
from chalicelib.service.store import AtomicWrite


def claim(ctx: Context, write: AtomicWrite, institution: Institution, *,
          before: Institution | None = None, code_from: str | None = None) -> None:
    """Register `institution`'s name in `write` (a rename: and free `before`'s); nothing
    when the name's form does not change. `code_from`: the rejected application `write`
    takes the credit code from (its status is checked in `write`, so a blacklisting in
    between answers as for the credit code)."""
    key = directory.name_key(institution.name)
    old = None if before is None else directory.name_key(before.name)
    if key == old:
        return
    if not key:
        raise RuleViolation("机构名称须含有文字或数字", code="institution_name_unsearchable")
    holder = _holder(ctx, key, institution.institution_id, code_from)
    write.register_name(key, institution.institution_id, replacing=holder, releasing=old)


def _holder(ctx: Context, key: str, institution_id: str, code_from: str | None
            ) -> str | None:
    """The institution holding the name, if a new holder may take it from it: this very
    institution (a retry), or one rejected. Anyone else: 409."""
    holder_id = ctx.store.name_holder(key)
    if holder_id is None or holder_id in (institution_id, code_from):
        return holder_id
    holder = ctx.store.institution(holder_id)
    if holder is not None and holder.status is InstitutionStatus.REJECTED:
        return holder_id
    raise StateConflict(
        "已有机构使用该名称（或仅空格、大小写、全半角、标点不同的名称），请更换名称",
        code="institution_name_taken")
