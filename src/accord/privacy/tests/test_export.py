"""The personal-data export: everything held on one person, nothing on anyone else, in a fixed number of queries."""

import json

import pytest

from accord.accounts.tests.factories import UserFactory
from accord.capture.tests.factories import TouchpointFactory
from accord.core.errors import NotFound, PermissionDenied
from accord.core.permissions import Role
from accord.privacy import services
from accord.privacy.selectors import SECTIONS, personal_data
from accord.privacy.tests.conftest import EMAIL

pytestmark = pytest.mark.django_db


def export(contact, user):
    return personal_data(contact_id=contact.pk, user=user)


def test_the_export_holds_each_kind_of_record_about_the_person(person):
    document = export(person.contact, person.admin)

    assert document["contact"]["email"] == EMAIL
    assert (document["contact"]["first_name"], document["contact"]["phone"]) == ("Dana", "+1 555 0100")
    assert document["account"]["name"] == "Smallco"
    assert (document["erased"], document["erasure"], document["generated_by"]) == (False, None, "ops")
    assert {name: len(document[name]) for name in SECTIONS} == {
        "touchpoints": 2, "consents": 1, "identity_links": 1, "stage_transitions": 1, "lead_assignments": 1,
        "sales_feedback": 1, "activities": 1, "comments": 2, "scores": 2, "deals": 1, "merges": 1,
        "handovers": 1, "sla_clocks": 1, "waits": 1, "notifications": 2, "webhook_events": 1,
    }
    touch = document["touchpoints"][0]
    assert (touch["campaign"], touch["utm_source"], touch["anonymous_id"]) == ("Spring webinar", "newsletter", "anon-Dana")
    assert touch["url"] == f"https://www.example.com/pricing?email={EMAIL}"
    assert document["merges"][0]["snapshot"]["first_name"] == "Old"
    assert document["webhook_events"][0]["payload"]["lead"]["email"] == EMAIL
    assert {c["on"] for c in document["comments"]} == {"contact", "leadfeedback"}


def test_the_export_holds_nothing_of_another_person(person):
    text = "".join(services.export_personal_data(contact_id=person.contact.pk, by=person.admin))

    assert "Sam" not in text
    assert "sam.other@elsewhere.example" not in text
    assert "Dana" in text


def test_the_export_runs_one_query_per_table_whatever_the_number_of_rows(person, django_assert_num_queries):
    TouchpointFactory.create_batch(30, contact=person.contact)

    # The contact with its account and erasure, then one query per section.
    with django_assert_num_queries(1 + len(SECTIONS)):
        pieces = list(services.export_personal_data(contact_id=person.contact.pk, by=person.admin))

    assert len(json.loads("".join(pieces))["touchpoints"]) == 32


def test_marketing_may_export_but_a_rep_may_not_even_their_own_lead(person):
    marketer = UserFactory(role=Role.MARKETING)

    assert export(person.contact, marketer)["contact"]["id"] == person.contact.pk
    with pytest.raises(PermissionDenied):
        services.export_personal_data(contact_id=person.contact.pk, by=person.rep)


def test_a_contact_the_caller_cannot_see_is_not_found(person):
    with pytest.raises(NotFound):
        services.export_personal_data(contact_id=person.contact.pk + 1000, by=person.admin)
