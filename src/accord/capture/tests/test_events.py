"""The event API: single and batch ingestion, idempotency, duplicates, and its query cost."""

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accord.accounts.tests.factories import UserFactory
from accord.accounts.tests.test_api_client import api_as, errors_of
from accord.capture import services
from accord.capture.ingestion import _moment_adapter
from accord.capture.models import Contact, IdempotencyRecord, Touchpoint
from accord.capture.tests.factories import CampaignFactory, ContactFactory, TouchpointFactory
from accord.core.permissions import Role
from accord.core.vocabulary import Channel

pytestmark = pytest.mark.django_db

AT = "2026-03-01T09:30:00Z"


def event(**fields) -> dict:
    return {"type": "page_view", "occurred_at": AT, **fields}


def marketer_api():
    return api_as(UserFactory(role=Role.MARKETING))


def test_one_event_is_stored_with_a_new_contact():
    response = marketer_api().post(
        "/events",
        event(id="e-1", email=" Ada@Example.org", first_name="Ada", utm_medium="email", campaign=""),
    )

    assert response.status_code == 201
    contact = Contact.objects.get()
    assert response.json() == {
        "received": 1,
        "stored": 1,
        "duplicates": 0,
        "duplicate_indexes": [],
        "contacts_created": 1,
        "stitched": 0,
        "contact_ids": [contact.pk],
    }
    touch = Touchpoint.objects.get()
    assert (touch.external_id, touch.contact_id, touch.channel, touch.kind) == (
        "e-1", contact.pk, Channel.EMAIL, "page_view"
    )
    assert (contact.email, contact.first_name) == ("ada@example.org", "Ada")


def test_a_batch_is_stored_matching_contacts_and_campaigns():
    known = ContactFactory(email="ada@example.org")
    by_external = ContactFactory(email=None, external_id="crm-7")
    campaign = CampaignFactory(utm_campaign="Spring", channel=Channel.DISPLAY)

    response = marketer_api().post(
        "/events/batch",
        {
            "events": [
                event(id="a", email="ADA@example.org", utm_campaign="spring"),
                event(id="b", external_id="crm-7", channel="partner"),
                event(id="c", email="new@example.org", campaign="SPRING"),
                event(id="d", anonymous_id="vid-9"),
            ]
        },
    )

    assert response.status_code == 200, response.content
    body = response.json()
    new = Contact.objects.get(email="new@example.org")
    assert body["contact_ids"] == [known.pk, by_external.pk, new.pk, None]
    assert (body["stored"], body["contacts_created"]) == (4, 1)
    touches = {t.external_id: t for t in Touchpoint.objects.all()}
    assert (touches["a"].campaign_id, touches["a"].channel) == (campaign.pk, Channel.DISPLAY)
    assert touches["b"].channel == Channel.PARTNER
    assert touches["c"].campaign_id == campaign.pk
    assert (touches["d"].contact_id, touches["d"].anonymous_id) == (None, "vid-9")


def test_more_than_1000_events_are_refused_naming_the_limit():
    events = [event(anonymous_id=f"v{n}") for n in range(1001)]

    response = marketer_api().post("/events/batch", {"events": events})

    assert response.status_code == 422
    assert ("events", "invalid") in errors_of(response)
    assert "1000" in response.json()["errors"][0]["message"]
    assert Touchpoint.objects.count() == 0


def test_bad_events_reject_the_whole_batch_naming_each_index_and_field():
    events = [
        event(id="ok", email="ok@example.org"),
        event(email="not-an-email"),
        event(type="teleport", anonymous_id="v"),
        event(),
    ]

    response = marketer_api().post("/events/batch", {"events": events})

    assert response.status_code == 422
    assert errors_of(response) == [
        ("events.1.email", "invalid"),
        ("events.2.type", "invalid"),
        ("events.3", "invalid"),
    ]
    assert (Touchpoint.objects.count(), Contact.objects.count()) == (0, 0)


