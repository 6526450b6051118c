"""What every schema shares: time, money and id types, strict request bodies, pages.

Money is `*_fen` integers; times are ISO 8601 with the Asia/Shanghai offset.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
)
from pydantic_core import PydanticCustomError

from chalicelib.domain import text
from chalicelib.domain.calendar import SHANGHAI
from chalicelib.domain.money import MAX_ORDER_FEN


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("time must carry a UTC offset")
    return value


Time = Annotated[
    datetime,
    AfterValidator(_aware),
    PlainSerializer(lambda t: t.astimezone(SHANGHAI).isoformat(), return_type=str),
]

Fen = Annotated[int, Field(ge=0, le=MAX_ORDER_FEN, strict=True)]
PositiveFen = Annotated[int, Field(gt=0, le=MAX_ORDER_FEN, strict=True)]
def _texts(*, multiline: bool, required: bool) -> AfterValidator:
    """A name (one line) or a long text (line breaks and tabs kept) that hides nothing
    (chalicelib/domain/text.py); one of invisible characters only is refused where a text is
    required, and taken as "" where it is not."""

    def check(value: str) -> str:
        hidden = text.forbidden(value, multiline=multiline)
        if hidden is not None:
            raise PydanticCustomError(
                text.FORBIDDEN, "text holds {character}, which hides or reorders what is shown",
                {"character": text.codepoint(hidden)})
        if text.blank(value):
            if required:
                raise PydanticCustomError(text.BLANK, "text holds nothing visible")
            return ""
        return value

    return AfterValidator(check)


LINE = _texts(multiline=False, required=True)
"""A name: one line, something visible."""
LINES = _texts(multiline=True, required=True)
"""A long text: line breaks and tabs kept, something visible."""
OPTIONAL_LINES = _texts(multiline=True, required=False)
"""A long text that may be left empty (invisible characters only: empty)."""

Text = Annotated[str, Field(min_length=1, max_length=200), LINE]
RegionCode = Annotated[str, Field(pattern=r"^[0-9]{6}$")]
BankAccount = Annotated[str, Field(pattern=r"^[0-9A-Za-z-]{6,40}$")]
"""An account number as banks print it: digits and letters, hyphens between."""


CourseId = Annotated[str, Field(pattern=r"^crs_[0-9A-Z]{26}$")]
StudentId = Annotated[str, Field(pattern=r"^stu_[0-9A-Z]{26}$")]
OrderId = Annotated[str, Field(pattern=r"^ord_[0-9A-Z]{26}$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Page(BaseModel):
    next_cursor: str | None


class PageQuery(Strict):
    limit: int = Field(default=20, ge=1, le=100)
    cursor: str | None = Field(default=None, max_length=2048)
