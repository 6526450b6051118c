"""Parents search the whitelist: by region alone on the whitelist's own index, or by
discipline, mode and keyword on the directory (chalicelib/domain/directory.py).

A directory page is read, then its institutions (one BatchGetItem) are held against what
they are now, so a page may hold fewer than `limit` institutions: the cursor goes on where
the partition's page ended."""

from __future__ import annotations

from chalicelib.domain import directory
from chalicelib.domain.catalog import Institution, InstitutionStatus
from chalicelib.domain.errors import InvalidRequest
from chalicelib.service.caller import region_prefix
from chalicelib.service.context import Context
from chalicelib.service.ports import Page


def search(ctx: Context, looking_for: directory.Search, *, limit: int, cursor: str | None
           ) -> Page[Institution]:
    if looking_for.keyword and len(directory.normalise(looking_for.keyword)) < (
            directory.MIN_KEYWORD):
        raise InvalidRequest("关键词至少两个字（标点和空格不计）", code="keyword_too_short",
                             min_length=directory.MIN_KEYWORD)
    prefix = region_prefix(looking_for.region_prefix) if looking_for.region_prefix else ""
    if not (looking_for.keyword or looking_for.discipline or looking_for.mode):
        return ctx.store.institutions_by_status(InstitutionStatus.WHITELISTED, prefix, limit,
                                                cursor)
    entries = ctx.store.directory(looking_for.facet, prefix, limit, cursor)
    found = {i.institution_id: i for i in ctx.store.institutions_named(
        [entry.institution_id for entry in entries.items])}
    wanted = directory.Search(prefix, looking_for.discipline, looking_for.mode,
                              looking_for.keyword)
    return Page([found[entry.institution_id] for entry in entries.items
                 if entry.institution_id in found and wanted.finds(found[entry.institution_id])],
                entries.next_cursor)