def test_an_event_id_already_stored_is_counted_as_a_duplicate_not_stored_again():
    TouchpointFactory(external_id="e-1")
    api = marketer_api()

    response = api.post(
        "/events/batch",
        {"events": [event(id="e-1", anonymous_id="v"), event(id="e-2", anonymous_id="v"), event(id="e-2", anonymous_id="v")]},
    )

    body = response.json()
    assert (body["stored"], body["duplicates"], body["duplicate_indexes"]) == (1, 2, [0, 2])
    assert sorted(Touchpoint.objects.values_list("external_id", flat=True)) == ["e-1", "e-2"]


def test_an_event_id_stored_by_another_request_after_the_batch_was_read_is_counted_as_a_duplicate(monkeypatch):
    # Given another request that stores event e-2 after this batch's reads, before its write
    api = marketer_api()
    read = services.prepare

    def read_then_race(events, **kwargs):
        plan = read(events, **kwargs)
        if not Touchpoint.objects.filter(external_id="e-2").exists():
            TouchpointFactory(external_id="e-2")
        return plan

    monkeypatch.setattr(services, "prepare", read_then_race)

    # When the batch is sent
    response = api.post("/events/batch", {"events": [event(id="e-1", anonymous_id="v"), event(id="e-2", anonymous_id="v")]})

    # Then its write fails on the unique event id, is read and written again, and reports e-2 as a duplicate
    body = response.json()
    assert (response.status_code, body["stored"], body["duplicates"], body["duplicate_indexes"]) == (200, 1, 1, [1])
    assert sorted(Touchpoint.objects.values_list("external_id", flat=True)) == ["e-1", "e-2"]


def test_a_single_duplicate_answers_200():
    TouchpointFactory(external_id="e-1")

    response = marketer_api().post("/events", event(id="e-1", anonymous_id="v"))

    assert response.status_code == 200
    assert response.json()["duplicates"] == 1
    assert Touchpoint.objects.count() == 1


def test_a_retry_with_the_same_idempotency_key_replays_the_answer_and_writes_once():
    api = marketer_api()
    api.headers["Idempotency-Key"] = "k-1"
    body = {"events": [event(email="ada@example.org"), event(email="bob@example.org")]}

    first = api.post("/events/batch", body)
    second = api.post("/events/batch", body)

    assert first.status_code == second.status_code == 200
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert (Touchpoint.objects.count(), Contact.objects.count()) == (2, 2)
    assert IdempotencyRecord.objects.count() == 1


def test_the_same_idempotency_key_with_a_different_body_is_refused():
    api = marketer_api()
    api.headers["Idempotency-Key"] = "k-1"
    api.post("/events", event(email="ada@example.org"))

    response = api.post("/events", event(email="eve@example.org"))

    assert response.status_code == 409
    assert errors_of(response) == [("Idempotency-Key", "conflict")]
    assert list(Contact.objects.values_list("email", flat=True)) == ["ada@example.org"]


def test_idempotency_keys_belong_to_their_user():
    first, second = marketer_api(), marketer_api()
    first.headers["Idempotency-Key"] = second.headers["Idempotency-Key"] = "same"

    first.post("/events", event(email="ada@example.org"))
    response = second.post("/events", event(email="bob@example.org"))

    assert response.status_code == 201
    assert Touchpoint.objects.count() == 2


def test_a_role_without_import_rights_may_not_send_events():
    response = api_as(UserFactory(role=Role.SALES_REP)).post("/events", event(email="a@example.org"))

    assert response.status_code == 403
    assert Touchpoint.objects.count() == 0


def test_an_unauthenticated_request_is_refused():
    from django.test import Client

    response = Client().post("/api/v1/events", json.dumps(event(email="a@example.org")), content_type="application/json")

    assert response.status_code == 401
    assert Touchpoint.objects.count() == 0


def batch_of(n: int, offset: int) -> dict:
    # Every shape at once: known contacts, new contacts, anonymous visitors being identified.
    events = []
    for i in range(n):
        k = offset + i
        events.append(event(id=f"e{k}", email=f"p{k}@co{k}.example", anonymous_id=f"vid{k}", utm_campaign=f"c{k % 3}"))
        events.append(event(id=f"x{k}", anonymous_id=f"vid{k}"))
    return {"events": events}


