"""The public capture endpoint: what a form post or a JSON post from another site stores."""

import datetime as dt
import json
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from accord.accounts.tests.factories import UserFactory
from accord.capture import ratelimit, services
from accord.capture.models import Consent, Contact, IdentityLink, RateLimitCounter, Touchpoint
from accord.capture.tests.factories import (
    AccountFactory,
    CampaignFactory,
    CaptureSourceFactory,
    ContactFactory,
    TouchpointFactory,
)
from accord.capture.views import HONEYPOT_FIELD, MAX_BODY_BYTES
from accord.core.permissions import Role
from accord.core.vocabulary import Channel

pytestmark = pytest.mark.django_db


def url_of(source) -> str:
    return reverse("capture-submit", args=[source.public_key])


def post_form(source, data, *, ip="203.0.113.7", **headers):
    return Client(REMOTE_ADDR=ip).post(url_of(source), data, headers=headers)


def post_json(source, data, *, ip="203.0.113.7", **headers):
    return Client(REMOTE_ADDR=ip).post(
        url_of(source), json.dumps(data), content_type="application/json", headers=headers
    )


def stored() -> tuple[int, int, int]:
    return Contact.objects.count(), Touchpoint.objects.count(), Consent.objects.count()


def test_a_form_post_stores_the_contact_the_touch_and_the_consent():
    source = CaptureSourceFactory(consent_text="Email me about Accord.")

    response = post_form(
        source,
        {"email": "  Ada@Example.ORG ", "first_name": "Ada", "last_name": "Lovelace", "consent": "yes"},
        **{"User-Agent": "Firefox"},
    )

    assert response.status_code == 200
    assert b"Thank you" in response.content
    contact = Contact.objects.get()
    assert (contact.email, contact.first_name, contact.last_name) == ("ada@example.org", "Ada", "Lovelace")
    touch = Touchpoint.objects.get()
    assert (touch.contact_id, touch.kind, touch.channel) == (contact.pk, "form_submit", Channel.DIRECT)
    consent = Consent.objects.get()
    assert (consent.contact_id, consent.source_id, consent.text, consent.granted) == (
        contact.pk, source.pk, "Email me about Accord.", True
    )
    assert consent.user_agent == "Firefox"
    assert len(consent.ip_hash) == 64 and "203.0.113.7" not in consent.ip_hash


def test_an_unticked_consent_box_is_recorded_as_declined():
    source = CaptureSourceFactory()

    post_form(source, {"email": "ada@example.org"})

    assert Consent.objects.get().granted is False


def test_a_json_post_answers_201_with_the_contact_id():
    source = CaptureSourceFactory()

    response = post_json(source, {"email": "grace@navy.example", "first_name": "Grace"})

    assert response.status_code == 201
    contact = Contact.objects.get()
    assert response.json() == {"ok": True, "contact_id": contact.pk}


def test_a_second_post_by_the_same_person_finds_them_and_fills_blank_fields_only():
    contact = ContactFactory(email="ada@example.org", first_name="Ada", last_name="", phone="")
    source = CaptureSourceFactory()

    post_json(source, {"email": "ADA@example.org", "first_name": "Augusta", "last_name": "King"})

    contact.refresh_from_db()
    assert Contact.objects.count() == 1
    assert (contact.first_name, contact.last_name) == ("Ada", "King")
    assert Touchpoint.objects.get().contact_id == contact.pk


def test_an_unknown_key_answers_404_and_stores_nothing():
    response = Client().post("/capture/no-such-key/", {"email": "ada@example.org"})

    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found"
    assert stored() == (0, 0, 0)


def test_an_inactive_source_answers_403_and_stores_nothing():
    source = CaptureSourceFactory(is_active=False)

    response = post_json(source, {"email": "ada@example.org"})

    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "forbidden"
    assert stored() == (0, 0, 0)


def test_a_body_over_64_kb_answers_413_and_stores_nothing():
    source = CaptureSourceFactory()

    response = post_form(source, {"email": "ada@example.org", "note": "x" * MAX_BODY_BYTES})

    assert response.status_code == 413
    assert response.json()["errors"][0]["code"] == "too_large"
    assert stored() == (0, 0, 0)


