"""The one NinjaAPI: every app's router, authentication, and the one error shape.

Every failure, whoever raises it, answers with the same body:

    {"errors": [{"field": "email" | null, "code": "conflict", "message": "…"}]}

`field` is the dotted name of the input at fault (`email`, `limit`, `items.0.name`) or null
when the request as a whole is at fault; `code` is one of ERROR_CODES.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.urls import re_path
from ninja import Field, NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, Throttled
from ninja.errors import ValidationError as NinjaValidationError
from ninja.parser import Parser
from ninja.security import HttpBearer, SessionAuth

from accord.accounts.api import router as accounts_router
from accord.accounts.selectors import user_for_token
from accord.capture.api import router as capture_router
from accord.capture.events_api import router as events_router
from accord.collaboration.api import router as collaboration_router
from accord.core.errors import AccordError
from accord.core.jsonbody import parse_json_body, refuse_unstorable_text
from accord.deals.api import router as deals_router
from accord.handoff.api import router as handoff_router
from accord.lifecycle.api import router as lifecycle_router
from accord.privacy.api import router as privacy_router
from accord.sla.api import router as sla_router
from accord.sla.compliance_api import router as sla_compliance_router
from accord.web.api import router as web_router

logger = logging.getLogger(__name__)

ERROR_CODES = {
    "invalid": "a value is wrong (422), or the request is (400)",
    "required": "a required value is missing (422)",
    "unknown_field": "a field the endpoint does not take, or one that is read-only (422)",
    "malformed_json": "the body is not valid JSON (400)",
    "unauthenticated": "no valid token or session (401)",
    "forbidden": "your role may not do this, or the CSRF check failed (403)",
    "not_found": "no such record, or not one you can see (404)",
    "method_not_allowed": "the path does not take this HTTP method (405)",
    "conflict": "a unique value (an email, a domain) is taken, or a lead may not make this move (409)",
    "throttled": "too many requests (429)",
    "server_error": "a fault on the server, logged for the operators (500)",
}


class ErrorItem(Schema):
    field: str | None = Field(
        description="Dotted name of the input at fault (`email`, `limit`); null for the whole request."
    )
    code: str = Field(
        description="; ".join(f"`{code}`: {meaning}" for code, meaning in ERROR_CODES.items())
    )
    message: str = Field(description="A sentence for people, not for matching on.")


class ErrorOut(Schema):
    errors: list[ErrorItem]


# Authentication -------------------------------------------------------------------------


class TokenAuth(HttpBearer):
    """A personal API token: `Authorization: Bearer <token>`."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = user_for_token(raw=token.strip())
        if user is None:
            return None
        # Selectors and services scope by request.user; with a token there is no session.
        request.user = user
        return user


class BrowserSession(SessionAuth):
    """The signed-in browser session; unsafe methods must pass Django's CSRF check."""

    def __call__(self, request: HttpRequest) -> Any:
        # Without a signed-in session the request is unauthenticated (401), not a CSRF
        # failure (403): a script sending a revoked token must learn that the token is bad.
        if not request.user.is_authenticated:
            return None
        return super().__call__(request)


# Parsing --------------------------------------------------------------------------------


class JsonParser(Parser):
    """Parse JSON bodies and query strings, refusing text no database column can hold."""

    def parse_body(self, request: HttpRequest) -> Any:
        return parse_json_body(request.body)

    def parse_querydict(self, data, list_fields, request):
        parsed = super().parse_querydict(data, list_fields, request)
        refuse_unstorable_text(parsed)
        return parsed


# The error shape ------------------------------------------------------------------------


def error_body(*items: tuple[str | None, str, str]) -> dict[str, list[dict[str, str | None]]]:
    return {
        "errors": [
            {"field": field, "code": code, "message": message} for field, code, message in items
        ]
    }


def _respond(
    request: HttpRequest, status: int, *items: tuple[str | None, str, str]
) -> HttpResponse:
    return api.create_response(request, error_body(*items), status=status)


def on_accord_error(request: HttpRequest, exc: AccordError) -> HttpResponse:
    return _respond(request, exc.status, (exc.field, exc.code, exc.message))


_SOURCES = {"body", "query", "path", "header", "cookie", "form", "file"}


def _field_name(loc: Iterable[Any], *, source_params: set[str]) -> str | None:
    parts = [str(part) for part in loc]
    if parts and parts[0] in _SOURCES:
        source = parts.pop(0)
        # ninja nests a body under the view's parameter name (body.payload.email).
        if source == "body" and parts and parts[0] in source_params:
            parts.pop(0)
    return ".".join(parts) or None


def _message(error: dict[str, Any], field: str | None) -> tuple[str, str]:
    kind = error.get("type", "")
    if kind == "missing":
        if field is None:
            return "required", "The request body is required."
        return "required", "This field is required."
    if kind == "extra_forbidden":
        return (
            "unknown_field",
            f"{field} is not a field this endpoint takes (unknown or read-only).",
        )
    if field is None and kind in {"model_attributes_type", "dict_type", "model_type"}:
        return "invalid", "The request body must be a JSON object."
    # Pydantic prefixes the message of a failed custom check with its exception's kind.
    return "invalid", str(error.get("msg", "This value is not valid.")).removeprefix(
        "Value error, "
    )


