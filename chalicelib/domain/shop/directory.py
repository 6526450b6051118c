"""The directory parents search: whitelisted institutions by region, discipline, mode and a
keyword of their name (docs/decisions.md, "The parents' side").

Each facet is an index partition of its own, sorted by region code, so a search reads one
partition under a region prefix: `discipline#arts`, `mode#online`, and one `kw#<two characters>`
for each pair of adjacent characters of the name (a keyword of two or more characters is
found through its first pair, then held against the whole name). An institution is indexed
once it was first whitelisted and stays indexed; what it is now (whitelisted, not frozen,
still of that name) is checked on its own record when a search reads it, so a freeze, a
blacklisting or a new review needs no change to the directory.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from chalicelib.domain.institutions.catalog import Discipline, Institution, InstitutionStatus
from chalicelib.domain.modes import Mode

KEYWORD_PAIRS = 48
"""The pairs of a name indexed (its first 49 characters, once spaces and punctuation are
left out): a rename's index change (the old pairs out, the new in, with the institution and
its history entry) stays inside one transaction's 100 items."""

MIN_KEYWORD = 2


def normalise(text: str) -> str:
    """Full-width to half-width, lower case, letters and digits only (CJK included)."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in folded if ch.isalnum())


def name_key(name: str) -> str:
    """What two institutions of a province may not share: the whole name as a search
    compares it (full width or half, case, spaces and punctuation aside)."""
    return normalise(name)


def keyword_pairs(name: str) -> tuple[str, ...]:
    """The distinct pairs of adjacent characters of a name, in order, at most
    `KEYWORD_PAIRS`."""
    text = normalise(name)
    pairs: dict[str, None] = {}
    for start in range(len(text) - 1):
        pairs.setdefault(text[start:start + 2])
        if len(pairs) == KEYWORD_PAIRS:
            break
    return tuple(pairs)


def facets(institution: Institution) -> frozenset[str]:
    """The directory partitions listing this institution: none before it is first
    whitelisted."""
    if not institution.ever_whitelisted:
        return frozenset()
    return frozenset({
        f"discipline#{institution.discipline}", f"mode#{institution.mode}",
        *(f"kw#{pair}" for pair in keyword_pairs(institution.name)),
    })


@dataclass(frozen=True)
class Listed:
    """An entry of one directory partition: the institution it names."""

    institution_id: str


@dataclass(frozen=True)
class Search:
    """What a parent looks for; `region_prefix` "" for the whole province."""

    region_prefix: str = ""
    discipline: Discipline | None = None
    mode: Mode | None = None
    keyword: str = ""

    @property
    def facet(self) -> str:
        """The one partition the search reads: the keyword's, else the discipline's, else
        the mode's."""
        if self.keyword:
            return f"kw#{normalise(self.keyword)[:MIN_KEYWORD]}"
        if self.discipline is not None:
            return f"discipline#{self.discipline}"
        if self.mode is not None:
            return f"mode#{self.mode}"
        raise ValueError("a directory search needs a discipline, a mode or a keyword")

    def finds(self, institution: Institution) -> bool:
        """It is on the whitelist parents may buy from now, and it is what was asked for."""
        return (institution.status is InstitutionStatus.WHITELISTED and not institution.frozen
                and institution.region_code.startswith(self.region_prefix)
                and self.discipline in (None, institution.discipline)
                and self.mode in (None, institution.mode)
                and normalise(self.keyword) in normalise(institution.name))
