"""Domain errors that the API and pages turn into clear answers.

Services raise these; config.api maps each to one HTTP status and the one error shape.
"""

from __future__ import annotations


class AccordError(Exception):
    """Base of every error a user can cause and should be told about."""

    status = 400
    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class ValidationFailed(AccordError):
    status = 422
    code = "invalid"


class NotFound(AccordError):
    status = 404
    code = "not_found"


class PermissionDenied(AccordError):
    status = 403
    code = "forbidden"


class Conflict(AccordError):
    status = 409
    code = "conflict"
