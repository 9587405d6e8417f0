"""Endpoints for the SLA: its versions (read and publish) and one lead's clocks.

Compliance rollups live in `compliance_api.py`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from ninja import Field, Path, Query, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status

from accord.accounts.schemas import MAX_ID, InSchema, Moment, Page, UserRef
from accord.capture.selectors import contact_for
from accord.core.yamldoc import InvalidDocument
from accord.sla import selectors, services

router = Router(tags=["sla"])
_ID = {"ge": 1, "le": MAX_ID}


class SlaVersionOut(Schema):
    version: int
    effective_from: dt.datetime = Field(description="From when the version governs new clocks.")
    note: str
    created_by: UserRef | None
    created_at: dt.datetime
    in_force: bool = Field(description="True for the version that governs clocks opened now.")

    @staticmethod
    def resolve_in_force(version, context) -> bool:
        return version.pk == getattr(context["request"], "sla_in_force_id", None)


class SlaVersionDetailOut(SlaVersionOut):
    source: str = Field(description="The document as written (YAML).")
    document: dict[str, Any] = Field(description="The document as parsed and validated, defaults filled in.")


class SlaVersionIn(InSchema):
    source: str = Field(min_length=1, max_length=100_000, description="The SLA document, YAML (docs/sla.md).")
    note: str = Field("", max_length=500, description="What changed, and why.")
    effective_from: Moment | None = Field(None, description="From when it governs new clocks; now when left out.")


class ClockOut(Schema):
    id: int
    kind: str = Field(description="first_touch, decision or attempts.")
    label: str
    state: str = Field(description="running, warning, breached, paused, met or cancelled.")
    due_at: dt.datetime
    warn_at: dt.datetime
    remaining_seconds: int = Field(description="Time left in the clock's own time (working or calendar); "
                                               "negative once overdue.")
    budget_seconds: int
    working: bool = Field(description="True when the clock counts working time only.")
    attempts_done: int
    attempts_required: int


class ClockFilters(Schema):
    include_closed: bool = Field(False, description="Also list met and cancelled clocks.")


def _in_force(request) -> None:
    version = selectors.version_in_force()
    request.sla_in_force_id = version.pk if version else None


@router.get("/sla/versions", response=list[SlaVersionOut])
@paginate(Page)
def list_sla_versions(request):
    """List every published SLA version, newest first, with who published it and which is in force."""
    _in_force(request)
    return selectors.versions_queryset()


@router.get("/sla/versions/{number}", response=SlaVersionDetailOut)
def get_sla_version(request, number: int = Path(..., **_ID)):
    """Show one SLA version: its source, the parsed document, who published it and when."""
    _in_force(request)
    return selectors.version_or_404(number=number)


# 422 answers in the project's error shape, which config.api documents on every operation.
@router.post("/sla/versions", response={200: SlaVersionDetailOut, 201: SlaVersionDetailOut})
def publish_sla_version(request, payload: SlaVersionIn):
    """Publish an SLA document as the next version (201). An invalid document answers 422 with one error
    per problem, each naming its line; resending the source and note of the latest version answers 200
    with that version instead of publishing a copy."""
    latest = selectors.latest_version()
    if latest is not None and latest.source == payload.source and latest.note == payload.note[:500]:
        _in_force(request)
        return Status(200, latest)
    try:
        version = services.publish_sla_version(source=payload.source, by=request.user, note=payload.note,
                                               effective_from=payload.effective_from)
    except InvalidDocument as error:
        return Status(422, {"errors": [
            {"field": "source", "code": "invalid", "message": str(problem)} for problem in error.errors]})
    _in_force(request)
    return Status(201, version)


@router.get("/leads/{contact_id}/clocks", response=list[ClockOut])
def list_lead_clocks(request, filters: Query[ClockFilters], contact_id: int = Path(..., **_ID)):
    """List a lead's SLA clocks, soonest due first, with their state and the time left."""
    contact = contact_for(user=request.user, contact_id=contact_id)
    clocks = selectors.clocks_for(contact_ids=[contact.pk], visible_to=request.user, now=timezone.now(),
                                  include_closed=filters.include_closed)
    return clocks.get(contact.pk, [])