def test_one_ip_over_its_limit_gets_429_with_retry_after():
    source = CaptureSourceFactory(ip_rate_limit_per_minute=2)
    for n in range(2):
        assert post_json(source, {"email": f"p{n}@example.org"}).status_code == 201

    refused = post_json(source, {"email": "p3@example.org"})
    other_ip = post_json(source, {"email": "p4@example.org"}, ip="198.51.100.1")

    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert refused.json()["errors"][0]["code"] == "throttled"
    assert other_ip.status_code == 201
    assert not Contact.objects.filter(email="p3@example.org").exists()


def test_a_key_over_its_limit_gets_429_from_every_ip():
    source = CaptureSourceFactory(rate_limit_per_minute=2)
    post_json(source, {"email": "p1@example.org"}, ip="192.0.2.1")
    post_json(source, {"email": "p2@example.org"}, ip="192.0.2.2")

    refused = post_json(source, {"email": "p3@example.org"}, ip="192.0.2.3")

    assert refused.status_code == 429
    assert "Retry-After" in refused
    assert Contact.objects.count() == 2


def test_the_rate_limit_is_counted_in_the_database_shared_by_workers():
    source = CaptureSourceFactory()

    post_json(source, {"email": "p1@example.org"})

    assert ratelimit.counted(f"ip:{source.pk}:203.0.113.7") == 1
    assert ratelimit.counted(f"key:{source.pk}") == 1
    assert RateLimitCounter.objects.count() == 2


def test_a_filled_honeypot_answers_like_success_but_stores_nothing():
    source = CaptureSourceFactory()

    html = post_form(source, {"email": "bot@spam.example", HONEYPOT_FIELD: "http://spam.example"})
    as_json = post_json(source, {"email": "bot@spam.example", HONEYPOT_FIELD: "x"})

    assert html.status_code == 200 and b"Thank you" in html.content
    assert as_json.status_code == 201 and as_json.json() == {"ok": True, "contact_id": None}
    assert stored() == (0, 0, 0)


def test_utm_fields_and_referrer_are_stored_and_match_the_campaign_case_insensitively():
    campaign = CampaignFactory(utm_campaign="Spring-Launch", channel=Channel.PAID_SOCIAL)
    source = CaptureSourceFactory()

    post_form(
        source,
        {
            "email": "ada@example.org",
            "utm_source": "linkedin",
            "utm_medium": "paid_social",
            "utm_campaign": "spring-launch",
            "utm_content": "video",
            "referrer": "https://www.linkedin.com/feed/",
        },
    )

    touch = Touchpoint.objects.get()
    assert touch.campaign_id == campaign.pk
    assert (touch.utm_source, touch.utm_medium, touch.utm_campaign, touch.utm_content) == (
        "linkedin", "paid_social", "spring-launch", "video"
    )
    assert touch.channel == Channel.PAID_SOCIAL
    assert touch.referrer == "https://www.linkedin.com/feed/"
    contact = Contact.objects.get()
    assert (contact.lead_source, contact.original_campaign_id) == (Channel.PAID_SOCIAL, campaign.pk)


def test_utm_parameters_are_read_from_the_page_url_when_the_fields_are_empty():
    source = CaptureSourceFactory()

    post_form(
        source,
        {"email": "ada@example.org", "utm_source": "", "page_url": "https://www.example.com/p?utm_source=google&utm_medium=CPC&utm_campaign=brand"},
    )

    touch = Touchpoint.objects.get()
    assert (touch.utm_source, touch.utm_medium, touch.utm_campaign) == ("google", "CPC", "brand")
    assert touch.channel == Channel.PAID_SEARCH
    assert touch.url.startswith("https://www.example.com/p?")


@pytest.mark.parametrize(
    ("referrer", "channel"),
    [
        ("https://www.google.com/", Channel.CONTENT_SEO),
        ("https://t.co/abc", Channel.ORGANIC_SOCIAL),
        ("https://blog.partner.example/post", Channel.REFERRAL),
        ("", Channel.DIRECT),
    ],
)
def test_the_referrer_decides_the_channel_without_utm(referrer, channel):
    source = CaptureSourceFactory()

    post_form(source, {"email": "ada@example.org", "referrer": referrer})

    assert Touchpoint.objects.get().channel == channel


