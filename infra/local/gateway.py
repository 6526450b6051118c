"""API Gateway as the province template configures it, for the local server and the tests.

chalice.local's LocalGateway stands in for API Gateway in `chalice local` and in
chalice.test.Client. It answers two things the way a stock REST API would, which is not how
ours is packaged (infra/package/gateway.py):

- a path no route matches: chalice answers 403 {"message": "Missing Authentication Token"};
  ours answers 404 `route_not_found` in the platform's envelope;
- OPTIONS on a known path: chalice answers 200 itself; ours sends every method to the
  function (`x-amazon-apigateway-any-method`), where Chalice answers a method the path does
  not serve with 405 and the app's middleware puts it in the envelope.
"""

from __future__ import annotations

import json
from typing import Any

from chalice.app import Chalice
from chalice.config import Config
from chalice.local import ForbiddenError, LocalGateway
from chalice.test import Client, TestHTTPClient

from chalicelib.api.errors import ROUTE_NOT_FOUND


class PlatformGateway(LocalGateway):
    """LocalGateway answering as the packaged API Gateway does. The app declares no API
    Gateway authorizers (tokens are checked in the views), so chalice's ForbiddenError here
    only ever means that no route matched."""

    def __init__(self, app_object: Chalice, config: Config) -> None:
        super().__init__(app_object, config)
        authorized = [e for methods in app_object.routes.values() for e in methods.values()
                      if e.authorizer is not None]
        assert not authorized, "an authorizer's refusal would also raise ForbiddenError"

    def handle_request(
        self, method: str, path: str, headers: dict[str, Any], body: bytes | None
    ) -> dict[str, Any]:
        try:
            response: dict[str, Any] = super().handle_request(method, path, headers, body)
        except ForbiddenError:
            return route_not_found()
        return response

    def _has_user_defined_options_method(self, lambda_event: dict[str, Any]) -> bool:
        return True  # OPTIONS goes to the app, as the ANY method sends it to the function


def route_not_found() -> dict[str, Any]:
    """The answer in the proxy-integration shape that LocalGateway's callers read."""
    assert ROUTE_NOT_FOUND.status is not None
    return {
        "statusCode": ROUTE_NOT_FOUND.status,
        "headers": {"Content-Type": "application/json"},
        "multiValueHeaders": {},
        "body": json.dumps(ROUTE_NOT_FOUND.body(), ensure_ascii=False),
    }


class PlatformHTTPClient(TestHTTPClient):
    """chalice.test's HTTP client in front of PlatformGateway instead of LocalGateway."""

    def __init__(self, app: Chalice, config: Config) -> None:
        super().__init__(app, config)
        self._local_gateway = PlatformGateway(app, config)


class PlatformTestClient(Client):
    """chalice.test.Client whose `http` goes through PlatformGateway."""

    @property
    def http(self) -> TestHTTPClient:
        if self._http_client is None:
            self._http_client = PlatformHTTPClient(self._app, self._chalice_config)
        return self._http_client
