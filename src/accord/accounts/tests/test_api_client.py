"""An HTTP client for API tests that signs in with a real personal token, as scripts do."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from accord.accounts.services import issue_api_token

BASE = "/api/v1"


class ApiClient:
    """Send JSON to /api/v1 with `Authorization: Bearer <token>` and return the response."""

    def __init__(self, token: str | None) -> None:
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def get(self, path: str, params: dict[str, Any] | None = None):
        return self.client.get(BASE + path, params or {}, headers=self.headers)

    def post(self, path: str, body: Any = None, *, raw: str | bytes | None = None):
        return self._send("post", path, body, raw)

    def patch(self, path: str, body: Any = None, *, raw: str | bytes | None = None):
        return self._send("patch", path, body, raw)

    def delete(self, path: str):
        return self.client.delete(BASE + path, headers=self.headers)

    def _send(self, method: str, path: str, body: Any, raw: str | bytes | None):
        data = raw if raw is not None else json.dumps(body if body is not None else {})
        return getattr(self.client, method)(
            BASE + path, data, content_type="application/json", headers=self.headers
        )


def api_as(user) -> ApiClient:
    """Return a client authenticated with a fresh token of the user."""
    _, secret = issue_api_token(user=user, name="tests")
    return ApiClient(secret)


def errors_of(response) -> list[tuple[str | None, str]]:
    """Return the (field, code) pairs of an error response, checking its shape on the way."""
    body = response.json()
    assert set(body) == {"errors"}
    for item in body["errors"]:
        assert set(item) == {"field", "code", "message"}
        assert item["message"]
    return [(item["field"], item["code"]) for item in body["errors"]]