def test_a_batch_costs_the_same_number_of_queries_whatever_its_size():
    for n in range(3):
        CampaignFactory(utm_campaign=f"c{n}")
    api = marketer_api()
    api.post("/events/batch", batch_of(1, 0))  # Warm the token and content-type caches.

    with CaptureQueriesContext(connection) as small:
        assert api.post("/events/batch", batch_of(5, 100)).status_code == 200
    with CaptureQueriesContext(connection) as large:
        assert api.post("/events/batch", batch_of(400, 1000)).status_code == 200

    assert len(small) == len(large) <= 20
    assert Touchpoint.objects.count() == 2 + 10 + 800


@pytest.mark.parametrize(
    "raw",
    [
        b'{"events": [{"type": "page_view", "occurred_at": "2026-03-01T09:30:00Z", "email": "a@x.org", '
        b'"utm_source": "a\\u0000b"}]}',
        '{"events": [{"type": "page_view", "occurred_at": "2026-03-01T09:30:00Z", "email": "a@x.org", '
        '"utm_source": "\ud800"}]}'.encode("utf-8", "surrogatepass"),
        '{"events": [{"type": "page_view", "occurred_at": "2026-03-01T09:30:00Z", "email": "a@x.org", '
        '"utm_source": "a\\u0000b"}]}'.encode("utf-16"),
    ],
    ids=["escaped NUL", "raw lone surrogate", "UTF-16 body"],
)
def test_text_no_database_can_hold_is_refused_however_the_body_spells_it(raw):
    response = marketer_api().post("/events/batch", raw=raw)

    assert errors_of(response) == [("events.0.utm_source", "invalid")]
    assert Touchpoint.objects.count() == 0


@pytest.mark.parametrize(
    "moment",
    [
        dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC),
        dt.datetime(2026, 3, 1, 9, 30, 0, 123, tzinfo=ZoneInfo("Europe/Paris")),
        dt.datetime(2026, 10, 25, 1, 59, 59, 999999, tzinfo=ZoneInfo("America/New_York")),
    ],
)
def test_batch_timestamps_are_stored_exactly_as_django_stores_them(moment):
    adapt = _moment_adapter()

    assert adapt(moment) == connection.ops.adapt_datetimefield_value(moment)


def test_a_retried_batch_is_answered_from_its_stored_answer_before_any_of_the_batchs_reads():
    # Given a batch stored under an Idempotency-Key
    api = marketer_api()
    api.headers["Idempotency-Key"] = "k-1"
    body = batch_of(50, 0)
    first = api.post("/events/batch", body)

    # When it is sent again with the same key
    with CaptureQueriesContext(connection) as retry:
        second = api.post("/events/batch", body)

    # Then the stored answer comes back, read by one query besides the token's: no event ids,
    # campaigns or people were read, nothing written
    assert (second.status_code, second.json(), second["Idempotent-Replayed"]) == (200, first.json(), "true")
    reads = [query["sql"] for query in retry.captured_queries if "accounts_apitoken" not in query["sql"]]
    assert len(reads) == 1
    assert "capture_idempotencyrecord" in reads[0]
    assert Touchpoint.objects.count() == 100


def test_a_batch_whose_size_is_not_a_multiple_of_the_insert_chunk_stores_every_event_in_order():
    # Given 253 events: two full multi-row INSERTs of touchpoints on SQLite, and 53 rows after them
    events = [
        event(id=f"e{k}", email=f"p{k}@example.org", utm_source=f"s{k}", url=f"https://example.org/{k}")
        for k in range(253)
    ]

    # When the batch is sent
    response = marketer_api().post("/events/batch", {"events": events})

    # Then every event is stored once, each with its own values and person
    assert response.status_code == 200
    assert response.json()["stored"] == 253
    stored = {
        touch.external_id: (touch.utm_source, touch.url, touch.contact.email)
        for touch in Touchpoint.objects.select_related("contact")
    }
    assert stored == {f"e{k}": (f"s{k}", f"https://example.org/{k}", f"p{k}@example.org") for k in range(253)}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner")
