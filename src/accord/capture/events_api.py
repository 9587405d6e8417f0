"""The event API: touches from integrations, one at a time or in batches of up to 1,000."""

from __future__ import annotations

from django.http import HttpResponse
from ninja import Header, Router
from ninja.responses import Status

from accord.capture import services
from accord.capture.ingestion import Event
from accord.capture.schemas import EventBatchIn, EventIn, EventsOut

router = Router(tags=["events"])

IdempotencyKey = Header(
    None,
    alias="Idempotency-Key",
    max_length=200,
    description="Send the same key when retrying: the first answer is returned and nothing is written twice.",
)


@router.post("/events", response={200: EventsOut, 201: EventsOut})
def ingest_event(request, response: HttpResponse, payload: EventIn, idempotency_key: str | None = IdempotencyKey):
    """Store one event; 201 when stored, 200 when its id was already stored."""
    return _ingest(request, response, [payload.to_event()], idempotency_key, created_status=201)


@router.post("/events/batch", response={200: EventsOut})
def ingest_event_batch(
    request, response: HttpResponse, payload: EventBatchIn, idempotency_key: str | None = IdempotencyKey
):
    """Store up to 1,000 events in one transaction: all of them, or (on a 422) none."""
    return _ingest(request, response, payload.to_events(), idempotency_key, created_status=200)


def _ingest(request, response: HttpResponse, events: list[Event], key: str | None, *, created_status: int):
    status, body, replayed = services.ingest_events(
        by=request.user,
        events=events,
        idempotency_key=key or None,
        request_hash=services.request_digest(path=request.path, body=request.body),
        created_status=created_status,
    )
    if replayed:
        response["Idempotent-Replayed"] = "true"
    return Status(status, body)
