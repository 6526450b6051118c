"""The OpenAPI document is generated from the schemas, valid, complete and kept in docs/."""

from __future__ import annotations

import json
from pathlib import Path

from openapi_spec_validator import validate

import app as chalice_app
from chalicelib.api import openapi

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


def test_the_copy_in_docs_is_up_to_date() -> None:
    regenerate = "python -m infra.cli openapi > docs/openapi.json"
    assert json.loads(DOCS_COPY.read_text(encoding="utf-8")) == openapi.document(), regenerate


def test_creating_posts_declare_their_idempotency_key() -> None:
    document = openapi.document()
    for path in ("/v1/orders", "/v1/lessons", "/v1/institutions", "/v1/courses", "/v1/students"):
        names = {p["name"] for p in document["paths"][path]["post"]["parameters"]}
        assert "Idempotency-Key" in names, path
