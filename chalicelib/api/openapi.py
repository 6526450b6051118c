"""The OpenAPI 3.1 document, generated from the registered routes and their pydantic models."""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from chalicelib import __version__
from chalicelib.api.idempotency import KEY_PATTERN
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


SECURITY_SCHEMES = {
    "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
    "bank_signature": {
        "type": "apiKey", "in": "header", "name": "X-Bank-Signature",
        "description": "t=<unix seconds>,v1=<hex HMAC-SHA256 of \"{t}.{raw body}\" with the "
                       "bank's secret>, at most 300 s old",
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
    for spec in in_order():
        paths.setdefault(spec.path, {})[spec.method.lower()] = _operation(spec, refs)
    return {
        "openapi": "3.1.0",
        "info": {"title": "校外教育培训监管与服务综合平台 API", "version": __version__},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": SECURITY_SCHEMES,
        },
    }


def in_order() -> list[RouteSpec]:
    """The routes by the name of the module that holds them, then as written there: the
    document's order never depends on which module happened to be imported first."""
    return sorted(ROUTES, key=lambda spec: spec.module.rsplit(".", 1)[-1])


def _models() -> list[type[BaseModel]]:
    seen: list[type[BaseModel]] = []
    for spec in in_order():
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
            "required": spec.body_required,
            "content": {"application/json": {"schema": refs[(spec.request, "validation")]}},
        }
    if spec.security:
        operation["security"] = [{spec.security: []}]
    return operation


def _content(schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": "OK", "content": {"application/json": {"schema": schema}}}


def _parameters(spec: RouteSpec) -> list[dict[str, Any]]:
    parameters: list[dict[str, Any]] = [
        {"name": name.strip("{}"), "in": "path", "required": True, "schema": {"type": "string"},
         "description": PATH_ID}
        for name in spec.path.split("/") if name.startswith("{")
    ]
    if spec.query is not None:
        described = spec.query.model_json_schema()
        properties, defined = described.get("properties", {}), described.get("$defs", {})
        for name, field in spec.query.model_fields.items():
            parameters.append({"name": name, "in": "query", "required": field.is_required(),
                               "schema": _on_the_wire(_inlined(properties[name], defined))})
    if spec.idempotency:
        required = spec.idempotency == "required"
        parameters.append({"name": "Idempotency-Key", "in": "header", "required": required,
                           "schema": {"type": "string", "pattern": KEY_PATTERN.pattern}})
    return parameters


PATH_ID = "A prefixed id; a value that is not one names nothing: 404, like an unknown id."


def _inlined(schema: dict[str, Any], defined: dict[str, Any]) -> dict[str, Any]:
    """A parameter's schema stands alone: what it refers to (an enum) is written out."""
    reference = schema.get("$ref", "")
    if reference.startswith("#/$defs/"):
        rest = {k: v for k, v in schema.items() if k != "$ref"}
        return {**defined[reference.removeprefix("#/$defs/")], **rest}
    if "anyOf" in schema:
        return {**schema, "anyOf": [_inlined(choice, defined) for choice in schema["anyOf"]]}
    return schema


def _on_the_wire(schema: dict[str, Any]) -> dict[str, Any]:
    """A query value is a string or absent, never null: `X | None = None` documents as X."""
    choices = [s for s in schema.get("anyOf", []) if s != {"type": "null"}]
    if len(choices) == 1:
        schema = {**{k: v for k, v in schema.items() if k != "anyOf"}, **choices[0]}
    return {k: v for k, v in schema.items() if not (k == "default" and v is None)}
