"""The event batch's quick check accepts exactly what the full models accept, storing the same values."""

import datetime as dt
import json

import pytest
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.test import override_settings

from accord.capture.schemas import EventBatchIn, EventIn, _is_email, events_from_json, quick_events

AT = "2026-03-01T09:30:00Z"

PLAIN_EVENTS = [
    {"type": "page_view", "occurred_at": AT, "email": "  Ada@Example.ORG ", "url": " https://www.example.com/a "},
    {"type": "ad_click", "occurred_at": "2026-03-01T10:30:00.5+02:00", "external_id": " crm-7 ", "id": " e-1 "},
    {"type": "form_submit", "occurred_at": "2026-03-01T10:30:00", "anonymous_id": "vid-1", "email": None},
    {"type": "webinar_attend", "occurred_at": "2026-03-01T10:30:00.123456-05:00", "email": "b@example.org",
     "first_name": " Bea ", "last_name": "", "utm_source": " li ", "utm_medium": "paid_social ",
     "utm_campaign": " Spring ", "utm_term": "t", "utm_content": "c", "referrer": "http://t.co/x",
     "campaign": " SPRING ", "channel": "paid_social", "external_id": "", "anonymous_id": "  "},
    {"type": "page_view", "occurred_at": AT, "email": "c@example.org", "channel": None, "id": None},
]


@override_settings(TIME_ZONE="Europe/Paris")
def test_plain_events_are_built_by_the_quick_check_exactly_as_by_the_models():
    # Given events spelled the ways integrations send them (blank, padded, null, offsets, no offset)
    # When the batch is checked quickly and through the models
    quick = quick_events({"events": PLAIN_EVENTS})
    full = [EventIn.model_validate(item).to_event() for item in PLAIN_EVENTS]

    # Then the same events come out, every time in UTC
    assert quick == full
    assert {event.occurred_at.tzinfo for event in quick} == {dt.UTC}
    assert quick[2].occurred_at == dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC)  # 10:30 in Paris
    assert EventBatchIn.model_validate({"events": PLAIN_EVENTS}).to_events() == full


@override_settings(TIME_ZONE="Europe/Paris")
def test_plain_events_decoded_straight_from_the_body_are_the_events_the_models_build():
    # Given the same events as a JSON body, once with every non-ASCII letter escaped as \u
    events = [*PLAIN_EVENTS, {"type": "page_view", "occurred_at": AT, "email": "j@example.org", "first_name": "José"}]
    full = [EventIn.model_validate(item).to_event() for item in events]

    # When the body is decoded into the wire structs
    # Then the same events come out, whichever way the body spells its text
    assert events_from_json(json.dumps({"events": events}).encode()) == full
    assert events_from_json(json.dumps({"events": events}, ensure_ascii=False).encode()) == full


@pytest.mark.parametrize(
    "item",
    [
        {"type": "page_view", "occurred_at": AT},  # names nobody
        {"type": "page_view", "occurred_at": AT, "email": "not an email"},
        {"type": "page_view", "occurred_at": AT, "email": "a@example.org", "url": "ftp://example.com"},
        {"type": "page_view", "occurred_at": AT, "email": "a@example.org", "colour": "red"},  # unknown field
        {"type": "page_viewed", "occurred_at": AT, "email": "a@example.org"},
        {"type": "page_view", "occurred_at": AT, "email": "a@example.org", "channel": "telepathy"},
        {"type": "page_view", "occurred_at": AT, "email": "a@example.org", "utm_source": "x" * 101},
        {"type": "page_view", "occurred_at": AT, "email": "a@example.org", "first_name": 7},  # not text
        {"type": "page_view", "occurred_at": "2026-02-30T09:30:00Z", "email": "a@example.org"},
        {"type": "page_view", "email": "a@example.org"},  # no time
        {"type": "page_view", "occurred_at": AT, "email": "a@example.org", "first_name": None},
    ],
)
def test_an_event_the_models_refuse_is_never_accepted_by_the_quick_check(item):
    # Given a batch with one bad event among good ones
    events = [PLAIN_EVENTS[0], item]

    # When it is checked quickly
    # Then the quick check leaves it to the models, which refuse it naming the event
    assert quick_events({"events": events}) is None
    assert events_from_json(json.dumps({"events": events}).encode()) is None
    with pytest.raises(ValueError, match=r"events\.1"):
        EventBatchIn.model_validate({"events": events})


@pytest.mark.parametrize(
    "moment", ["1772357400", "2026-03-01 09:30:00Z", "2026-03-01T09:30Z", "2026-03-01T09:30:00.1234567Z"]
)
def test_other_spellings_of_a_time_take_the_full_check_and_are_stored_as_it_reads_them(moment):
    # Given an event whose time pydantic reads but the quick check does not
    events = [{"type": "page_view", "occurred_at": moment, "email": "a@example.org"}]

    # When the batch is validated
    batch = EventBatchIn.model_validate({"events": events})

    # Then the models decided it
    assert quick_events({"events": events}) is None
    assert batch.to_events() == [EventIn.model_validate(events[0]).to_event()]


@pytest.mark.parametrize(
    "email",
    [
        "a..b@example.org", ".a@example.org", "a.@example.org", "a@-example.org", "a@example-.org",
        "a@example..org", "a@example.o", "a@example.org-", "a@example", "a@" + "x" * 64 + ".org",
        "a@exa_mple.org", "a b@example.org", "a@example.123", "@example.org", "a@",
        "a" * 310 + "@example.org",
    ],
)
def test_an_address_django_refuses_is_refused_by_the_quick_email_check_too(email):
    # Given an address Django's validator refuses (the shapes a fast pattern gets wrong)
    with pytest.raises(DjangoValidationError):
        validate_email(email)

    # Then the quick check refuses it as well
    assert _is_email(email) is False


@pytest.mark.parametrize(
    "email", ["ada@example.org", "a.b+tag@mail.example.co.uk", "x_y%z-1@a-b.example", "o'neil@example.org"]
)
def test_an_address_django_accepts_is_accepted_by_the_quick_email_check(email):
    validate_email(email)

    assert _is_email(email) is True


@pytest.mark.parametrize(
    "body",
    [
        b'{"events": [{"type": "page_view", "occurred_at": "2026-03-01T09:30:00Z", "email": "a@x.org", '
        b'"utm_source": "a\\u0000b"}]}',
        b'{"events": [{"type": "page_view", "occurred_at": "2026-03-01T09:30:00Z", "email": "a@x.org", '
        b'"utm_source": "\\ud800"}]}',
        '{"events": [{"type": "page_view", "occurred_at": "2026-03-01T09:30:00Z", "email": "a@x.org"}]}'.encode("utf-16"),
        b'{"events": []}',
        b'{"events": [], "more": 1}',
        b'[]',
        b'{"events": [{"type": "page_view"',
        b"",
    ],
    ids=["escaped NUL", "escaped lone surrogate", "UTF-16", "no events", "unknown field", "not an object",
         "cut short", "empty"],
)
def test_a_body_the_structs_cannot_take_plainly_is_left_to_the_parser_and_the_models(body):
    assert events_from_json(body) is None
