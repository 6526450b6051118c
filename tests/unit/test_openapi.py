"""The OpenAPI document is generated from the schemas, valid, complete and kept in docs/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate
from pydantic import ValidationError

import app as chalice_app
from chalicelib.api import openapi
from chalicelib.api.escrow.bank import SIGNATURE_HEADER
from chalicelib.api.idempotency import KEY_PATTERN
from chalicelib.api.routing import ROUTES

DOCS_COPY = Path(__file__).parents[2] / "docs" / "openapi.json"


def test_the_document_is_valid_openapi() -> None:
    validate(openapi.document())


def test_every_route_of_the_app_is_described() -> None:
    described = {
        (method.upper(), path)
        for path, operations in openapi.document()["paths"].items()
        for method in operations
    }
    served = {
        (method, path)
        for path, entries in chalice_app.app.routes.items()
        for method in entries
    }
    assert described == served


def test_the_copy_in_docs_is_up_to_date_byte_for_byte() -> None:
    regenerate = "python -m infra.cli openapi > docs/openapi.json"
    printed = json.dumps(openapi.document(), indent=2, ensure_ascii=False) + "\n"
    assert DOCS_COPY.read_text(encoding="utf-8") == printed, regenerate


CREATING_POSTS = ["/v1/orders", "/v1/lessons", "/v1/institutions", "/v1/courses", "/v1/students",
                  "/v1/orders/{order_id}/refund-requests", "/v1/complaints",
                  "/v1/regulator/complaints", "/v1/staff",
                  "/v1/institutions/{institution_id}/announcements",
                  "/v1/institutions/{institution_id}/consultations"]
TRANSITIONS = [
    "/v1/consumptions/{consumption_id}/confirm", "/v1/consumptions/{consumption_id}/dispute",
    "/v1/regulator/institutions/{institution_id}/approve",
    "/v1/regulator/institutions/{institution_id}/reject",
    "/v1/regulator/courses/{course_id}/approve", "/v1/regulator/courses/{course_id}/reject",
    "/v1/refund-requests/{refund_id}/approve", "/v1/refund-requests/{refund_id}/reject",
    "/v1/refund-requests/{refund_id}/payout-account",
    "/v1/consumptions/{consumption_id}/withdraw", "/v1/consumptions/{consumption_id}/uphold",
    "/v1/regulator/consumptions/{consumption_id}/decide",
    "/v1/refund-requests/{refund_id}/escalate",
    "/v1/regulator/refund-requests/{refund_id}/order",
    "/v1/regulator/refund-requests/{refund_id}/dismiss",
    "/v1/regulator/institutions/{institution_id}/freeze",
    "/v1/regulator/institutions/{institution_id}/unfreeze",
    "/v1/regulator/institutions/{institution_id}/liquidate",
    "/v1/complaints/{complaint_id}/answer", "/v1/complaints/{complaint_id}/accept",
    "/v1/complaints/{complaint_id}/reject", "/v1/complaints/{complaint_id}/rating",
    "/v1/regulator/complaints/{complaint_id}/transfer",
    "/v1/regulator/complaints/{complaint_id}/notes",
    "/v1/regulator/complaints/{complaint_id}/resolve",
    "/v1/notifications/{notice_id}/read",
    "/v1/orders/{order_id}/review", "/v1/orders/{order_id}/review/reply",
    "/v1/staff/{staff_id}/consent", "/v1/staff/{staff_id}/certificate",
    "/v1/regulator/staff/{staff_id}/background-check",
    "/v1/regulator/institutions/{institution_id}/request-changes",
    "/v1/regulator/institutions/{institution_id}/blacklist",
    "/v1/regulator/institutions/{institution_id}/unblacklist",
    "/v1/institutions/{institution_id}/profile",
    "/v1/courses/{course_id}/off-sale", "/v1/courses/{course_id}/on-sale",
    "/v1/consultations/{consultation_id}/answer",
]
DECISIONS = [path for path in TRANSITIONS if path.endswith(("/approve", "/reject"))
             and not path.startswith("/v1/complaints/")]
"""Whitelist and refund decisions (a parent rejecting a complaint's answer gives a reason)."""


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [(method.upper(), path, operation)
            for path, operations in openapi.document()["paths"].items()
            for method, operation in operations.items()]


def _idempotency_key(operation: dict[str, Any]) -> dict[str, Any] | None:
    keys = [p for p in operation["parameters"] if p["name"] == "Idempotency-Key"]
    return keys[0] if keys else None


def test_creating_posts_require_an_idempotency_key_and_other_signed_in_posts_take_one() -> None:
    for method, path, operation in _operations():
        key = _idempotency_key(operation)
        if method == "POST" and path in CREATING_POSTS + TRANSITIONS:
            assert key is not None, path
            assert key["in"] == "header" and key["required"] is (path in CREATING_POSTS), path
            assert key["schema"] == {"type": "string", "pattern": KEY_PATTERN.pattern}, path
        else:
            assert key is None, f"{method} {path} ignores an Idempotency-Key"


@pytest.mark.parametrize("path", DECISIONS)
def test_a_decision_s_body_is_documented_optional_as_an_omitted_one_is_accepted(
    path: str,
) -> None:
    """An omitted body is read as {} and schemas.Decision has only defaults, so approving
    without a body succeeds (tests/e2e/test_optional_bodies.py): the document must say so."""
    body = openapi.document()["paths"][path]["post"]["requestBody"]
    assert body["required"] is False, path


def test_a_body_is_required_exactly_where_an_omitted_one_would_be_refused() -> None:
    """The router reads an omitted body as {}: it is refused iff the model refuses {}."""
    documented = {(spec.method, spec.path): spec for spec in ROUTES}
    for method, path, operation in _operations():
        model = documented[(method, path)].request
        if model is None:
            assert "requestBody" not in operation, f"{method} {path} reads no body"
            continue
        try:
            model.model_validate({})
            refused = False
        except ValidationError:
            refused = True
        assert operation["requestBody"]["required"] is refused, f"{method} {path}"
        assert list(operation["requestBody"]["content"]) == ["application/json"]


def test_query_parameters_are_the_query_model_s_fields_as_strings_on_the_wire() -> None:
    documented = {(spec.method, spec.path): spec for spec in ROUTES}
    for method, path, operation in _operations():
        query = documented[(method, path)].query
        parameters = {p["name"]: p for p in operation["parameters"] if p["in"] == "query"}
        assert set(parameters) == set(query.model_fields if query else ()), f"{method} {path}"
        for name, parameter in parameters.items():
            assert "null" not in json.dumps(parameter["schema"]), f"{path}?{name}: never null"
            assert query is not None
            required = query.model_fields[name].is_required()
            assert parameter["required"] is required, f"{path}?{name}: required iff no default"
        if "limit" in parameters:
            limit = parameters["limit"]["schema"]
            assert (limit["type"], limit["minimum"], limit["maximum"]) == ("integer", 1, 100)


def test_the_bank_callback_documents_its_signature_and_every_other_route_its_token() -> None:
    document = openapi.document()
    scheme = document["components"]["securitySchemes"]["bank_signature"]
    assert (scheme["type"], scheme["in"]) == ("apiKey", "header")
    assert scheme["name"].lower() == SIGNATURE_HEADER
    public = {"/v1/health", "/v1/openapi.json", "/v1/policy"}
    for method, path, operation in _operations():
        if path == "/v1/bank/notifications":
            assert operation["security"] == [{"bank_signature": []}]
        elif path in public:
            assert "security" not in operation, path
        else:
            assert operation["security"] == [{"bearer": []}], f"{method} {path}"
