"""The unified social credit code (统一社会信用代码, GB 32100-2015): 18 characters, the last a
check character computed from the other 17, so a mistyped code is caught when it is entered."""

from __future__ import annotations

import re

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
"""The 31 characters a code may use (no I, O, Z, S, V), each worth its position."""
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
"""3^i mod 31 for the first 17 positions."""
SHAPE = re.compile(r"^[0-9A-HJ-NP-RTUW-Y]{2}[0-9]{6}[0-9A-HJ-NP-RTUW-Y]{10}$")
"""Registration authority and type, the six-digit region of registration, then the
organisation code and the check character."""


def check_character(first17: str) -> str:
    """The 18th character for a code's first 17 (GB 32100-2015, 4.2)."""
    total = sum(CHARSET.index(c) * w for c, w in zip(first17, WEIGHTS, strict=True))
    return CHARSET[(31 - total % 31) % 31]


def is_valid(code: str) -> bool:
    return bool(SHAPE.match(code)) and check_character(code[:17]) == code[17]
