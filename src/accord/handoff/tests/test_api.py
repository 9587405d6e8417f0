"""Leads through the HTTP API: the queue, stage moves (409 with the reason), accept, reject, assign, activities."""

from datetime import datetime

import pytest

from accord.accounts.tests.factories import TeamFactory, UserFactory
from accord.accounts.tests.test_api_client import api_as, errors_of
from accord.capture.tests.factories import ContactFactory
from accord.core.permissions import Role
from accord.core.vocabulary import LifecycleStage as S
from accord.handoff import services
from accord.handoff.tests.factories import ALL_HOURS, hot_lead, sales_team
from accord.lifecycle import selectors as lifecycle_selectors
from accord.lifecycle import services as lifecycle
from accord.lifecycle.models import Activity, LeadFeedback, StageTransition
from accord.sla.models import SlaClock

pytestmark = pytest.mark.django_db


@pytest.fixture
def team():
    team, manager, reps = sales_team("Sales NA", reps=2)
    lifecycle.publish_routing(source=ALL_HOURS + 'rules:\n  - {name: na, team: "Sales NA"}\n')
    return team, manager, reps


@pytest.fixture
def mql(team):
    lead = hot_lead()
    services.evaluate_leads(contact_ids=[lead.pk])
    lead.refresh_from_db()
    return lead


def test_a_forbidden_stage_move_answers_409_with_the_reason_in_the_error_shape(mql):
    response = api_as(mql.owner).post(f"/leads/{mql.pk}/stage", {"to_stage": "customer"})

    assert response.status_code == 409
    assert errors_of(response) == [("to_stage", "conflict")]
    assert response.json()["errors"][0]["message"].startswith(
        "A lead cannot move from Marketing qualified (MQL) to Customer; ")
    mql.refresh_from_db()
    assert mql.lifecycle_stage == S.MQL


def test_a_move_the_role_may_not_make_answers_409_naming_who_may(mql):
    marketer = UserFactory(role=Role.MARKETING)

    response = api_as(marketer).post(f"/leads/{mql.pk}/stage", {"to_stage": "sal"})

    assert response.status_code == 409
    assert response.json()["errors"][0]["message"] == (
        "Only sales manager or sales rep (or revenue ops) may move a lead from Marketing qualified (MQL) "
        "to Sales accepted (SAL).")


def test_an_allowed_stage_move_is_recorded_with_its_reason(mql):
    response = api_as(mql.owner).post(f"/leads/{mql.pk}/stage", {"to_stage": "nurture", "reason": "Next year"})

    assert response.status_code == 200
    assert response.json()["lifecycle_stage"] == "nurture"
    assert StageTransition.objects.filter(contact=mql).latest("id").reason == "Next year"


def test_an_unknown_stage_is_refused_naming_the_field(mql):
    response = api_as(mql.owner).post(f"/leads/{mql.pk}/stage", {"to_stage": "hot"})

    assert response.status_code == 422
    assert errors_of(response) == [("to_stage", "invalid")]


def test_the_rep_accepts_an_mql_and_a_retry_answers_the_same(mql):
    client = api_as(mql.owner)

    first = client.post(f"/leads/{mql.pk}/accept")
    again = client.post(f"/leads/{mql.pk}/accept")

    assert (first.status_code, again.status_code) == (200, 200)
    assert first.json()["lifecycle_stage"] == again.json()["lifecycle_stage"] == "sal"
    assert LeadFeedback.objects.count() == 1


def test_the_rep_rejects_with_a_reason_and_a_missing_reason_is_refused_by_field(mql):
    client = api_as(mql.owner)

    refused = client.post(f"/leads/{mql.pk}/reject", {"note": "no"})
    response = client.post(f"/leads/{mql.pk}/reject", {"reason": "student", "note": "Thesis research"})

    assert (refused.status_code, errors_of(refused)) == (422, [("reason", "required")])
    assert response.status_code == 200
    assert response.json()["lifecycle_stage"] == "disqualified"
    assert LeadFeedback.objects.get().note == "Thesis research"


def test_another_reps_lead_is_not_found(mql, team):
    _, _, reps = team
    other = next(rep for rep in reps if rep != mql.owner)

    response = api_as(other).post(f"/leads/{mql.pk}/accept")

    assert (response.status_code, errors_of(response)) == (404, [(None, "not_found")])
    mql.refresh_from_db()
    assert mql.lifecycle_stage == S.MQL


def test_an_executive_may_not_move_stages(mql):
    response = api_as(UserFactory(role=Role.EXECUTIVE)).post(f"/leads/{mql.pk}/stage", {"to_stage": "nurture"})

    assert (response.status_code, errors_of(response)) == (403, [(None, "forbidden")])


