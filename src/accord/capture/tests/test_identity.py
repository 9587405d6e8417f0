"""One record per person: anonymous visits stitched to the contact once they identify."""

import pytest

from accord.accounts.tests.factories import UserFactory
from accord.accounts.tests.test_api_client import api_as
from accord.capture.models import Contact, IdentityLink, Touchpoint
from accord.capture.tests.factories import ContactFactory, IdentityLinkFactory, TouchpointFactory
from accord.core.permissions import Role

pytestmark = pytest.mark.django_db


def event(**fields) -> dict:
    return {"type": "page_view", "occurred_at": "2026-03-01T09:30:00Z", **fields}


def test_anonymous_then_identified_stitches_every_earlier_touch_in_one_go():
    api = api_as(UserFactory(role=Role.MARKETING))
    api.post("/events/batch", {"events": [
        event(anonymous_id="vid-1", occurred_at="2026-02-01T00:00:00Z"),
        event(anonymous_id="vid-1"),
        event(anonymous_id="vid-2"),
    ]})

    response = api.post("/events", event(type="form_submit", email="ada@example.org", anonymous_id="vid-1"))

    contact = Contact.objects.get()
    assert response.json()["stitched"] == 2
    assert Touchpoint.objects.filter(contact=contact).count() == 3
    assert Touchpoint.objects.filter(anonymous_id="vid-2", contact=None).count() == 1
    link = IdentityLink.objects.get()
    assert (link.anonymous_id, link.contact_id) == ("vid-1", contact.pk)
    assert link.first_seen_at.isoformat() == "2026-02-01T00:00:00+00:00"


def test_later_anonymous_events_attach_to_the_linked_contact():
    link = IdentityLinkFactory(anonymous_id="vid-1")

    response = api_as(UserFactory(role=Role.MARKETING)).post("/events", event(anonymous_id="vid-1"))

    assert response.json()["contact_ids"] == [link.contact_id]
    assert Touchpoint.objects.get().contact_id == link.contact_id


def test_the_first_identification_of_a_visitor_id_wins():
    first = IdentityLinkFactory(anonymous_id="shared-laptop")
    ContactFactory(email="second@example.org")

    api_as(UserFactory(role=Role.MARKETING)).post(
        "/events", event(email="second@example.org", anonymous_id="shared-laptop")
    )

    assert IdentityLink.objects.get().contact_id == first.contact_id
    assert Touchpoint.objects.get().contact.email == "second@example.org"


def test_emails_are_one_person_whatever_their_case_or_spaces():
    api = api_as(UserFactory(role=Role.MARKETING))

    api.post("/events/batch", {"events": [
        event(email="Ada@Example.org"), event(email=" ada@example.ORG "), event(email="ADA@EXAMPLE.ORG"),
    ]})

    assert list(Contact.objects.values_list("email", flat=True)) == ["ada@example.org"]
    assert Touchpoint.objects.filter(contact__email="ada@example.org").count() == 3


def test_an_already_attached_touch_is_not_moved_by_stitching():
    other = ContactFactory()
    kept = TouchpointFactory(contact=other, anonymous_id="vid-1")

    api_as(UserFactory(role=Role.MARKETING)).post("/events", event(email="ada@example.org", anonymous_id="vid-1"))

    kept.refresh_from_db()
    assert kept.contact_id == other.pk