def on_validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    body_params = {"payload"}
    items = []
    for error in exc.errors:
        field = _field_name(error.get("loc", ()), source_params=body_params)
        code, message = _message(error, field)
        items.append((field, code, message))
    return _respond(request, 422, *items)


def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    # ninja wraps a failure of the body parser; the cause carries the real answer.
    if isinstance(exc.__cause__, AccordError):
        return on_accord_error(request, exc.__cause__)
    if isinstance(exc, AuthenticationError):
        response = _respond(
            request,
            401,
            (
                None,
                "unauthenticated",
                "Send a valid API token as 'Authorization: Bearer <token>', or sign in.",
            ),
        )
        response["WWW-Authenticate"] = 'Bearer realm="accord"'
        return response
    if isinstance(exc, Throttled):
        return _respond(request, 429, (None, "throttled", "Too many requests; try again shortly."))
    code = {403: "forbidden", 404: "not_found", 405: "method_not_allowed"}.get(
        exc.status_code, "invalid"
    )
    message = exc.message
    if exc.status_code == 403 and "CSRF" in message:
        message = (
            "The CSRF check failed: send the csrftoken cookie's value as the X-CSRFToken header."
        )
    return _respond(request, exc.status_code, (None, code, message))


def on_not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
    return _respond(request, 404, (None, "not_found", "Not found."))


def on_django_permission_denied(request: HttpRequest, exc: Exception) -> HttpResponse:
    return _respond(request, 403, (None, "forbidden", str(exc) or "You may not do this."))


def on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("API request %s %s failed", request.method, request.path)
    return _respond(
        request,
        500,
        (None, "server_error", "Something went wrong on the server; it has been logged."),
    )


# The API --------------------------------------------------------------------------------


def _method_not_allowed(response: HttpResponseNotAllowed) -> HttpResponse:
    allowed = response["Allow"]
    body = error_body((None, "method_not_allowed", f"This path takes {allowed}."))
    shaped = HttpResponse(
        json.dumps(body), status=405, content_type="application/json; charset=utf-8"
    )
    shaped["Allow"] = allowed
    return shaped


def _shape_405(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    # ninja answers an unsupported method before any exception handler can run.
    @wraps(view)
    def shaped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if isinstance(response, HttpResponseNotAllowed):
            return _method_not_allowed(response)
        return response

    return shaped


def _unknown_path(request: HttpRequest, rest: str = "") -> HttpResponse:
    body = error_body((None, "not_found", f"No API endpoint at {request.path}."))
    return HttpResponse(
        json.dumps(body), status=404, content_type="application/json; charset=utf-8"
    )


_unknown_path.csrf_exempt = True  # type: ignore[attr-defined]


class AccordAPI(NinjaAPI):
    """A NinjaAPI that documents the error shape on every operation and uses it for 404 and 405."""

    _errors_documented = False

    def get_openapi_operation_id(self, operation) -> str:
        return operation.view_func.__name__

    def _get_bound_routers(self):
        routers = super()._get_bound_routers()
        if not self._errors_documented:
            self._errors_documented = True
            for router in routers:
                for path_view in router.path_operations.values():
                    for operation in path_view.operations:
                        _document_errors(operation)
        return routers

    def _get_urls(self):
        urls = super()._get_urls()
        for pattern in urls:
            pattern.callback = _shape_405(pattern.callback)
        urls.append(re_path(r"^(?P<rest>.*)$", _unknown_path, name="api-unknown"))
        return urls


def _document_errors(operation) -> None:
    statuses = [401, 403, 422]
    has_body = any(method in {"POST", "PUT", "PATCH"} for method in operation.methods)
    if has_body:
        statuses += [400, 409]
    if "{" in operation.path:
        statuses.append(404)
    for status in statuses:
        operation.response_models.setdefault(status, operation._create_response_model(ErrorOut))


api = AccordAPI(
    title="Accord API",
    version="1",
    description=(
        "Accord's REST API. Authenticate with a personal token: `Authorization: Bearer <token>` "
        "(create one at POST /tokens or on your profile page), or use the signed-in browser "
        "session, which must send the CSRF token on unsafe methods. Every failure answers "
        '`{"errors": [{"field": …, "code": …, "message": …}]}`. See docs/api.md.'
    ),
    urls_namespace="api",
    auth=[TokenAuth(), BrowserSession()],
    parser=JsonParser(),
)

api.add_exception_handler(AccordError, on_accord_error)
api.add_exception_handler(NinjaValidationError, on_validation_error)
api.add_exception_handler(HttpError, on_http_error)
api.add_exception_handler(Http404, on_not_found)
api.add_exception_handler(DjangoPermissionDenied, on_django_permission_denied)
api.add_exception_handler(Exception, on_unexpected)

api.add_router("", accounts_router)
api.add_router("", capture_router)
api.add_router("", events_router)
api.add_router("", deals_router)
api.add_router("", web_router)
api.add_router("", handoff_router)
api.add_router("", lifecycle_router)
api.add_router("", collaboration_router)
api.add_router("", sla_router)
api.add_router("", sla_compliance_router)
api.add_router("", privacy_router)