def test_the_manager_assigns_by_hand_and_by_rule(mql, team):
    _, manager, reps = team
    other = next(rep for rep in reps if rep != mql.owner)
    client = api_as(manager)

    by_hand = client.post(f"/leads/{mql.pk}/assign", {"owner_id": other.pk})
    by_rule = client.post(f"/leads/{mql.pk}/assign", {"owner_id": None})

    assert by_hand.json()["owner"]["id"] == other.pk
    assert by_rule.json()["owner"]["id"] == mql.owner.pk


def test_a_manager_may_not_assign_outside_the_team(mql, team):
    _, manager, _ = team
    outsider = UserFactory(team=TeamFactory(name="Elsewhere"))

    response = api_as(manager).post(f"/leads/{mql.pk}/assign", {"owner_id": outsider.pk})

    assert (response.status_code, errors_of(response)) == (403, [("owner_id", "forbidden")])


def test_a_rep_may_not_assign(mql):
    response = api_as(mql.owner).post(f"/leads/{mql.pk}/assign", {"owner_id": mql.owner.pk})

    assert response.status_code == 403


def test_an_activity_retried_with_its_idempotency_key_is_logged_once(mql):
    client = api_as(mql.owner)
    client.headers["Idempotency-Key"] = "call-1"
    body = {"kind": "call", "outcome": "connected", "subject": "Intro", "duration_minutes": 15}

    first = client.post(f"/leads/{mql.pk}/activities", body)
    again = client.post(f"/leads/{mql.pk}/activities", body)

    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json()["id"] == again.json()["id"]
    assert Activity.objects.count() == 1
    listed = client.get(f"/leads/{mql.pk}/activities").json()
    assert [(a["kind"], a["subject"]) for a in listed] == [("call", "Intro")]


def test_an_activity_with_a_negative_duration_is_refused_naming_the_field(mql):
    response = api_as(mql.owner).post(f"/leads/{mql.pk}/activities", {"kind": "call", "duration_minutes": -5})

    assert (response.status_code, errors_of(response)) == (422, [("duration_minutes", "invalid")])


def test_the_queue_lists_the_reps_open_leads_with_their_first_sla_deadline_and_the_lead_shows_its_explanation(mql):
    ContactFactory(owner=mql.owner, lifecycle_stage=S.NURTURE)
    client = api_as(mql.owner)

    queue = client.get("/leads", {"view": "new"}).json()
    lead = client.get(f"/leads/{mql.pk}").json()

    assert [item["id"] for item in queue["items"]] == [mql.pk]
    first_touch = SlaClock.objects.get(contact=mql, kind=SlaClock.Kind.FIRST_TOUCH)
    # The API writes times to the millisecond; inside working hours the due time has microseconds.
    due = first_touch.due_at.replace(microsecond=first_touch.due_at.microsecond // 1000 * 1000)
    assert datetime.fromisoformat(queue["items"][0]["follow_up_due"]) == due
    assert lead["explanation"]["total"] == mql.current_score.total
    assert "Requested a demo today (+25)" in [f["text"] for f in lead["explanation"]["up"]]
    assert set(lead["stage_entered_at"]) == {"mql"}
    history = client.get(f"/leads/{mql.pk}/transitions").json()
    assert [(t["from_stage"], t["to_stage"], t["by_rule"]) for t in history] == [("lead", "mql", "score_threshold")]


def test_converting_through_the_api_answers_201_with_the_deal(mql):
    from accord.deals.tests.factories import PipelineStageFactory

    PipelineStageFactory()
    client = api_as(mql.owner)
    client.post(f"/leads/{mql.pk}/accept")

    response = client.post(f"/leads/{mql.pk}/convert", {"name": "Pilot", "amount": "5000.00"})

    assert response.status_code == 201
    assert response.json()["lead"]["lifecycle_stage"] == "opportunity"


def test_a_retired_reason_is_refused_by_field_naming_the_active_ones(mql):
    lifecycle.retire_rejection_reason(by=UserFactory(role=Role.REVOPS_ADMIN),
                                      reason=lifecycle_selectors.rejection_reason(code="student"))

    response = api_as(mql.owner).post(f"/leads/{mql.pk}/reject", {"reason": "student"})

    assert (response.status_code, errors_of(response)) == (422, [("reason", "invalid")])
    assert "'student' is retired: one of bad_data (Bad contact data)" in response.json()["errors"][0]["message"]
    assert LeadFeedback.objects.count() == 0
