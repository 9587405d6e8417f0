"""The handoff keeps the SLA clocks: assignments open them, touches and answers meet them, stages pause or close them."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accord.accounts.tests.factories import UserFactory
from accord.capture.tests.factories import ContactFactory
from accord.core.permissions import Role
from accord.core.vocabulary import LifecycleStage as S
from accord.deals.tests.factories import PipelineFactory, PipelineStageFactory
from accord.handoff import selectors, services
from accord.handoff.domain import priority_tier
from accord.handoff.tests.factories import ALL_HOURS, hot_lead, sales_team
from accord.lifecycle import services as lifecycle
from accord.lifecycle.models import LeadAssignment
from accord.notifications.models import Notification
from accord.sla import selectors as sla_selectors
from accord.sla import services as sla
from accord.sla.models import SlaClock
from accord.sla.services import DEFAULT_SLA
from accord.sla.tests.factories import SlaClockFactory, SlaVersionFactory

pytestmark = pytest.mark.django_db
K = SlaClock.Kind
NA_RULE = 'rules:\n  - {name: na, team: "Sales NA"}\n'


@pytest.fixture
def na_team():
    team, manager, reps = sales_team("Sales NA", reps=2)
    lifecycle.publish_routing(source=ALL_HOURS + NA_RULE)
    return team, manager, reps


@pytest.fixture
def mql(na_team):
    lead = hot_lead()
    services.evaluate_leads(contact_ids=[lead.pk])
    lead.refresh_from_db()
    return lead


def open_clocks(contact):
    return {c.kind: c for c in SlaClock.objects.filter(SlaClock.OPEN, contact=contact)}


# -- assignments open clocks ------------------------------------------------------------------------


def test_routing_a_new_mql_opens_its_three_clocks_in_the_tier_its_score_earns(mql):
    assignment = LeadAssignment.objects.get(contact=mql)

    clocks = open_clocks(mql)

    assert set(clocks) == {K.FIRST_TOUCH, K.DECISION, K.ATTEMPTS}
    expected_tier = priority_tier(score=mql.current_score.total, threshold=60, first_touch_hours={"hot": 1, "warm": 4, "cold": 8})
    assert {(c.assignment_id, c.owner_id, c.tier, c.started_at) for c in clocks.values()} == {
        (assignment.pk, mql.owner_id, expected_tier, assignment.assigned_at)}


def test_evaluating_the_same_lead_again_opens_no_second_set_of_clocks(mql):
    services.evaluate_leads(contact_ids=[mql.pk])

    assert SlaClock.objects.filter(contact=mql).count() == 3


def test_a_manager_reassigning_by_hand_cancels_the_old_owners_clocks_and_opens_the_new_owners(na_team, mql):
    _, manager, reps = na_team
    first = mql.owner
    other = next(rep for rep in reps if rep != first)

    services.reassign_lead(contact=mql, by=manager, owner=other)

    assert {c.owner_id for c in open_clocks(mql).values()} == {other.pk}
    old = SlaClock.objects.filter(contact=mql, owner=first)
    assert sorted(old.values_list("cancel_reason", flat=True)) == ["reassigned"] * 3


def test_reassigning_by_rule_moves_the_clocks_to_the_new_owner(na_team, mql):
    _, manager, _ = na_team
    first = mql.owner

    services.reassign_lead(contact=mql, by=manager)

    mql.refresh_from_db()
    assert {c.owner_id for c in open_clocks(mql).values()} == {mql.owner_id}
    assert mql.owner_id != first.pk
    assert SlaClock.objects.filter(contact=mql, owner=first, cancel_reason="reassigned").count() == 3


def test_accepting_an_unassigned_mql_takes_it_and_meets_its_decision_clock_at_once(na_team):
    _, _, reps = na_team
    lead = ContactFactory(lifecycle_stage=S.MQL)

    services.accept_lead(contact=lead, by=reps[0])

    clocks = SlaClock.objects.filter(contact=lead)
    assert sorted((c.kind, c.owner_id, c.met_at is not None) for c in clocks) == [
        (K.ATTEMPTS, reps[0].pk, False), (K.DECISION, reps[0].pk, True), (K.FIRST_TOUCH, reps[0].pk, False)]


# -- touches and answers ----------------------------------------------------------------------------


def test_a_logged_call_meets_first_touch_and_counts_one_attempt_even_when_the_form_is_resubmitted(mql):
    services.accept_lead(contact=mql, by=mql.owner)

    services.log_activity(contact=mql, by=mql.owner, kind="call", outcome="connected", client_key="form-1")
    services.log_activity(contact=mql, by=mql.owner, kind="call", outcome="connected", client_key="form-1")

    first_touch = SlaClock.objects.get(contact=mql, kind=K.FIRST_TOUCH)
    attempts = SlaClock.objects.get(contact=mql, kind=K.ATTEMPTS)
    assert first_touch.met_at is not None
    assert (attempts.attempts_done, attempts.met_at) == (1, None)


def test_each_new_activity_counts_an_attempt_but_a_note_is_not_a_touch(mql):
    services.log_activity(contact=mql, by=mql.owner, kind="note", body="Looked them up")
    noted = SlaClock.objects.get(contact=mql, kind=K.FIRST_TOUCH).met_at

    services.log_activity(contact=mql, by=mql.owner, kind="email", client_key="a")
    services.log_activity(contact=mql, by=mql.owner, kind="meeting", client_key="b")

    assert noted is None
    assert SlaClock.objects.get(contact=mql, kind=K.ATTEMPTS).attempts_done == 2


def test_accepting_meets_the_decision_clock_and_leaves_the_others_running(mql):
    services.accept_lead(contact=mql, by=mql.owner)

    assert set(open_clocks(mql)) == {K.FIRST_TOUCH, K.ATTEMPTS}
    assert SlaClock.objects.get(contact=mql, kind=K.DECISION).met_at is not None
    assert [c.paused_since for c in open_clocks(mql).values()] == [None, None]


def test_rejecting_to_nurture_meets_the_decision_and_pauses_the_rest_as_the_sla_says(mql):
    services.reject_lead(contact=mql, by=mql.owner, reason="bad_timing")

    assert SlaClock.objects.get(contact=mql, kind=K.DECISION).met_at is not None
    clocks = open_clocks(mql)
    assert set(clocks) == {K.FIRST_TOUCH, K.ATTEMPTS}
    assert all(c.paused_since is not None for c in clocks.values())


def test_rejecting_as_a_competitor_meets_the_decision_and_closes_the_rest(mql):
    services.reject_lead(contact=mql, by=mql.owner, reason="competitor")

    assert open_clocks(mql) == {}
    assert sorted(SlaClock.objects.filter(contact=mql).values_list("kind", "cancel_reason")) == [
        (K.ATTEMPTS, "moved to Disqualified"), (K.DECISION, ""), (K.FIRST_TOUCH, "moved to Disqualified")]


def test_moving_an_accepted_lead_to_nurture_by_hand_pauses_its_clocks(mql):
    services.accept_lead(contact=mql, by=mql.owner)

    services.change_stage(contact=mql, to_stage=S.NURTURE, by=mql.owner, reason="Call in spring")

    assert all(c.paused_since is not None for c in open_clocks(mql).values())
    assert len(open_clocks(mql)) == 2


def test_converting_to_a_deal_closes_every_open_clock(mql):
    PipelineStageFactory(pipeline=PipelineFactory(is_default=True), order=1)
    services.accept_lead(contact=mql, by=mql.owner)

    services.convert_to_deal(contact=mql, by=mql.owner)

    assert open_clocks(mql) == {}
    assert sorted(SlaClock.objects.filter(contact=mql, met_at__isnull=True)
                  .values_list("kind", "cancel_reason")) == [(K.ATTEMPTS, "converted"), (K.FIRST_TOUCH, "converted")]


# -- the queue's deadline ---------------------------------------------------------------------------


def test_the_queue_puts_the_soonest_running_deadline_first_whatever_the_score():
    rep = UserFactory(role=Role.SALES_REP)
    now = timezone.now()
    high = ContactFactory(owner=rep, lifecycle_stage=S.MQL, score=95)
    urgent = ContactFactory(owner=rep, lifecycle_stage=S.MQL, score=61)
    paused = ContactFactory(owner=rep, lifecycle_stage=S.MQL, score=70)
    SlaClockFactory(contact=high, owner=rep, started_at=now, budget_seconds=3600)
    SlaClockFactory(contact=urgent, owner=rep, started_at=now, budget_seconds=600)
    SlaClockFactory(contact=urgent, owner=rep, kind=K.DECISION, started_at=now, budget_seconds=7200)
    # A paused clock's due time moves when it resumes: it sets no deadline.
    SlaClockFactory(contact=paused, owner=rep, started_at=now, budget_seconds=60, paused_since=now)

    queue = list(selectors.lead_queue(user=rep, view="new"))

    assert queue == [urgent, high, paused]
    assert [lead.follow_up_due for lead in queue] == [
        now + timedelta(seconds=600), now + timedelta(seconds=3600), None]


def test_a_met_clock_no_longer_sets_the_leads_deadline(mql):
    services.log_activity(contact=mql, by=mql.owner, kind="call")

    row = selectors.lead_row(user=mql.owner, contact_id=mql.pk)

    assert row.follow_up_due == SlaClock.objects.get(contact=mql, kind=K.DECISION).due_at


# -- breach reassignment ----------------------------------------------------------------------------


@pytest.fixture
def reassigning_sla():
    source = DEFAULT_SLA.read_text(encoding="utf-8").replace("on_breach: alert\n", "on_breach: alert_and_reassign\n")
    return SlaVersionFactory(source=source)


def breach_all(later=timedelta(days=30)):
    """Run the real checker far enough ahead that every open clock is past due; return that moment."""
    moment = timezone.now() + later
    sla.check_clocks(now=moment)
    return moment


def test_a_breach_that_asks_for_it_routes_the_lead_to_someone_else_and_both_reps_are_told(reassigning_sla, mql):
    first = mql.owner
    moment = breach_all()

    result = services.reassign_breached_leads(now=moment)

    mql.refresh_from_db()
    assert result == {"leads": 1, "reassigned": 1, "unassigned": 0}
    assert mql.owner_id not in (None, first.pk)
    assert {c.owner_id for c in open_clocks(mql).values()} == {mql.owner_id}
    assert sla_selectors.clocks_awaiting_reassignment() == []
    assert Notification.objects.filter(recipient=mql.owner, kind="lead_assigned").count() == 1
    moved = Notification.objects.get(recipient=first, title__contains="went to someone else")
    assert moved.body == ("The SLA was breached (accept or reject, attempts before recycling, first touch), "
                          "and it says to route the lead again.")


def test_answering_breaches_twice_reassigns_and_notifies_once(reassigning_sla, mql):
    moment = breach_all()
    services.reassign_breached_leads(now=moment)
    after_first = (LeadAssignment.objects.count(), Notification.objects.count())

    again = services.reassign_breached_leads(now=moment)

    assert again == {"leads": 0, "reassigned": 0, "unassigned": 0}
    assert (LeadAssignment.objects.count(), Notification.objects.count()) == after_first


def test_with_nobody_else_free_the_lead_stays_put_the_request_is_cleared_and_the_manager_hears(reassigning_sla):
    _, manager, reps = sales_team("Sales NA", reps=1)
    lifecycle.publish_routing(source=ALL_HOURS + NA_RULE)
    lead = hot_lead()
    services.evaluate_leads(contact_ids=[lead.pk])
    moment = breach_all()

    result = services.reassign_breached_leads(now=moment)

    lead.refresh_from_db()
    assert result == {"leads": 1, "reassigned": 0, "unassigned": 1}
    assert lead.owner == reps[0]
    assert sla_selectors.clocks_awaiting_reassignment() == []
    [told] = Notification.objects.filter(recipient=manager, kind="lead_assigned", dedupe_key__startswith="lead-waiting:")
    assert told.title == f"Nobody else is free to take {lead}: it stays with {reps[0]}"
    assert told.body.startswith("Rerouting after an SLA breach found no other owner.")
    assert not Notification.objects.filter(title__startswith="Unassigned MQL waits").exists()


def test_under_the_default_alert_only_sla_a_breach_moves_nobody(mql):
    first = mql.owner
    moment = breach_all()

    result = services.reassign_breached_leads(now=moment)

    mql.refresh_from_db()
    assert (result, mql.owner) == ({"leads": 0, "reassigned": 0, "unassigned": 0}, first)
