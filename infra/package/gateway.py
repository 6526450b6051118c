"""What API Gateway answers by itself, in the platform's error envelope.

Two additions to the swagger definition chalice writes for the REST API (merged into its
DefinitionBody, so a change to them changes the deployment SAM makes):

- `x-amazon-apigateway-gateway-responses`: the answers API Gateway gives without calling the
  function. A path with no method is MISSING_AUTHENTICATION_TOKEN (403 by default): here 404
  `route_not_found`. A bearer token on such a path is read as a malformed SigV4 signature
  (INVALID_SIGNATURE, EXPIRED_TOKEN); no method uses IAM authorization, so those mean the
  same. DEFAULT_4XX and DEFAULT_5XX catch every other type with its own status.
- `x-amazon-apigateway-any-method` on every path, integrated with the API function like the
  path's own methods: a method the path does not serve (DELETE, OPTIONS, HEAD) reaches Chalice,
  which answers 405 with `Allow`, put in the envelope by the app's middleware, as locally.

The bodies come from chalicelib/api/errors.py, the one place the codes are defined.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from chalicelib.api import errors
from infra.package.errors import PackagingError

ANY_METHOD = "x-amazon-apigateway-any-method"
GATEWAY_RESPONSES = "x-amazon-apigateway-gateway-responses"
INTEGRATION = "x-amazon-apigateway-integration"
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch"}

REFUSALS: dict[str, errors.Refusal] = {
    "MISSING_AUTHENTICATION_TOKEN": errors.ROUTE_NOT_FOUND,
    "RESOURCE_NOT_FOUND": errors.ROUTE_NOT_FOUND,
    "INVALID_SIGNATURE": errors.ROUTE_NOT_FOUND,
    "EXPIRED_TOKEN": errors.ROUTE_NOT_FOUND,
    "UNSUPPORTED_MEDIA_TYPE": errors.UNSUPPORTED_MEDIA_TYPE,
    "REQUEST_TOO_LARGE": errors.REQUEST_TOO_LARGE,
    "THROTTLED": errors.RATE_LIMITED,
    "QUOTA_EXCEEDED": errors.RATE_LIMITED,
    "DEFAULT_4XX": errors.REQUEST_REFUSED,
    "DEFAULT_5XX": errors.SERVICE_UNAVAILABLE,
}


def definition_overlay(api: dict[str, Any]) -> dict[str, Any]:
    """The part merged onto the REST API's DefinitionBody."""
    paths: dict[str, Any] = api["Properties"]["DefinitionBody"]["paths"]
    return {
        GATEWAY_RESPONSES: {kind: gateway_response(r) for kind, r in REFUSALS.items()},
        "paths": {path: {ANY_METHOD: _any_method(path, ops)} for path, ops in paths.items()},
    }


def gateway_response(refusal: errors.Refusal) -> dict[str, Any]:
    response: dict[str, Any] = {
        # ASCII-escaped: the template is plain JSON to API Gateway, whatever its encoding.
        "responseTemplates": {"application/json": json.dumps(refusal.body())},
    }
    if refusal.status is not None:
        response["statusCode"] = str(refusal.status)
    return response


def _any_method(path: str, operations: dict[str, Any]) -> dict[str, Any]:
    integrations = [op[INTEGRATION] for m, op in operations.items() if m in HTTP_METHODS]
    if not integrations or any(i != integrations[0] for i in integrations):
        raise PackagingError(f"{path}: its methods do not share one integration")
    return {
        "responses": {"405": {"description": "Method not allowed (answered by the function)"}},
        INTEGRATION: copy.deepcopy(integrations[0]),
    }
