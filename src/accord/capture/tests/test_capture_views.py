"""Pages for capture sources (with the snippet) and for finding and merging duplicates."""

import pytest
from django.test import Client
from django.urls import reverse

from accord.accounts.tests.factories import UserFactory
from accord.capture.models import CaptureSource, Contact, ContactMerge
from accord.capture.tests.factories import (
    ActivityFactory,
    CampaignFactory,
    CaptureSourceFactory,
    ContactFactory,
    TouchpointFactory,
)
from accord.core.permissions import Role

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_marketer_creates_a_source_and_gets_its_snippet():
    marketer = UserFactory(role=Role.MARKETING)
    campaign = CampaignFactory()

    response = signed_in(marketer).post(
        reverse("capture-sources"),
        {
            "name": "Webinar sign-up",
            "kind": "web_form",
            "default_campaign": campaign.pk,
            "allowed_origins": "https://www.example.com/",
            "consent_text": "Email me.",
            "rate_limit_per_minute": 100,
            "ip_rate_limit_per_minute": 5,
            "is_active": "on",
        },
    )

    source = CaptureSource.objects.get()
    assert response.status_code == 302
    assert (source.name, source.default_campaign_id, source.allowed_origins, source.created_by_id) == (
        "Webinar sign-up", campaign.pk, "https://www.example.com", marketer.pk
    )
    page = signed_in(marketer).get(reverse("capture-source", args=[source.pk])).content.decode()
    assert f"/capture/{source.public_key}/" in page
    assert "name=&quot;website&quot;" in page and "name=&quot;utm_campaign&quot;" in page


def test_a_rep_sees_sources_but_may_not_create_one():
    rep = UserFactory(role=Role.SALES_REP)

    response = signed_in(rep).post(reverse("capture-sources"), {"name": "x", "kind": "web_form"})

    assert response.status_code == 403
    assert CaptureSource.objects.count() == 0


def test_rotating_the_key_retires_the_old_one():
    source = CaptureSourceFactory()
    old = source.public_key

    signed_in(UserFactory(role=Role.MARKETING)).post(reverse("capture-source", args=[source.pk]), {"rotate": "1"})

    source.refresh_from_db()
    assert source.public_key != old
    assert Client().post(f"/capture/{old}/", {"email": "a@example.org"}).status_code == 404


def test_the_duplicates_page_lists_groups_with_a_compare_link():
    a = ContactFactory(phone="5550109999")
    b = ContactFactory(phone="555-010-9999")

    response = signed_in(UserFactory(role=Role.MARKETING)).get(reverse("contact-duplicates"), {"rule": "phone"})

    assert f"?survivor={a.pk}&amp;duplicate={b.pk}" in response.content.decode()


def test_the_preview_shows_both_contacts_side_by_side_with_counts():
    survivor = ContactFactory(first_name="Ada", title="")
    duplicate = ContactFactory(first_name="Augusta", title="CTO")
    TouchpointFactory.create_batch(3, contact=duplicate)
    ActivityFactory(contact=survivor)

    response = signed_in(UserFactory(role=Role.MARKETING)).get(
        reverse("contact-merge"), {"survivor": survivor.pk, "duplicate": duplicate.pk}
    )

    assert response.status_code == 200
    counts = {row[0]: (row[1], row[2]) for row in response.context["count_rows"]}
    assert counts["Touchpoints"] == (0, 3) and counts["Activities"] == (1, 0)
    defaults = {row["name"]: row["default"] for row in response.context["rows"]}
    assert (defaults["first_name"], defaults["title"]) == ("survivor", "duplicate")


def test_confirming_the_merge_applies_the_chosen_values():
    survivor = ContactFactory(first_name="Ada")
    duplicate = ContactFactory(first_name="Augusta")
    TouchpointFactory(contact=duplicate)

    response = signed_in(UserFactory(role=Role.MARKETING)).post(
        reverse("contact-merge"),
        {"survivor": survivor.pk, "duplicate": duplicate.pk, "choice_first_name": "duplicate"},
    )

    assert response["Location"] == reverse("contact", args=[survivor.pk])
    survivor.refresh_from_db()
    assert survivor.first_name == "Augusta"
    assert survivor.touchpoints.count() == 1
    assert ContactMerge.objects.get().duplicate_id == duplicate.pk


def test_the_merge_form_needs_the_csrf_token():
    survivor, duplicate = ContactFactory(), ContactFactory()
    client = Client(enforce_csrf_checks=True)
    client.force_login(UserFactory(role=Role.MARKETING))

    response = client.post(reverse("contact-merge"), {"survivor": survivor.pk, "duplicate": duplicate.pk})

    assert response.status_code == 403
    assert Contact.objects.count() == 2


def test_a_rep_cannot_preview_or_merge_contacts_outside_their_book():
    rep = UserFactory(role=Role.SALES_REP)
    mine = ContactFactory(owner=rep)
    theirs = ContactFactory(owner=UserFactory(role=Role.SALES_REP))

    preview = signed_in(rep).get(reverse("contact-merge"), {"survivor": mine.pk, "duplicate": theirs.pk})
    merge = signed_in(rep).post(reverse("contact-merge"), {"survivor": mine.pk, "duplicate": theirs.pk})

    assert preview.status_code == merge.status_code == 404
    assert Contact.objects.count() == 2


def test_an_executive_sees_the_preview_but_may_not_merge():
    executive = UserFactory(role=Role.EXECUTIVE)
    survivor, duplicate = ContactFactory(), ContactFactory()

    response = signed_in(executive).post(reverse("contact-merge"), {"survivor": survivor.pk, "duplicate": duplicate.pk})

    assert response.status_code == 403
    assert Contact.objects.count() == 2
