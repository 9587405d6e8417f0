"""The one NinjaAPI: every app's router, authentication, and the one error shape."""

from __future__ import annotations

from ninja import NinjaAPI

api = NinjaAPI(
    title="Accord API",
    version="1",
    description="Accord's REST API. Authenticate with a personal token: `Authorization: Bearer <token>`.",
    urls_namespace="api",
)
