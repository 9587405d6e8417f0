"""The SLA through the HTTP API: read versions, publish one (422 naming lines), and a lead's clocks."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accord.accounts.tests.factories import UserFactory
from accord.accounts.tests.test_api_client import api_as, errors_of
from accord.capture.tests.factories import ContactFactory
from accord.core.permissions import Role
from accord.sla.models import SlaVersion
from accord.sla.services import DEFAULT_SLA
from accord.sla.tests.factories import SlaClockFactory, SlaVersionFactory

pytestmark = pytest.mark.django_db


def test_the_versions_list_is_paged_newest_first_and_marks_the_one_in_force():
    SlaVersionFactory(note="first")
    SlaVersionFactory(note="second")
    SlaVersionFactory(note="later", effective_from=timezone.now() + timedelta(days=7))

    response = api_as(UserFactory(role=Role.SALES_REP)).get("/sla/versions", {"limit": 2})

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert [(v["version"], v["note"], v["in_force"]) for v in body["items"]] == [
        (3, "later", False), (2, "second", True)]


def test_one_version_shows_its_source_and_parsed_document():
    manager = UserFactory(role=Role.SALES_MANAGER)
    SlaVersionFactory(created_by=manager)

    body = api_as(manager).get("/sla/versions/1").json()

    assert body["source"] == DEFAULT_SLA.read_text(encoding="utf-8")
    assert body["document"]["sales"]["first_touch_hours"] == {"hot": 1.0, "warm": 4.0, "cold": 8.0}
    assert (body["created_by"]["id"], body["in_force"]) == (manager.pk, True)


def test_an_unknown_version_answers_404_in_the_error_shape():
    response = api_as(UserFactory()).get("/sla/versions/99")

    assert response.status_code == 404
    assert errors_of(response) == [(None, "not_found")]


def test_a_manager_publishes_a_version_that_is_in_force_at_once():
    manager = UserFactory(role=Role.SALES_MANAGER)
    source = DEFAULT_SLA.read_text(encoding="utf-8").replace("hot: 1\n", "hot: 0.5\n")

    response = api_as(manager).post("/sla/versions", {"source": source, "note": "hot leads in 30 min"})

    assert response.status_code == 201
    body = response.json()
    assert (body["version"], body["in_force"], body["note"]) == (1, True, "hot leads in 30 min")
    assert body["document"]["sales"]["first_touch_hours"]["hot"] == 0.5
    assert SlaVersion.objects.get().created_by == manager


def test_resending_the_same_publish_answers_the_version_already_published():
    manager = UserFactory(role=Role.SALES_MANAGER)
    source = DEFAULT_SLA.read_text(encoding="utf-8")
    api_as(manager).post("/sla/versions", {"source": source, "note": "retry me"})

    again = api_as(manager).post("/sla/versions", {"source": source, "note": "retry me"})

    assert again.status_code == 200
    assert again.json()["version"] == 1
    assert SlaVersion.objects.count() == 1


def test_an_invalid_document_answers_422_naming_each_line_and_stores_nothing():
    source = "warn_at: 1.5\nsales:\n  decision_hours: soon\n"

    response = api_as(UserFactory(role=Role.REVOPS_ADMIN)).post("/sla/versions", {"source": source})

    assert response.status_code == 422
    assert [(e["field"], e["code"], e["message"]) for e in response.json()["errors"]] == [
        ("source", "invalid", "line 1: warn_at: Input should be less than 1"),
        ("source", "invalid", "line 3: sales.decision_hours: Input should be a valid number, "
                              "unable to parse string as a number"),
    ]
    assert SlaVersion.objects.count() == 0


def test_a_rep_may_not_publish_an_sla():
    response = api_as(UserFactory(role=Role.SALES_REP)).post(
        "/sla/versions", {"source": DEFAULT_SLA.read_text(encoding="utf-8")})

    assert response.status_code == 403
    assert errors_of(response) == [(None, "forbidden")]
    assert SlaVersion.objects.count() == 0


def test_a_leads_clocks_show_state_and_time_left_to_whoever_may_see_the_lead():
    rep = UserFactory(role=Role.SALES_REP)
    lead = ContactFactory(owner=rep)
    SlaClockFactory(owner=rep, contact=lead, budget_seconds=3600, started_at=timezone.now())

    response = api_as(rep).get(f"/leads/{lead.pk}/clocks")
    stranger = api_as(UserFactory(role=Role.SALES_REP)).get(f"/leads/{lead.pk}/clocks")

    assert response.status_code == 200
    [clock] = response.json()
    assert (clock["kind"], clock["state"], clock["working"], clock["budget_seconds"]) == (
        "first_touch", "running", False, 3600)
    assert 3500 < clock["remaining_seconds"] <= 3600
    assert stranger.status_code == 404


def test_the_lead_clocks_list_costs_a_fixed_number_of_queries(django_assert_num_queries):
    rep = UserFactory(role=Role.SALES_REP)
    lead = ContactFactory(owner=rep)
    for kind in ("first_touch", "decision", "attempts"):
        SlaClockFactory(owner=rep, contact=lead, kind=kind)
    client = api_as(rep)

    # the token and its first-use stamp, the scoped lead, its clocks (one query for all three)
    with django_assert_num_queries(4):
        response = client.get(f"/leads/{lead.pk}/clocks")

    assert len(response.json()) == 3