def test_a_batchs_people_are_found_by_email_through_the_email_index_on_postgresql():
    from accord.capture.ingestion import _contacts_by_email_pg

    # Given more contacts than emails looked up, where a scan computing LOWER(email) for each
    # looked cheaper to the planner than a thousand probes
    ContactFactory.create_batch(300)
    wanted = {f"p{k}@example.org" for k in range(1000)}
    known = ContactFactory(email="p7@example.org")

    # When the batch's emails are looked up
    with CaptureQueriesContext(connection) as lookup:
        rows = _contacts_by_email_pg(wanted)
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + lookup.captured_queries[0]["sql"])
        plan = "\n".join(line for (line,) in cursor.fetchall())

    # Then the one known person is found, by probes of the unique index on LOWER(email)
    assert [row[0] for row in rows] == [known.pk]
    assert "Index Scan using contact_email_unique_ci" in plan
    assert "Seq Scan on capture_contact" not in plan


def test_event_texts_holding_tabs_line_breaks_backslashes_and_quotes_are_stored_as_sent():
    # Given a batch whose texts hold what COPY's text format and an array literal escape
    awkward = ['tab\there', 'line\nbreak', 'carriage\rreturn', 'back\\slash \\N', 'quote"d', "{brace,comma}", ""]
    events = [
        event(id=f'e"{k}\\', email=f"p{k}@example.org", utm_term=text, utm_content=text, anonymous_id=f"v\t{k}")
        for k, text in enumerate(awkward)
    ]

    # When it is sent, and the same event ids again
    first = marketer_api().post("/events/batch", {"events": events})
    again = marketer_api().post("/events/batch", {"events": events})

    # Then every text is stored exactly as sent, and the ids are recognised as stored
    assert (first.status_code, first.json()["stored"]) == (200, len(awkward))
    assert (again.json()["stored"], again.json()["duplicates"]) == (0, len(awkward))
    stored = {touch.external_id: (touch.utm_term, touch.utm_content, touch.anonymous_id)
              for touch in Touchpoint.objects.all()}
    assert stored == {f'e"{k}\\': (text, text, f"v\t{k}") for k, text in enumerate(awkward)}


@pytest.mark.parametrize(
    ("raw", "status", "errors"),
    [
        (b"", 422, [(None, "required")]),
        (b'{"events": [', 400, [(None, "malformed_json")]),
        (b'{"events": "all of them"}', 422, [("events", "invalid")]),
        (b'{"events": [{"type": "page_view", "occurred_at": "2026-03-01T09:30:00Z", "email": 7}]}', 422,
         [("events.0.email", "invalid")]),
    ],
    ids=["empty", "not JSON", "not a list", "a number for an email"],
)
def test_a_batch_body_that_is_not_plain_is_answered_as_any_endpoints_body_would_be(raw, status, errors):
    # When a batch body that the quick decoding leaves to the parser and the models is sent
    response = marketer_api().post("/events/batch", raw=raw)

    # Then it is refused in the API's one error shape, naming the field where there is one
    assert response.status_code == status
    assert errors_of(response) == errors
    assert Touchpoint.objects.count() == 0


def test_the_api_document_describes_the_batch_body_as_the_models_do():
    from django.test import Client

    document = Client().get("/api/v1/openapi.json").json()

    body = document["paths"]["/api/v1/events/batch"]["post"]["requestBody"]
    schema = body["content"]["application/json"]["schema"]
    assert body["required"] is True
    assert schema["required"] == ["events"]
    assert schema["properties"]["events"]["items"] == {"$ref": "#/components/schemas/EventIn"}
    assert schema["properties"]["events"]["maxItems"] == 1000
    assert "EventIn" in document["components"]["schemas"]