def test_without_a_utm_code_the_sources_default_campaign_is_used():
    campaign = CampaignFactory(channel=Channel.WEBINAR)
    source = CaptureSourceFactory(default_campaign=campaign)

    post_form(source, {"email": "ada@example.org"})

    touch = Touchpoint.objects.get()
    assert (touch.campaign_id, touch.channel) == (campaign.pk, Channel.WEBINAR)


def test_a_company_domain_links_the_account_and_a_free_mail_domain_links_none():
    acme = AccountFactory(domain="acme.example")
    AccountFactory(domain="gmail.com")
    source = CaptureSourceFactory()

    post_json(source, {"email": "ada@ACME.example"})
    post_json(source, {"email": "bob@gmail.com"})

    assert Contact.objects.get(email="ada@acme.example").account_id == acme.pk
    assert Contact.objects.get(email="bob@gmail.com").account_id is None


def test_an_invalid_email_answers_422_naming_the_field_in_json():
    source = CaptureSourceFactory()

    response = post_json(source, {"email": "not-an-email"})

    assert response.status_code == 422
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [("email", "invalid")]
    assert stored() == (0, 0, 0)


def test_an_invalid_email_in_a_form_post_shows_the_form_again_with_the_error():
    source = CaptureSourceFactory()

    response = post_form(source, {"email": "nope", "first_name": "Ada"})

    assert response.status_code == 422
    page = response.content.decode()
    assert "is not an email address" in page and 'value="Ada"' in page
    assert stored() == (0, 0, 0)


def test_nul_characters_answer_422_not_500():
    source = CaptureSourceFactory()

    response = post_json(source, {"email": "ada@example.org", "first_name": "A\x00da"})

    assert response.status_code == 422
    assert stored() == (0, 0, 0)


def test_a_redirect_goes_only_to_an_allowed_origin():
    source = CaptureSourceFactory(allowed_origins="https://www.example.com")

    allowed = post_form(source, {"email": "a@example.org", "redirect_to": "https://www.example.com/thanks"})
    refused = post_form(source, {"email": "b@example.org", "redirect_to": "https://evil.example/phish"})
    sneaky = post_form(source, {"email": "c@example.org", "redirect_to": "https://www.example.com.evil.example/"})

    assert (allowed.status_code, allowed["Location"]) == (302, "https://www.example.com/thanks")
    assert refused.status_code == 200 and "Location" not in refused
    assert sneaky.status_code == 200 and "Location" not in sneaky


def test_a_post_from_a_site_the_source_does_not_allow_is_refused():
    source = CaptureSourceFactory(allowed_origins="https://www.example.com")

    response = post_json(source, {"email": "a@example.org"}, Origin="https://evil.example")
    allowed = post_json(source, {"email": "b@example.org"}, Origin="https://www.example.com")

    assert response.status_code == 403
    assert allowed.status_code == 201
    assert allowed["Access-Control-Allow-Origin"] == "https://www.example.com"
    assert list(Contact.objects.values_list("email", flat=True)) == ["b@example.org"]


def test_a_form_post_stitches_the_visitors_earlier_anonymous_touches():
    earlier = TouchpointFactory(contact=None, anonymous_id="vid-1", kind=Touchpoint.Kind.PAGE_VIEW)
    source = CaptureSourceFactory()

    post_form(source, {"email": "ada@example.org", "anonymous_id": "vid-1"})

    earlier.refresh_from_db()
    contact = Contact.objects.get()
    assert earlier.contact_id == contact.pk
    assert contact.identity_links.get().anonymous_id == "vid-1"


def test_get_is_not_allowed():
    source = CaptureSourceFactory()

    response = Client().get(url_of(source))

    assert response.status_code == 405


def test_a_returning_visitor_fills_a_blank_title_and_keeps_the_first_visitor_link():
    contact = ContactFactory(email="ada@example.org", title="")
    source = CaptureSourceFactory()
    post_json(source, {"email": "ada@example.org", "anonymous_id": "vid-1"})
    other = ContactFactory(email="grace@example.org")

    post_json(source, {"email": "ada@example.org", "title": "Analyst", "anonymous_id": "vid-1"})
    post_json(source, {"email": "grace@example.org", "anonymous_id": "vid-1"})

    contact.refresh_from_db()
    assert contact.title == "Analyst"
    assert IdentityLink.objects.get().contact_id == contact.pk
    assert sorted(Touchpoint.objects.values_list("contact_id", flat=True)) == sorted(
        [contact.pk, contact.pk, other.pk]
    )


