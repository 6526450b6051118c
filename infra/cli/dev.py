"""Developer commands: local tokens and the API's documents.

    python -m infra.cli token --role parent --sub p1
    python -m infra.cli token --role institution --sub s1 --institution-id ins_...
    python -m infra.cli token --role regulator --sub r1 --region 440106 --department education
    python -m infra.cli openapi > docs/openapi.json

Tokens are HS256, signed with AUTH_HS256_SECRET and carrying AUTH_ISSUER / AUTH_AUDIENCE from
the environment, with the same local-only defaults as `python -m infra.local`.
"""

from __future__ import annotations

import importlib
import json
import re
from typing import Annotated

import typer

from chalicelib.api import openapi as api_document
from chalicelib.domain.institutions.catalog import Department
from chalicelib.service.caller import Role
from infra.cli.app import cli
from infra.local.config import AuthConfig, ConfigError
from infra.local.tokens import DEFAULT_TTL_SECONDS, mint


@cli.command()
def token(
    role: Annotated[Role, typer.Option(help="who the caller is")],
    sub: Annotated[str, typer.Option(help="the caller's user id")],
    institution_id: Annotated[
        str, typer.Option(help="institution staff: the institution (ins_...)")
    ] = "",
    region: Annotated[
        str, typer.Option(help="regulators: six-digit region code, e.g. 440106")
    ] = "",
    department: Annotated[
        Department | None, typer.Option(help="regulators: the department")
    ] = None,
    ttl: Annotated[int, typer.Option(min=1, help="seconds until it expires (platform time)")] = (
        DEFAULT_TTL_SECONDS
    ),
) -> None:
    """Print a local bearer token (HS256) for the local stack."""
    if role is Role.REGULATOR and not (region and department):
        raise typer.BadParameter("regulators need --region and --department")
    if region and not re.fullmatch(r"\d{6}", region):
        raise typer.BadParameter("--region must be a six-digit region code")
    if institution_id and not re.fullmatch(r"ins_[0-9A-Z]{26}", institution_id):
        raise typer.BadParameter("--institution-id must look like ins_<26 characters>")
    try:
        auth = AuthConfig.from_environment()
    except ConfigError as error:
        raise typer.BadParameter(str(error)) from None
    typer.echo(
        mint(
            auth,
            role=role.value,
            sub=sub,
            institution_id=institution_id,
            region=region,
            department=department.value if department else "",
            ttl_seconds=ttl,
        )
    )


@cli.command()
def openapi() -> None:
    """Print the API's OpenAPI document (what GET /v1/openapi.json serves)."""
    importlib.import_module("app")  # registering the blueprints records every route
    typer.echo(json.dumps(api_document.document(), indent=2, ensure_ascii=False))
