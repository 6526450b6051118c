"""Measures a regulator imposes on an institution (a freeze, a blacklisting), and who may undo
one: the department that imposed it, at the imposing office's level or above it (county <
city < province < national; a higher level's region code is a prefix of the lower's). A
county office never lifts a city's or a province's measure; another department never lifts
it, whatever its level: the education department coordinates but does not overrule another
department's measure (DOMAIN.md, Supervision)."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.domain.regions import jurisdiction_prefix


@dataclass(frozen=True)
class Office:
    """A regulator's office: one department (`education`, `culture`, ...) at one region
    (a six-digit code: a county's, a city's ending in 00, a province's in 0000)."""

    department: str
    region: str

    def may_undo(self, imposed_by: Office) -> bool:
        """This office may lift a measure `imposed_by` imposed: the same department, at the
        same region or one above it."""
        return (self.department == imposed_by.department
                and jurisdiction_prefix(imposed_by.region).startswith(
                    jurisdiction_prefix(self.region)))


def presumed(department: str, jurisdiction_code: str) -> Office:
    """Who imposed a measure recorded before offices were (only a regulator's id was kept):
    the institution's competent department at its jurisdiction, the office that decides about
    it (an online institution's jurisdiction is its province: '44' -> '440000')."""
    return Office(department, jurisdiction_code.ljust(6, "0"))
