"""Unauthenticated routes: liveness and the API description."""

from __future__ import annotations

from chalice.app import Blueprint

from chalicelib import __version__, bootstrap
from chalicelib.api import openapi, schemas
from chalicelib.api.routing import Call, Result, route

public = Blueprint(__name__)

LOCAL_STAGE = "local"


@route(public, "GET", "/v1/health", summary="Liveness and version", tag="public",
       response=schemas.Health, public=True)
def health(call: Call) -> Result:
    settings = bootstrap.settings()
    return 200, schemas.Health(
        status="ok", version=__version__, stage=settings.stage,
        province_code=settings.province_code,
        clock=call.ctx.now() if settings.stage == LOCAL_STAGE else None,
    )


@route(public, "GET", "/v1/openapi.json", summary="This API's OpenAPI 3 document",
       tag="public", public=True)
def openapi_document(call: Call) -> Result:
    return 200, openapi.document()
