"""Thin views: one decorator parses, authenticates, maps errors and records the route for
the OpenAPI document. A view receives a `Call` and returns (status, pydantic model)."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalice.app import Blueprint, Request, Response
from pydantic import BaseModel

from chalicelib import bootstrap
from chalicelib.api import errors, idempotency
from chalicelib.domain.errors import InvalidRequest, NotFound
from chalicelib.service.caller import Caller
from chalicelib.service.context import Context

Result = tuple[int, BaseModel | dict[str, Any]]


@dataclass(frozen=True)
class RouteSpec:
    method: str
    path: str
    summary: str
    tag: str
    request: type[BaseModel] | None
    response: type[BaseModel] | None
    query: type[BaseModel] | None
    status: int
    security: str  # "bearer" (a token), "bank_signature" (the bank's callback) or "" (public)
    idempotency: str  # "required" (creating POSTs), "optional" (other POSTs) or ""
    module: str = ""  # the view's module (chalicelib.api.<capability>.<name>)

    @property
    def body_required(self) -> bool:
        """Whether the request must carry a body: see `accepts_omitted_body`."""
        return self.request is not None and not accepts_omitted_body(self.request)


def accepts_omitted_body(model: type[BaseModel]) -> bool:
    """An omitted body is read as {} (`_json_body`): a model whose every field has a default
    accepts it (a RootModel's `root` is always required)."""
    return all(not field.is_required() for field in model.model_fields.values())


ROUTES: list[RouteSpec] = []

PATH_IDS = {  # path parameter -> (id prefix, the code when no such thing can exist)
    "institution_id": ("ins", "institution_not_found"),
    "course_id": ("crs", "course_not_found"),
    "order_id": ("ord", "order_not_found"),
    "consumption_id": ("con", "consumption_not_found"),
    "refund_id": ("rfd", "refund_not_found"),
    "complaint_id": ("cmp", "complaint_not_found"),
    "notice_id": ("ntf", "notice_not_found"),
    "staff_id": ("stf", "staff_not_found"),
    "consultation_id": ("csl", "consultation_not_found"),
}
ID_BODY = re.compile(r"^[0-9A-Z]{26}$")
PATH_PARAMETER = re.compile(r"\{(\w+)\}")


@dataclass
class Call:
    ctx: Context
    caller: Caller | None
    request: Request
    params: dict[str, str]
    body: Any = None
    query: Any = None
    new_id: str = ""

    @property
    def who(self) -> Caller:
        """The authenticated caller (every route but the public ones has one)."""
        assert self.caller is not None
        return self.caller


def route(
    blueprint: Blueprint,
    method: str,
    path: str,
    *,
    summary: str,
    tag: str,
    request: type[BaseModel] | None = None,
    response: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    status: int = 200,
    public: bool = False,
    creates: str = "",
    guard: Callable[[Request, Context], None] | None = None,
    signed: bool = False,
) -> Callable[[Callable[[Call], Result]], Callable[..., Response]]:
    """Register a view. `creates` = the id prefix of what a creating POST makes: it requires
    an Idempotency-Key. Other signed-in POSTs honour one when given. `signed`: a public route
    whose `guard` checks the bank's signature (for the OpenAPI document)."""
    keyed = method == "POST" and not public
    key_use = "required" if creates else ("optional" if keyed else "")
    security = "bank_signature" if signed else ("" if public else "bearer")

    def decorate(view: Callable[[Call], Result]) -> Callable[..., Response]:
        ROUTES.append(
            RouteSpec(method, path, summary, tag, request, response, query, status, security,
                      key_use, view.__module__)
        )

        @functools.wraps(view)
        def handler(**params: str) -> Response:
            try:
                return _respond(*_handle(blueprint.current_request, view, params))
            except Exception as error:  # noqa: BLE001 - the one place errors become responses
                return errors.from_exception(error)

        def _handle(req: Request, view: Callable[[Call], Result], params: dict[str, str]) -> Any:
            ctx = bootstrap.context()
            if guard is not None:
                guard(req, ctx)
            caller = (
                None if public else bootstrap.verifier().caller(req.headers.get("authorization"))
            )
            _check_path_ids(params)
            raw = _json_body(req) if request else None
            call = Call(
                ctx, caller, req, params,
                body=request.model_validate(raw) if request else None,
                query=query.model_validate(req.query_params or {}) if query else None,
            )
            key = req.headers.get("idempotency-key")
            if caller is None or not (creates or (keyed and key is not None)):
                return view(call)
            return _run_once(call, view, key, raw, method=method, path=path, creates=creates)

        blueprint.route(path, methods=[method])(handler)
        return handler

    return decorate


def _run_once(
    call: Call, view: Callable[[Call], Result], key: str | None, raw: Any, *, method: str,
    path: str, creates: str,
) -> idempotency.Outcome:
    """A keyed view, through the Idempotency-Key workflow. The fingerprint is of the request
    as served: the concrete path, the validated query, the whole caller and the raw body."""
    fingerprint = idempotency.fingerprint(
        method, _concrete_path(path, call.params), call.who, raw,
        None if call.query is None else _dump(call.query),
    )

    def command(new_id: str) -> idempotency.Outcome:
        call.new_id = new_id
        code, model = view(call)
        return code, _dump(model)

    return idempotency.run_once(
        call.ctx, bootstrap.idempotency_store(), call.who, key, fingerprint, command,
        id_prefix=creates,
    )


def _check_path_ids(params: dict[str, str]) -> None:
    """A malformed id names nothing: 404 before it reaches the database (which would refuse
    an empty or oversized key)."""
    for name, value in params.items():
        prefix, code = PATH_IDS[name]
        head, _, body = value.partition("_")
        if head != prefix or not ID_BODY.match(body):
            raise NotFound("资源不存在", code=code)


def _concrete_path(template: str, params: dict[str, str]) -> str:
    """`/v1/consumptions/{consumption_id}/confirm` -> `/v1/consumptions/con_…/confirm`
    (chalice's `Request.path` is the route template: API Gateway's resourcePath)."""
    return PATH_PARAMETER.sub(lambda name: params[name.group(1)], template)


def _json_body(req: Request) -> Any:
    """The parsed body; an omitted one is {} (see `accepts_omitted_body`)."""
    raw = req.raw_body
    if not raw:
        return {}
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as error:
        raise InvalidRequest("请求体不是合法的 JSON", code="invalid_json") from error


def _dump(model: BaseModel | dict[str, Any]) -> Any:
    return model.model_dump(mode="json") if isinstance(model, BaseModel) else model


def _respond(status: int, model: BaseModel | dict[str, Any]) -> Response:
    return Response(
        body=json.dumps(_dump(model), ensure_ascii=False),
        status_code=status,
        headers={"Content-Type": "application/json"},
    )

