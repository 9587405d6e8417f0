"""The event API: touches from integrations, one at a time or in batches of up to 1,000."""

from __future__ import annotations

import pydantic
from django.http import HttpRequest, HttpResponse
from ninja import Header, Router
from ninja.errors import ValidationError as NinjaValidationError
from ninja.responses import Status

from accord.capture import services
from accord.capture.ingestion import Event
from accord.capture.schemas import EventBatchIn, EventIn, EventsOut, events_from_json
from accord.core.jsonbody import parse_json_body

router = Router(tags=["events"])

IdempotencyKey = Header(
    None,
    alias="Idempotency-Key",
    max_length=200,
    description="Send the same key when retrying: the first answer is returned and nothing is written twice.",
)

# The batch's body is read by the endpoint itself (below), so ninja cannot see its schema:
# documented here as ninja would document a `payload: EventBatchIn` parameter. EventIn's own
# schema is among the document's components through POST /events.
_BATCH_SCHEMA = {
    key: value
    for key, value in EventBatchIn.model_json_schema(ref_template="#/components/schemas/{model}").items()
    if key != "$defs"
}
_BATCH_BODY = {
    "requestBody": {"content": {"application/json": {"schema": _BATCH_SCHEMA}}, "required": True}
}


@router.post("/events", response={200: EventsOut, 201: EventsOut})
def ingest_event(request, response: HttpResponse, payload: EventIn, idempotency_key: str | None = IdempotencyKey):
    """Store one event; 201 when stored, 200 when its id was already stored."""
    return _ingest(request, response, [payload.to_event()], idempotency_key, created_status=201)


@router.post("/events/batch", response={200: EventsOut}, openapi_extra=_BATCH_BODY)
def ingest_event_batch(request, response: HttpResponse, idempotency_key: str | None = IdempotencyKey):
    """Store up to 1,000 events in one transaction: all of them, or (on a 422) none."""
    return _ingest(request, response, _batch_events(request), idempotency_key, created_status=200)


def _batch_events(request: HttpRequest) -> list[Event]:
    """Return the batch's events, or raise what ninja raises for a body it cannot parse or validate.

    A plain batch (what integrations send) is decoded straight into typed structs; any other goes
    the way of every endpoint's body, parsed as the API's parser parses it, then checked by the
    models, which name each problem.
    """
    events = events_from_json(request.body)
    if events is not None:
        return events
    if not request.body:
        raise NinjaValidationError([{"type": "missing", "loc": ("body", "payload"), "msg": "Field required"}])
    data = parse_json_body(request.body)  # what the API's parser does: 400, or 422 naming the field
    try:
        return EventBatchIn.model_validate(data).to_events()
    except pydantic.ValidationError as error:
        raise NinjaValidationError(
            [{**item, "loc": ("body", "payload", *item["loc"])} for item in error.errors(include_url=False)]
        ) from None


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
