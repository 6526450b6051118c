"""What a name or a free text people write may hold: nothing that hides or reorders what a
reader sees. Refused anywhere: control characters (C0, DEL, C1), format characters (the
bidirectional embeddings, overrides, isolates and marks U+202A-U+202E, U+2066-U+2069,
U+200E, U+200F, U+061C; the zero-width U+200B-U+200D, U+2060, U+FEFF; a soft hyphen...),
surrogates, and the line and paragraph separators. A long text keeps ordinary line breaks
and tabs (`\\n`, `\\r`, `\\t`); a name is one line.

A text made only of invisible characters (whitespace, the Hangul fillers, a blank braille
pattern, marks with nothing to mark) counts as empty."""

from __future__ import annotations

import unicodedata

FORBIDDEN = "text_forbidden_character"
BLANK = "text_blank"

LINE_BREAKS = frozenset("\n\r\t")
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_FILLERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
_MARKS = frozenset({"Mn", "Me"})


def forbidden(text: str, *, multiline: bool) -> str | None:
    """The first character a text may not hold, if any."""
    for ch in text:
        if unicodedata.category(ch) in _REFUSED_CATEGORIES and not (
                multiline and ch in LINE_BREAKS):
            return ch
    return None


def blank(text: str) -> bool:
    """Nothing a reader would see: empty, or invisible characters only."""
    return all(ch.isspace() or ch in _FILLERS or unicodedata.category(ch) in _MARKS
               for ch in text)


def problem(text: str, *, multiline: bool) -> str | None:
    """`FORBIDDEN`, `BLANK` or None (a text that may be kept as it is)."""
    if forbidden(text, multiline=multiline) is not None:
        return FORBIDDEN
    return BLANK if blank(text) else None


def codepoint(ch: str) -> str:
    return f"U+{ord(ch):04X}"
