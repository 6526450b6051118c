"""Parents search the whitelist by discipline, mode and keyword, under a region prefix, on
the directory (chalicelib/domain/shop/directory.py); by region alone it is the whitelist's own
listing (chalicelib/service/institutions/institutions.py).

Each directory page read is checked against the institutions as they are now (one
BatchGetItem), so a page can come back with few or none of them (a keyword whose first two
characters are common, or institutions since frozen): the search reads on, up to
`PAGES_READ` pages, before it answers with what it found and the cursor to go on from."""

from __future__ import annotations

from chalicelib.domain.errors import InvalidRequest
from chalicelib.domain.institutions.catalog import Institution
from chalicelib.domain.shop import directory
from chalicelib.service.caller import region_prefix
from chalicelib.service.context import Context
from chalicelib.service.ports import Page

PAGES_READ = 5


def search(ctx: Context, looking_for: directory.Search, *, limit: int, cursor: str | None
           ) -> Page[Institution]:
    if looking_for.keyword and len(directory.normalise(looking_for.keyword)) < (
            directory.MIN_KEYWORD):
        raise InvalidRequest("关键词至少两个字（标点和空格不计）", code="keyword_too_short",
                             min_length=directory.MIN_KEYWORD)
    prefix = region_prefix(looking_for.region_prefix) if looking_for.region_prefix else ""
    wanted = directory.Search(prefix, looking_for.discipline, looking_for.mode,
                              looking_for.keyword)
    found: list[Institution] = []
    for _ in range(PAGES_READ):
        entries = ctx.store.directory(wanted.facet, prefix, limit - len(found), cursor)
        named = {i.institution_id: i for i in ctx.store.institutions_named(
            [entry.institution_id for entry in entries.items])}
        found += [named[entry.institution_id] for entry in entries.items
                  if entry.institution_id in named and wanted.finds(named[entry.institution_id])]
        cursor = entries.next_cursor
        if cursor is None or len(found) == limit:
            break
    return Page(found, cursor)
