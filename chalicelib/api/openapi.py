"""The OpenAPI 3.1 document, generated from the registered routes and their pydantic models."""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from chalicelib import __version__
from chalicelib.api.routing import ROUTES, RouteSpec

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {"type": "object"},
            },
        }
    },
}


@cache
def document() -> dict[str, Any]:
    models = _models()
    refs, schemas = models_json_schema(
        [(m, mode) for m in models for mode in ("validation", "serialization")],
        ref_template="#/components/schemas/{model}",
    )
    schemas = schemas.get("$defs", {})
    schemas["Error"] = ERROR_SCHEMA
    paths: dict[str, dict[str, Any]] = {}
    for spec in ROUTES:
        paths.setdefault(spec.path, {})[spec.method.lower()] = _operation(spec, refs)
    return {
        "openapi": "3.1.0",
        "info": {"title": "校外教育培训监管与服务综合平台 API", "version": __version__},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "bearerFormat": "JWT"}},
        },
    }


def _models() -> list[type[BaseModel]]:
    seen: list[type[BaseModel]] = []
    for spec in ROUTES:
        for model in (spec.request, spec.response):
            if model is not None and model not in seen:
                seen.append(model)
    return seen


def _operation(spec: RouteSpec, refs: dict[Any, Any]) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": spec.summary,
        "tags": [spec.tag],
        "parameters": _parameters(spec),
        "responses": {
            str(spec.status): _content(refs[(spec.response, "serialization")])
            if spec.response else {"description": "OK"},
            "default": {"description": "Error",
                        "content": {"application/json": {
                            "schema": {"$ref": "#/components/schemas/Error"}}}},
        },
    }
    if spec.status in operation["responses"] and spec.response:
        operation["responses"][str(spec.status)]["description"] = "OK"
    if spec.request is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": refs[(spec.request, "validation")]}},
        }
    if not spec.public:
        operation["security"] = [{"bearer": []}]
    return operation


def _content(schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": "OK", "content": {"application/json": {"schema": schema}}}


def _parameters(spec: RouteSpec) -> list[dict[str, Any]]:
    parameters: list[dict[str, Any]] = [
        {"name": name.strip("{}"), "in": "path", "required": True, "schema": {"type": "string"}}
        for name in spec.path.split("/") if name.startswith("{")
    ]
    if spec.query is not None:
        schema = spec.query.model_json_schema()
        for name, prop in schema.get("properties", {}).items():
            parameters.append({"name": name, "in": "query", "required": False, "schema": prop})
    if spec.idempotency:
        required = spec.idempotency == "required"
        parameters.append({"name": "Idempotency-Key", "in": "header", "required": required,
                           "schema": {"type": "string", "pattern": "^[A-Za-z0-9_.:\\-]{8,128}$"}})
    return parameters