def test_the_first_seen_time_of_a_new_visitor_link_is_its_earliest_anonymous_touch():
    earliest = dt.datetime(2026, 2, 1, tzinfo=dt.UTC)
    TouchpointFactory(contact=None, anonymous_id="vid-1", occurred_at=earliest + dt.timedelta(days=3))
    TouchpointFactory(contact=None, anonymous_id="vid-1", occurred_at=earliest)
    source = CaptureSourceFactory()

    post_json(source, {"email": "ada@example.org", "anonymous_id": "vid-1"})

    link = IdentityLink.objects.get()
    assert link.first_seen_at == earliest
    assert Touchpoint.objects.filter(contact=link.contact).count() == 3


def test_a_form_post_writes_seven_statements_in_one_transaction_or_one_statement_on_postgresql(
    django_assert_num_queries, monkeypatch
):
    # Given a source already read once (the endpoint keeps it for a few seconds), and a
    # clock that stays in one rate-limit window (a new one adds a sweep of old counters)
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: 1_800_000_000.0))
    campaign = CampaignFactory(utm_campaign="spring")
    account = AccountFactory(domain="example.org")
    source = CaptureSourceFactory(consent_text="Email me.")
    post_json(source, {"email": "first@example.org"})

    # SQLite: savepoint; rate-limit upsert; campaign by code; contact upsert; visitor link;
    # stitching UPDATE; touchpoint; consent; release. PostgreSQL: all of it in one statement.
    with django_assert_num_queries(9 if connection.vendor == "sqlite" else 1):
        response = post_json(
            source, {"email": "ada@example.org", "utm_campaign": "Spring", "anonymous_id": "vid-9", "consent": "on"}
        )

    assert response.status_code == 201
    contact = Contact.objects.get(pk=response.json()["contact_id"])
    assert (contact.account_id, contact.original_campaign_id) == (account.pk, campaign.pk)
    assert Touchpoint.objects.get(contact=contact).campaign_id == campaign.pk
    assert Consent.objects.get(contact=contact).granted is True


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's prepared statements")
def test_on_postgresql_the_form_post_statement_is_prepared_once_per_connection():
    # Given a source (Django turns psycopg's preparing off unless the settings say otherwise)
    source = CaptureSourceFactory()

    # When three people post
    for n in range(3):
        assert post_json(source, {"email": f"p{n}@example.org", "anonymous_id": f"v{n}"}).status_code == 201

    # Then the connection holds the statement once, run for all three
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), sum(generic_plans + custom_plans) FROM pg_prepared_statements "
            "WHERE statement LIKE %s",
            ["WITH hit AS (INSERT INTO %capture_touchpoint%"],
        )
        assert cursor.fetchone() == (1, 3)


def test_a_refused_post_still_counts_against_the_rate_limit():
    source = CaptureSourceFactory(ip_rate_limit_per_minute=2)

    invalid = post_json(source, {"email": "not an email"})
    honeypot = post_json(source, {"email": "bot@spam.example", HONEYPOT_FIELD: "x"})
    third = post_json(source, {"email": "ada@example.org"})

    assert (invalid.status_code, honeypot.status_code, third.status_code) == (422, 201, 429)
    assert ratelimit.counted(f"ip:{source.pk}:203.0.113.7") == 3
    assert stored() == (0, 0, 0)


def test_deactivating_a_source_refuses_posts_at_once_though_workers_keep_sources_a_while():
    source = CaptureSourceFactory()
    marketer = UserFactory(role=Role.MARKETING)
    assert post_json(source, {"email": "ada@example.org"}).status_code == 201

    services.update_capture_source(source=source, by=marketer, changes={"is_active": False})
    refused = post_json(source, {"email": "grace@example.org"})

    assert refused.status_code == 403
    assert not Contact.objects.filter(email="grace@example.org").exists()
