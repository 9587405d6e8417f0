"""The handoff: new leads scored, promoted, routed and told; sales' answers; the sweep that finds leads."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from accord.accounts.tests.factories import UserFactory
from accord.capture.models import Touchpoint
from accord.capture.tests.factories import (
    AccountFactory,
    CampaignFactory,
    ContactFactory,
    TouchpointFactory,
)
from accord.core.errors import Conflict, PermissionDenied, ValidationFailed
from accord.core.permissions import Role
from accord.core.vocabulary import LifecycleStage as S
from accord.deals.models import Deal
from accord.deals.tests.factories import PipelineFactory, PipelineStageFactory
from accord.handoff import services
from accord.handoff.models import SweepCursor
from accord.handoff.tests.factories import (
    ALL_HOURS,
    ContentAssetFactory,
    cold_lead,
    hot_lead,
    sales_team,
)
from accord.lifecycle import selectors as lifecycle_selectors
from accord.lifecycle import services as lifecycle
from accord.lifecycle.models import LeadAssignment, LeadFeedback, StageTransition
from accord.notifications.models import Notification

pytestmark = pytest.mark.django_db
# Statements for one new lead, savepoints included (74 before the routing and SLA documents
# were read once per evaluation; 71 before each thing was read once and passed down, the
# rotation saved in one UPDATE for the one team that moved, the notification inserted in one
# statement, and the batch writes nested without savepoints; one more since the sweep adds its
# handovers to marketing's daily rollup, one upsert per sweep; five fewer since the scoring
# read matches job titles in the contact query, not through a temporary table of titles; one
# more since a score's history row names its run, inserted first).
QUERIES_FOR_ONE_NEW_LEAD = {"sqlite": 45, "postgresql": 45}
NA_RULE = 'rules:\n  - {name: na, when: {region: [na]}, team: "Sales NA"}\n'


@pytest.fixture
def na_team():
    team, manager, reps = sales_team("Sales NA", reps=2)
    lifecycle.publish_routing(source=ALL_HOURS + NA_RULE)
    return team, manager, reps


def test_a_hot_lead_becomes_an_mql_is_routed_by_territory_and_its_rep_gets_the_packet(na_team):
    _, _, reps = na_team
    campaign = CampaignFactory(name="Spring webinar")
    ContentAssetFactory(title="Software case study", campaign=campaign)
    lead = hot_lead(original_campaign=campaign)

    result = services.evaluate_leads(contact_ids=[lead.pk])

    lead.refresh_from_db()
    assert (result["mql"], result["assigned"], result["unassigned"]) == (1, 1, 0)
    assert lead.lifecycle_stage == S.MQL
    assert lead.owner in reps
    transition = StageTransition.objects.get(contact=lead)
    assert (transition.from_stage, transition.to_stage, transition.by_rule) == (S.LEAD, S.MQL, "score_threshold")
    score = lead.current_score.total
    assert transition.reason == f"Score {score} reached the MQL threshold of 60 (routing v1)."
    assignment = LeadAssignment.objects.get(contact=lead)
    assert assignment.rule == "rule:na"
    note = Notification.objects.get(recipient=lead.owner)
    assert note.kind == "lead_assigned"
    assert note.title == f"New MQL for you: {lead} (score {score})"
    assert note.url == f"/leads/{lead.pk}/"
    for part in ("Why it is an MQL:", "Requested a demo today", "Recent touchpoints:", "Campaign: Spring webinar",
                 f"Account: {lead.account}", "Suggested content:", "Software case study"):
        assert part in note.body


def test_a_cold_lead_is_scored_but_stays_a_lead(na_team):
    lead = cold_lead()

    result = services.evaluate_leads(contact_ids=[lead.pk])

    lead.refresh_from_db()
    assert (result["scored"], result["mql"]) == (1, 0)
    assert lead.lifecycle_stage == S.LEAD
    assert StageTransition.objects.count() == LeadAssignment.objects.count() == Notification.objects.count() == 0


def test_a_new_lead_is_scored_promoted_routed_and_handed_over_in_a_pinned_number_of_queries(
        na_team, django_assert_num_queries):
    # Given a first lead already handled (the shipped SLA published, the rotations stored)
    services.evaluate_leads(contact_ids=[hot_lead().pk])
    lead = hot_lead()

    # When the next new lead is evaluated, then the whole chain costs a fixed number of
    # queries: the routing and SLA documents are each read once, not once per step
    with django_assert_num_queries(QUERIES_FOR_ONE_NEW_LEAD[connection.vendor]):
        result = services.evaluate_leads(contact_ids=[lead.pk])

    assert (result["mql"], result["assigned"]) == (1, 1)


def test_evaluating_the_same_leads_twice_changes_nothing_the_second_time(na_team):
    leads = [hot_lead() for _ in range(3)]
    services.evaluate_leads(contact_ids=[lead.pk for lead in leads])
    counts = (StageTransition.objects.count(), LeadAssignment.objects.count(), Notification.objects.count())

    again = services.evaluate_leads(contact_ids=[lead.pk for lead in leads])

    assert again["mql"] == again["assigned"] == 0
    assert (StageTransition.objects.count(), LeadAssignment.objects.count(), Notification.objects.count()) == counts


def test_many_leads_share_the_team_evenly_by_capacity(na_team):
    _, _, reps = na_team

    services.evaluate_leads(contact_ids=[hot_lead().pk for _ in range(6)])

    assert sorted(LeadAssignment.objects.filter(owner=rep).count() for rep in reps) == [3, 3]


def test_the_account_owner_gets_the_lead_before_the_territory_rule(na_team):
    owner = UserFactory(role=Role.SALES_REP)
    lead = hot_lead(account=AccountFactory(owner=owner, industry="software", size_band="51-200"))

    services.evaluate_leads(contact_ids=[lead.pk])

    assert LeadAssignment.objects.get(contact=lead).rule == "account_owner"
    lead.refresh_from_db()
    assert lead.owner == owner


def test_an_mql_no_rule_matches_waits_unassigned_and_nobody_is_told(na_team):
    lead = hot_lead(region="latam")

    result = services.evaluate_leads(contact_ids=[lead.pk])

    lead.refresh_from_db()
    assert (result["mql"], result["unassigned"]) == (1, 1)
    assert (lead.lifecycle_stage, lead.owner) == (S.MQL, None)
    assert Notification.objects.count() == 0


def test_when_the_whole_team_is_away_the_manager_is_told_the_lead_waits(na_team):
    team, manager, reps = na_team
    for rep in reps:
        rep.is_away = True
        rep.save(update_fields=["is_away"])
    lead = hot_lead()

    services.evaluate_leads(contact_ids=[lead.pk])

    note = Notification.objects.get()
    assert (note.recipient, note.title) == (manager, f"Unassigned MQL waits in {team}: {lead}")


def test_a_nurtured_lead_comes_back_only_after_new_engagement(na_team):
    lead = hot_lead(lifecycle_stage=S.NURTURE, stage_changed_at=timezone.now() + timedelta(minutes=1))

    assert services.evaluate_leads(contact_ids=[lead.pk])["mql"] == 0

    TouchpointFactory(contact=lead, kind=Touchpoint.Kind.DEMO_REQUEST, occurred_at=timezone.now() + timedelta(minutes=2))
    assert services.evaluate_leads(contact_ids=[lead.pk])["mql"] == 1
    assert StageTransition.objects.get(contact=lead).from_stage == S.NURTURE


def test_a_disqualified_lead_is_never_promoted_however_high_its_score(na_team):
    lead = hot_lead(lifecycle_stage=S.DISQUALIFIED)

    assert services.evaluate_leads(contact_ids=[lead.pk])["mql"] == 0


def test_the_threshold_comes_from_the_active_routing_document(na_team):
    lead = hot_lead()
    lifecycle.publish_routing(source=ALL_HOURS + NA_RULE + "mql_threshold: 100\n")

    assert services.evaluate_leads(contact_ids=[lead.pk])["mql"] == 0


# -- sales' answers --------------------------------------------------------------------------------


@pytest.fixture
def mql(na_team):
    lead = hot_lead(original_campaign=CampaignFactory(owner=UserFactory(role=Role.MARKETING)))
    services.evaluate_leads(contact_ids=[lead.pk])
    lead.refresh_from_db()
    return lead


def test_accepting_an_mql_makes_it_sal_with_feedback_and_accepting_again_is_a_no_op(mql):
    rep = mql.owner

    services.accept_lead(contact=mql, by=rep)
    services.accept_lead(contact=mql, by=rep)

    mql.refresh_from_db()
    assert mql.lifecycle_stage == S.SAL
    assert list(LeadFeedback.objects.values_list("decision", "reason", "by_user")) == [("accept", "", rep.pk)]
    assert StageTransition.objects.filter(contact=mql, to_stage=S.SAL).count() == 1


def test_rejecting_as_not_now_sends_the_lead_to_nurture_and_tells_the_campaign_owner(mql):
    services.reject_lead(contact=mql, by=mql.owner, reason="bad_timing", note="Budget opens in Q3")

    mql.refresh_from_db()
    assert mql.lifecycle_stage == S.NURTURE
    feedback = LeadFeedback.objects.get()
    assert (feedback.decision, feedback.reason, feedback.note) == ("reject", "bad_timing", "Budget opens in Q3")
    assert StageTransition.objects.get(contact=mql, to_stage=S.NURTURE).reason == (
        "Rejected by sales: Bad timing. Budget opens in Q3")
    note = Notification.objects.get(kind="lead_rejected")
    assert (note.recipient, note.body) == (mql.original_campaign.owner, "Budget opens in Q3")


def test_rejecting_as_a_competitor_disqualifies_the_lead(mql):
    services.reject_lead(contact=mql, by=mql.owner, reason="competitor")

    mql.refresh_from_db()
    assert mql.lifecycle_stage == S.DISQUALIFIED


def test_rejecting_twice_with_the_same_reason_records_it_once(mql):
    services.reject_lead(contact=mql, by=mql.owner, reason="no_need")
    services.reject_lead(contact=mql, by=mql.owner, reason="no_need")

    assert LeadFeedback.objects.count() == 1


def test_a_rejection_needs_a_reason_and_other_needs_a_note(mql):
    with pytest.raises(ValidationFailed) as no_reason:
        services.reject_lead(contact=mql, by=mql.owner, reason="good_fit")
    with pytest.raises(ValidationFailed) as no_note:
        services.reject_lead(contact=mql, by=mql.owner, reason="other", note="  ")

    assert (no_reason.value.field, no_note.value.field) == ("reason", "note")
    mql.refresh_from_db()
    assert mql.lifecycle_stage == S.MQL
    assert LeadFeedback.objects.count() == 0


def test_marketing_may_not_accept_or_reject(mql):
    marketer = UserFactory(role=Role.MARKETING)

    with pytest.raises(PermissionDenied):
        services.accept_lead(contact=mql, by=marketer)
    with pytest.raises(PermissionDenied):
        services.reject_lead(contact=mql, by=marketer, reason="no_need")


def test_converting_an_accepted_lead_opens_a_deal_and_makes_it_an_opportunity(mql):
    stage = PipelineStageFactory(pipeline=PipelineFactory(is_default=True), order=1)
    services.accept_lead(contact=mql, by=mql.owner)

    deal = services.convert_to_deal(contact=mql, by=mql.owner, amount=12000)

    mql.refresh_from_db()
    assert mql.lifecycle_stage == S.OPPORTUNITY
    assert (deal.stage, deal.amount, deal.account_id, deal.source_campaign_id) == (
        stage, 12000, mql.account_id, mql.original_campaign_id)
    assert list(deal.deal_contacts.values_list("contact_id", "is_primary")) == [(mql.pk, True)]
    assert list(StageTransition.objects.filter(contact=mql).order_by("id").values_list("to_stage", flat=True)) == [
        S.MQL, S.SAL, S.SQL, S.OPPORTUNITY]


def test_a_lead_not_yet_accepted_cannot_be_converted(mql):
    with pytest.raises(Conflict, match="Accept the lead before opening a deal"):
        services.convert_to_deal(contact=mql, by=mql.owner)

    assert Deal.objects.count() == 0


def test_a_manager_reassigns_by_hand_and_the_new_owner_is_told(na_team, mql):
    _, manager, reps = na_team
    other = next(rep for rep in reps if rep != mql.owner)

    services.reassign_lead(contact=mql, by=manager, owner=other)

    mql.refresh_from_db()
    assert mql.owner == other
    assignment = LeadAssignment.objects.filter(contact=mql).latest("id")
    assert (assignment.rule, assignment.assigned_by) == ("manual", manager)
    assert Notification.objects.filter(recipient=other, kind="lead_assigned").count() == 1


def test_reassigning_to_the_current_owner_again_records_nothing_new(na_team, mql):
    _, manager, _ = na_team
    before = (LeadAssignment.objects.count(), Notification.objects.count())

    services.reassign_lead(contact=mql, by=manager, owner=mql.owner)

    assert (LeadAssignment.objects.count(), Notification.objects.count()) == before


def test_reassigning_by_rule_picks_someone_other_than_the_current_owner(na_team, mql):
    _, manager, reps = na_team
    first = mql.owner

    services.reassign_lead(contact=mql, by=manager)

    mql.refresh_from_db()
    assert mql.owner != first and mql.owner in reps
    assert LeadAssignment.objects.filter(contact=mql).latest("id").rule == "rule:na"


# -- the sweep ---------------------------------------------------------------------------------------


def test_the_first_sweep_starts_from_now_instead_of_routing_the_whole_history(na_team):
    old = hot_lead()

    result = services.sweep_new_leads()

    assert result["evaluated"] == 0
    old.refresh_from_db()
    assert old.lifecycle_stage == S.LEAD
    cursor = SweepCursor.objects.get()
    assert cursor.last_contact_id == old.pk


def test_the_sweep_evaluates_new_contacts_and_contacts_with_new_touchpoints(na_team):
    services.sweep_new_leads()
    quiet = ContactFactory(account=AccountFactory(industry="software", size_band="51-200"), seniority="vp",
                           title="VP Sales", region="na")
    services.sweep_new_leads(now=timezone.now() + timedelta(minutes=5))
    quiet.refresh_from_db()
    assert quiet.lifecycle_stage == S.LEAD
    fresh = hot_lead()

    TouchpointFactory(contact=quiet, kind=Touchpoint.Kind.DEMO_REQUEST)
    TouchpointFactory(contact=quiet, kind=Touchpoint.Kind.WEBINAR_ATTEND)
    result = services.sweep_new_leads(now=timezone.now() + timedelta(minutes=10))

    quiet.refresh_from_db()
    fresh.refresh_from_db()
    assert (quiet.lifecycle_stage, fresh.lifecycle_stage) == (S.MQL, S.MQL)
    assert result["mql"] == 2


def test_the_sweep_rereads_rows_inside_the_lag_so_a_late_commit_with_a_lower_id_is_not_lost(na_team):
    services.sweep_new_leads()
    base = SweepCursor.objects.get().last_contact_id
    # The row with the higher id commits first; the lower id's transaction is still open.
    later = hot_lead(id=base + 2)
    now = timezone.now()

    services.sweep_new_leads(now=now)

    later.refresh_from_db()
    assert later.lifecycle_stage == S.MQL
    assert SweepCursor.objects.get().last_contact_id == base
    # Then the slower transaction commits its lower id, and the next sweep still finds it.
    slower = hot_lead(id=base + 1)

    services.sweep_new_leads(now=timezone.now())

    slower.refresh_from_db()
    assert slower.lifecycle_stage == S.MQL
    assert LeadAssignment.objects.filter(contact=later).count() == 1
    # Once both are older than the lag, the cursor moves past them.
    services.sweep_new_leads(now=now + services.SWEEP_LAG + timedelta(minutes=1))
    assert SweepCursor.objects.get().last_contact_id == base + 2


def test_a_repeated_sweep_finds_nothing_new_and_writes_nothing(na_team):
    services.sweep_new_leads()
    hot_lead()
    later = timezone.now() + timedelta(minutes=10)
    services.sweep_new_leads(now=later)
    counts = (StageTransition.objects.count(), LeadAssignment.objects.count(), Notification.objects.count())

    result = services.sweep_new_leads(now=later)

    assert result["evaluated"] == 0
    assert (StageTransition.objects.count(), LeadAssignment.objects.count(), Notification.objects.count()) == counts


def test_the_sweep_reads_in_batches(na_team):
    services.sweep_new_leads()
    leads = [hot_lead() for _ in range(5)]

    result = services.sweep_new_leads(now=timezone.now() + timedelta(minutes=10), batch=2)

    assert result["mql"] == 5
    assert SweepCursor.objects.get().last_contact_id == leads[-1].pk


def test_the_reasons_outcome_as_edited_decides_where_a_rejected_lead_goes(mql):
    revops = UserFactory(role=Role.REVOPS_ADMIN)
    reason = lifecycle_selectors.rejection_reason(code="no_budget")
    lifecycle.update_rejection_reason(by=revops, reason=reason, label="No budget", outcome="disqualify")

    services.reject_lead(contact=mql, by=mql.owner, reason="no_budget")

    mql.refresh_from_db()
    assert mql.lifecycle_stage == S.DISQUALIFIED


def test_a_retired_reason_cannot_reject_a_lead_and_nothing_changes(mql):
    lifecycle.retire_rejection_reason(by=UserFactory(role=Role.REVOPS_ADMIN),
                                      reason=lifecycle_selectors.rejection_reason(code="student"))

    with pytest.raises(ValidationFailed) as refused:
        services.reject_lead(contact=mql, by=mql.owner, reason="student")

    assert refused.value.field == "reason"
    mql.refresh_from_db()
    assert (mql.lifecycle_stage, LeadFeedback.objects.count()) == (S.MQL, 0)
