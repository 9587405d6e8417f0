"""Writes on the lifecycle: each records its row and stamps the contact, or refuses and changes nothing."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from accord.accounts.tests.factories import TeamFactory, UserFactory
from accord.capture.tests.factories import ContactFactory
from accord.core.errors import PermissionDenied, ValidationFailed
from accord.core.permissions import Role
from accord.core.vocabulary import LifecycleStage as S
from accord.core.yamldoc import InvalidDocument
from accord.lifecycle import domain, services
from accord.lifecycle.models import (
    Activity,
    LeadAssignment,
    LeadFeedback,
    RoutingConfig,
    StageTransition,
)

pytestmark = pytest.mark.django_db
AT = datetime(2026, 11, 20, 10, tzinfo=UTC)


def test_a_stage_change_records_the_transition_and_stamps_the_contact():
    contact = ContactFactory(lifecycle_stage=S.MQL)
    rep = UserFactory(role=Role.SALES_REP)

    transition = services.change_stage(contact=contact, to_stage=S.SAL, by=rep, reason="Looks good", at=AT)

    contact.refresh_from_db()
    assert (contact.lifecycle_stage, contact.stage_changed_at) == (S.SAL, AT)
    assert (transition.from_stage, transition.to_stage, transition.by_user, transition.by_rule, transition.reason,
            transition.occurred_at) == (S.MQL, S.SAL, rep, "", "Looks good", AT)


def test_a_stage_change_by_rule_records_the_rule():
    contact = ContactFactory(lifecycle_stage=S.LEAD)

    transition = services.change_stage(contact=contact, to_stage=S.MQL, rule=domain.SCORE_THRESHOLD, at=AT)

    assert (transition.by_user, transition.by_rule) == (None, "score_threshold")


def test_a_refused_move_raises_a_conflict_with_the_reason_and_changes_nothing():
    contact = ContactFactory(lifecycle_stage=S.MQL)
    marketer = UserFactory(role=Role.MARKETING)

    with pytest.raises(services.StageRefused) as refused:
        services.change_stage(contact=contact, to_stage=S.SAL, by=marketer)

    assert refused.value.status == 409
    assert refused.value.field == "to_stage"
    assert refused.value.message.startswith("Only sales manager or sales rep (or revenue ops) may move")
    contact.refresh_from_db()
    assert contact.lifecycle_stage == S.MQL
    assert StageTransition.objects.count() == 0


def test_an_executive_may_not_move_a_lead_at_all():
    contact = ContactFactory(lifecycle_stage=S.LEAD)

    with pytest.raises(PermissionDenied):
        services.change_stage(contact=contact, to_stage=S.MQL, by=UserFactory(role=Role.EXECUTIVE))

    assert StageTransition.objects.count() == 0


def test_the_stage_is_checked_against_the_database_not_a_stale_object():
    contact = ContactFactory(lifecycle_stage=S.MQL)
    stale = type(contact).objects.get(pk=contact.pk)
    rep = UserFactory(role=Role.SALES_REP)
    services.change_stage(contact=contact, to_stage=S.SAL, by=rep)

    with pytest.raises(services.StageRefused, match="already in Sales accepted"):
        services.change_stage(contact=stale, to_stage=S.SAL, by=rep)

    assert StageTransition.objects.count() == 1


def test_moving_many_by_rule_skips_those_the_table_forbids():
    lead, subscriber, customer = (ContactFactory(lifecycle_stage=s) for s in (S.LEAD, S.SUBSCRIBER, S.CUSTOMER))

    moved = services.change_stages_by_rule(contact_ids=[lead.pk, subscriber.pk, customer.pk], to_stage=S.MQL,
                                           rule=domain.SCORE_THRESHOLD, reasons={lead.pk: "Score 70"}, at=AT)

    assert sorted(moved) == sorted([lead.pk, subscriber.pk])
    customer.refresh_from_db()
    assert customer.lifecycle_stage == S.CUSTOMER
    assert dict(StageTransition.objects.values_list("contact_id", "reason")) == {lead.pk: "Score 70", subscriber.pk: ""}


def test_assigning_a_lead_by_rule_records_the_rule_and_stamps_the_owner():
    contact = ContactFactory()
    rep = UserFactory(role=Role.SALES_REP)

    assignment = services.assign_lead(contact=contact, owner=rep, rule="rule:na", reason="Territory", at=AT)

    contact.refresh_from_db()
    assert contact.owner == rep
    assert (assignment.rule, assignment.reason, assignment.assigned_by, assignment.assigned_at) == (
        "rule:na", "Territory", None, AT)


def test_a_manager_assigns_by_hand_within_the_team_only():
    team = TeamFactory()
    manager = UserFactory(role=Role.SALES_MANAGER, team=team)
    teammate, outsider = UserFactory(team=team), UserFactory()
    contact = ContactFactory(owner=teammate)

    assignment = services.assign_lead(contact=contact, owner=teammate, by=manager)
    assert (assignment.rule, assignment.assigned_by) == ("manual", manager)

    with pytest.raises(PermissionDenied, match="only assign records to your team"):
        services.assign_lead(contact=contact, owner=outsider, by=manager)
    assert LeadAssignment.objects.count() == 1


def test_a_rep_may_not_assign_leads():
    rep = UserFactory(role=Role.SALES_REP)

    with pytest.raises(PermissionDenied):
        services.assign_lead(contact=ContactFactory(), owner=rep, by=rep)


def test_feedback_with_an_unknown_reason_is_refused_naming_the_field():
    with pytest.raises(ValidationFailed) as refused:
        services.record_feedback(contact=ContactFactory(), by=UserFactory(), decision="reject", reason="meh")

    assert refused.value.field == "reason"
    assert LeadFeedback.objects.count() == 0


def test_an_activity_logged_twice_with_one_key_is_logged_once():
    contact, rep = ContactFactory(), UserFactory()

    first = services.log_activity(by=rep, contact=contact, kind="call", outcome="connected", client_key="k1")
    again = services.log_activity(by=rep, contact=contact, kind="call", outcome="connected", client_key="k1")

    assert first.pk == again.pk
    assert Activity.objects.count() == 1


def test_an_activity_in_the_future_is_refused():
    with pytest.raises(ValidationFailed) as refused:
        services.log_activity(by=UserFactory(), contact=ContactFactory(), kind="call",
                              occurred_at=timezone.now() + timedelta(hours=1))

    assert refused.value.field == "occurred_at"


def test_an_activity_of_an_unknown_kind_is_refused_naming_the_field():
    with pytest.raises(ValidationFailed) as refused:
        services.log_activity(by=UserFactory(), contact=ContactFactory(), kind="fax")

    assert refused.value.field == "kind"
    assert Activity.objects.count() == 0


def test_publishing_routing_keeps_every_version_with_who_and_when():
    revops = UserFactory(role=Role.REVOPS_ADMIN)

    first = services.publish_routing(source="mql_threshold: 50\n", by=revops)
    second = services.publish_routing(source="mql_threshold: 70\n")

    assert [(c.version, c.is_active, c.created_by) for c in RoutingConfig.objects.order_by("version")] == [
        (1, False, revops), (2, True, None)]
    assert first.created_at <= second.created_at
    assert services.active_routing()[0].mql_threshold == 70


def test_an_invalid_routing_document_is_refused_and_nothing_is_stored():
    with pytest.raises(InvalidDocument):
        services.publish_routing(source="mql_threshold: 0\n")

    assert RoutingConfig.objects.count() == 0


def test_a_routing_document_naming_a_missing_team_is_refused_on_that_line():
    TeamFactory(name="Sales NA")

    with pytest.raises(InvalidDocument) as refused:
        services.publish_routing(source="rules:\n  - name: a\n    team: Sales NA\n  - name: b\n    team: Sales Mars\n")

    assert [str(e) for e in refused.value.errors] == ["line 5: rules.1.team: no team is named 'Sales Mars'"]
    assert RoutingConfig.objects.count() == 0


def test_marketing_may_not_publish_routing():
    with pytest.raises(PermissionDenied):
        services.publish_routing(source="mql_threshold: 50\n", by=UserFactory(role=Role.MARKETING))


def test_an_earlier_routing_version_can_be_made_active_again():
    services.publish_routing(source="mql_threshold: 50\n")
    services.publish_routing(source="mql_threshold: 70\n")

    services.activate_routing(version=1, by=UserFactory(role=Role.REVOPS_ADMIN))

    assert services.active_routing() [0].mql_threshold == 50
    assert RoutingConfig.objects.filter(is_active=True).count() == 1


def test_the_shipped_routing_is_published_the_first_time_it_is_needed():
    document, version = services.active_routing()

    assert (document.mql_threshold, version) == (60, 1)


def test_rotation_credits_survive_between_batches():
    team = TeamFactory()
    services.lock_rotations(team_ids=[team.pk])

    services.save_rotations(credits={team.pk: {7: -3, 8: 3}})

    assert services.lock_rotations(team_ids=[team.pk]) == {team.pk: {7: -3, 8: 3}}
