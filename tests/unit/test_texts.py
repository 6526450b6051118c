"""Names and free texts people write refuse characters that hide or reorder what a reader
sees (control, bidirectional and zero-width characters); a text of invisible characters only
is empty; long texts keep their ordinary line breaks and tabs, names do not."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from chalicelib.api.schemas.complaints import complaints
from chalicelib.api.schemas.escrow import lessons, students
from chalicelib.api.schemas.institutions import courses, institutions, staff
from chalicelib.api.schemas.refunds import refunds
from chalicelib.api.schemas.shop import reviews, shop
from chalicelib.domain import text

NAMES: list[tuple[type[BaseModel], str]] = [
    (institutions.InstitutionApplication, "name"),
    (institutions.InstitutionApplication, "address"),
    (institutions.InstitutionApplication, "permit_number"),
    (institutions.CustodianBody, "bank"),
    (institutions.ProfileEdit, "name"),
    (institutions.ProfileEdit, "address"),
    (institutions.ProfileEdit, "permit_number"),
    (courses.CourseSubmission, "title"),
    (staff.StaffRegistration, "name"),
    (students.StudentLink, "name"),
    (students.StudentLink, "grade"),
    (complaints.HotlineCall, "caller_name"),
    (shop.AnnouncementBody, "title"),
]
"""One line each: shown in lists, searched, printed on receipts."""

LONG_TEXTS: list[tuple[type[BaseModel], str]] = [
    (complaints.ComplaintFiling, "text"),
    (complaints.HotlineCall, "text"),
    (complaints.AnswerBody, "text"),
    (complaints.RejectBody, "reason"),
    (complaints.TransferBody, "reason"),
    (complaints.NoteBody, "text"),
    (complaints.ResolveBody, "outcome"),
    (reviews.ReviewBody, "text"),
    (reviews.ReplyBody, "text"),
    (shop.AnnouncementBody, "text"),
    (shop.ConsultationBody, "question"),
    (shop.ConsultationAnswer, "text"),
    (lessons.Dispute, "reason"),
    (lessons.Withdrawal, "reason"),
    (lessons.Answer, "note"),
    (lessons.DisputeDecision, "reason"),
    (refunds.RefundAsk, "reason"),
    (refunds.RefundEscalation, "reason"),
    (refunds.RegulatorRefundDecision, "reason"),
    (institutions.ReasonRequired, "reason"),
]

OPTIONAL_TEXTS: list[tuple[type[BaseModel], str]] = [
    (complaints.RatingBody, "comment"),
    (institutions.Decision, "reason"),
    (refunds.RefundDecision, "reason"),
]

HIDDEN = [
    "\u0000", "\u0007", "\u001b", "\u007f", "\u0085",  # control
    "\u202a", "\u202b", "\u202c", "\u202d", "\u202e",  # embeddings and overrides
    "\u2066", "\u2067", "\u2068", "\u2069",  # isolates
    "\u200e", "\u200f", "\u061c",  # marks
    "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff",  # zero width
    "\u00ad", "\u2028", "\u2029",  # a soft hyphen, line and paragraph separators
]
BLANK = ["\u3164", "\u3164\u3164", " \u3000\u3164 ", "\u2800", "\u115f\u1160", "\u0301",
         "\ufe0f"]
"""Fillers that render as nothing (Hangul fillers, a blank braille pattern, marks with
nothing to mark); whitespace around them is stripped first."""


def problems(model: type[BaseModel], field: str, value: Any) -> dict[str, str]:
    """The validation problems of `field` alone (the model's other fields may be missing)."""
    try:
        model.model_validate({field: value})
    except ValidationError as invalid:
        return {str(e["loc"][0]): e["type"] for e in invalid.errors() if e["loc"][:1] == (field,)}
    return {}


EVERY = NAMES + LONG_TEXTS + OPTIONAL_TEXTS


@pytest.mark.parametrize(("model", "field"), EVERY)
@pytest.mark.parametrize("hidden", HIDDEN)
def test_a_hidden_character_anywhere_in_a_text_is_refused(
    model: type[BaseModel], field: str, hidden: str,
) -> None:
    assert problems(model, field, f"示例{hidden}培训学校") == {field: "text_forbidden_character"}


@pytest.mark.parametrize(("model", "field"), NAMES + LONG_TEXTS)
@pytest.mark.parametrize("blank", BLANK)
def test_a_required_text_of_invisible_characters_only_is_empty(
    model: type[BaseModel], field: str, blank: str,
) -> None:
    assert problems(model, field, blank * 4) == {field: "text_blank"}  # long enough for any


def test_an_optional_text_of_invisible_characters_only_is_empty() -> None:
    assert complaints.RatingBody.model_validate(
        {"stars": 3, "comment": "\u3164 \u3164"}).comment == ""
    assert institutions.Decision.model_validate({"reason": "\u3164"}).reason == ""
    assert refunds.RefundDecision.model_validate({"reason": "\u2800"}).reason == ""


@pytest.mark.parametrize(("model", "field"), LONG_TEXTS + OPTIONAL_TEXTS)
def test_long_texts_keep_line_breaks_and_tabs(model: type[BaseModel], field: str) -> None:
    assert problems(model, field, "第一行\n第二行\r\n\t第三行 😀 é") == {}


@pytest.mark.parametrize(("model", "field"), NAMES)
def test_names_are_one_line(model: type[BaseModel], field: str) -> None:
    for broken in ("示例\n学校", "示例\t学校", "示例\r学校"):
        assert problems(model, field, broken) == {field: "text_forbidden_character"}
    assert problems(model, field, "示例艺术 Art-School（天河）") == {}


def test_an_emoji_with_its_variation_selector_and_an_accent_are_ordinary_text() -> None:
    assert text.problem("好评 ❤️ café", multiline=True) is None
    assert text.problem("\u0301", multiline=True) == "text_blank"
    assert text.problem("a\u200db", multiline=True) == "text_forbidden_character"
