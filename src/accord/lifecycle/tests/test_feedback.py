"""The rejection taxonomy and the lead-quality rollup: edited by the right people, kept exact as verdicts arrive."""

from datetime import UTC, date, datetime, timedelta

import pytest

from accord.accounts.tests.factories import UserFactory
from accord.capture.tests.factories import CampaignFactory, ContactFactory, TouchpointFactory
from accord.core.errors import Conflict, PermissionDenied, ValidationFailed
from accord.core.permissions import Role
from accord.core.vocabulary import LifecycleStage as S
from accord.lifecycle import domain, selectors, services
from accord.lifecycle.models import FeedbackDaily, LeadFeedback, RejectionReason
from accord.lifecycle.tests.factories import LeadFeedbackFactory

pytestmark = pytest.mark.django_db
AT = datetime(2026, 11, 2, 10, tzinfo=UTC)


@pytest.fixture
def revops():
    return UserFactory(role=Role.REVOPS_ADMIN)


def handed_over(contact, at=AT):
    return services.change_stage(contact=contact, to_stage=S.MQL, rule=domain.SCORE_THRESHOLD, at=at)


def rollup() -> set[tuple]:
    return set(FeedbackDaily.objects.exclude(count=0).values_list(
        "day", "campaign_id", "channel", "source", "content", "kind", "reason", "count"))


# -- the taxonomy ---------------------------------------------------------------------------------


def test_the_shipped_taxonomy_keeps_todays_reasons_and_their_outcomes():
    reasons = list(selectors.active_rejection_reasons().values_list("code", "outcome", "note_required"))

    assert reasons == [(code, outcome, note) for code, _, outcome, note, _ in domain.DEFAULT_REJECTION_REASONS]
    assert ("good_fit" in [code for code, *_ in reasons], reasons[-1]) == (False, ("other", "nurture", True))


def test_a_new_reason_goes_to_the_end_of_the_list(revops):
    reason = services.create_rejection_reason(by=revops, code="Wrong_Region ", label=" Wrong region ",
                                              outcome="disqualify", description="We do not sell there.")

    assert (reason.code, reason.label, reason.outcome, reason.is_active) == (
        "wrong_region", "Wrong region", "disqualify", True)
    assert list(selectors.active_rejection_reasons().values_list("code", flat=True))[-1] == "wrong_region"


@pytest.mark.parametrize("role", [Role.MARKETING, Role.SALES_MANAGER, Role.REVOPS_ADMIN])
def test_marketing_sales_managers_and_revenue_ops_may_edit_the_taxonomy(role):
    reason = services.create_rejection_reason(by=UserFactory(role=role), code="too_small", label="Too small",
                                              outcome="nurture")

    assert reason.pk is not None


@pytest.mark.parametrize("role", [Role.SALES_REP, Role.EXECUTIVE])
def test_reps_and_executives_may_not_edit_the_taxonomy(role):
    with pytest.raises(PermissionDenied):
        services.create_rejection_reason(by=UserFactory(role=role), code="too_small", label="Too small",
                                         outcome="nurture")

    assert not RejectionReason.objects.filter(code="too_small").exists()


@pytest.mark.parametrize(("fields", "field"), [
    ({"code": "1abc"}, "code"), ({"code": "no budget"}, "code"), ({"code": "no_budget"}, "code"),
    ({"label": "  "}, "label"), ({"outcome": "later"}, "outcome"),
])
def test_a_bad_reason_is_refused_naming_the_field(revops, fields, field):
    before = RejectionReason.objects.count()
    with pytest.raises((ValidationFailed, Conflict)) as refused:
        services.create_rejection_reason(by=revops, **{"code": "ok_code", "label": "OK", "outcome": "nurture",
                                                       **fields})

    assert refused.value.field == field
    assert RejectionReason.objects.count() == before


def test_a_retired_reason_is_refused_for_new_rejections_naming_the_active_ones(revops):
    rep = UserFactory(role=Role.SALES_REP)
    contact = ContactFactory(lifecycle_stage=S.MQL)
    services.record_feedback(contact=contact, by=rep, decision="reject", reason="bad_timing", at=AT)
    services.retire_rejection_reason(by=revops, reason=selectors.rejection_reason(code="bad_timing"))

    with pytest.raises(ValidationFailed) as refused:
        services.record_feedback(contact=contact, by=rep, decision="reject", reason="bad_timing")

    assert refused.value.field == "reason"
    assert refused.value.message.startswith("'bad_timing' is retired: one of bad_data (Bad contact data), ")
    assert "bad_timing (" not in refused.value.message
    old = selectors.with_reason_label(LeadFeedback.objects.all()).get()
    assert (old.reason, old.get_reason_display()) == ("bad_timing", "Bad timing")


def test_an_unknown_reason_is_refused_and_an_other_style_reason_needs_a_note():
    rep = UserFactory(role=Role.SALES_REP)
    contact = ContactFactory(lifecycle_stage=S.MQL)

    with pytest.raises(ValidationFailed) as unknown:
        services.record_feedback(contact=contact, by=rep, decision="reject", reason="good_fit")
    with pytest.raises(ValidationFailed) as no_note:
        services.record_feedback(contact=contact, by=rep, decision="reject", reason="other", note=" ")

    assert (unknown.value.field, no_note.value.field) == ("reason", "note")
    assert "'good_fit' is not a rejection reason: one of bad_data" in unknown.value.message
    assert no_note.value.message == "Say why in the note when the reason is 'Other'."
    assert LeadFeedback.objects.count() == 0


def test_retiring_and_restoring_keep_the_code_and_restore_puts_it_last(revops):
    reason = selectors.rejection_reason(code="no_need")

    services.retire_rejection_reason(by=revops, reason=reason)
    services.retire_rejection_reason(by=revops, reason=reason)
    assert (reason.is_active, reason.retired_at is not None) == (False, True)
    services.restore_rejection_reason(by=revops, reason=reason)

    assert (reason.is_active, reason.retired_at) == (True, None)
    assert list(selectors.active_rejection_reasons().values_list("code", flat=True))[-1] == "no_need"


def test_the_last_active_reason_cannot_be_retired(revops):
    RejectionReason.objects.exclude(code="other").update(is_active=False)

    with pytest.raises(Conflict):
        services.retire_rejection_reason(by=revops, reason=selectors.rejection_reason(code="other"))

    assert selectors.rejection_reason(code="other").is_active is True


def test_reordering_must_name_every_active_reason_once(revops):
    codes = list(selectors.active_rejection_reasons().values_list("code", flat=True))

    with pytest.raises(ValidationFailed) as missing:
        services.reorder_rejection_reasons(by=revops, codes=codes[1:])
    services.reorder_rejection_reasons(by=revops, codes=list(reversed(codes)))

    assert missing.value.field == "codes"
    assert list(selectors.active_rejection_reasons().values_list("code", flat=True)) == list(reversed(codes))


def test_moving_a_reason_up_swaps_it_with_the_one_before(revops):
    codes = list(selectors.active_rejection_reasons().values_list("code", flat=True))

    services.move_rejection_reason(by=revops, reason=selectors.rejection_reason(code=codes[1]), step=-1)

    assert list(selectors.active_rejection_reasons().values_list("code", flat=True))[:2] == [codes[1], codes[0]]


def test_an_empty_taxonomy_gets_the_shipped_reasons_when_sales_next_rejects():
    RejectionReason.objects.all().delete()

    offered = services.offered_rejection_reasons()

    assert [r.code for r in offered] == [code for code, *_ in domain.DEFAULT_REJECTION_REASONS]


# -- feedback and the rollup ------------------------------------------------------------------------


def test_a_verdict_records_its_handover_and_the_leads_origin_then():
    campaign = CampaignFactory(channel="webinar")
    contact = ContactFactory(original_campaign=campaign, lead_source="paid_search")
    TouchpointFactory(contact=contact, utm_source="linkedin", utm_content="pricing-guide",
                      occurred_at=AT - timedelta(hours=2))
    TouchpointFactory(contact=contact, utm_source="", utm_content="", occurred_at=AT - timedelta(hours=1))
    TouchpointFactory(contact=contact, utm_source="google", utm_content="after-handover", occurred_at=AT + timedelta(hours=1))
    handed_over(contact)

    feedback = services.record_feedback(contact=contact, by=UserFactory(role=Role.SALES_REP), decision="reject",
                                        reason="no_budget", at=AT + timedelta(days=1))

    assert (feedback.handed_over_at, feedback.campaign_id, feedback.channel, feedback.source, feedback.content,
            feedback.is_current) == (AT, campaign.pk, "webinar", "linkedin", "pricing-guide", True)
    assert rollup() == {
        (date(2026, 11, 2), campaign.pk, "webinar", "linkedin", "pricing-guide", "handed_over", "", 1),
        (date(2026, 11, 2), campaign.pk, "webinar", "linkedin", "pricing-guide", "reject", "no_budget", 1),
    }


def test_an_acceptance_has_no_reason_whatever_is_passed():
    contact = ContactFactory()
    handed_over(contact)

    feedback = services.record_feedback(contact=contact, by=UserFactory(role=Role.SALES_REP), decision="accept",
                                        reason="no_budget", at=AT)

    assert feedback.reason == ""


def test_a_later_verdict_on_the_same_handover_replaces_the_earlier_one_in_the_counts():
    rep = UserFactory(role=Role.SALES_REP)
    contact = ContactFactory(lead_source="email")
    handed_over(contact)
    first = services.record_feedback(contact=contact, by=rep, decision="accept", at=AT + timedelta(hours=1))

    services.record_feedback(contact=contact, by=rep, decision="reject", reason="no_need", at=AT + timedelta(days=3))

    first.refresh_from_db()
    assert first.is_current is False
    assert rollup() == {(date(2026, 11, 2), 0, "email", "email", "", "handed_over", "", 1),
                        (date(2026, 11, 2), 0, "email", "email", "", "reject", "no_need", 1)}


def test_a_new_handover_starts_a_new_cohort_and_keeps_the_old_verdict():
    rep = UserFactory(role=Role.SALES_REP)
    contact = ContactFactory(lead_source="email")
    handed_over(contact)
    services.record_feedback(contact=contact, by=rep, decision="reject", reason="bad_timing", at=AT)
    services.change_stage(contact=contact, to_stage=S.NURTURE, by=rep, at=AT)
    handed_over(contact, at=AT + timedelta(days=10))

    services.record_feedback(contact=contact, by=rep, decision="accept", at=AT + timedelta(days=10, hours=1))

    assert LeadFeedback.objects.filter(is_current=True).count() == 2
    assert rollup() == {(date(2026, 11, 2), 0, "email", "email", "", "handed_over", "", 1),
                        (date(2026, 11, 2), 0, "email", "email", "", "reject", "bad_timing", 1),
                        (date(2026, 11, 12), 0, "email", "email", "", "handed_over", "", 1),
                        (date(2026, 11, 12), 0, "email", "email", "", "accept", "", 1)}


def test_the_rollup_kept_live_equals_a_rebuild_from_the_history():
    rep = UserFactory(role=Role.SALES_REP)
    campaigns = [CampaignFactory(channel="webinar"), CampaignFactory(channel="paid_social")]
    verdicts = [("accept", ""), ("reject", "no_budget"), ("reject", "student"), None, ("accept", ""),
                ("reject", "no_budget")]
    for i, verdict in enumerate(verdicts):
        contact = ContactFactory(original_campaign=campaigns[i % 2])
        TouchpointFactory(contact=contact, utm_content=f"asset-{i % 3}", occurred_at=AT - timedelta(days=i))
        handed_over(contact, at=AT + timedelta(days=i))
        if verdict:
            services.record_feedback(contact=contact, by=rep, decision=verdict[0], reason=verdict[1],
                                     at=AT + timedelta(days=i, hours=2))
    services.change_stages_by_rule(contact_ids=[ContactFactory(lead_source="event").pk], to_stage=S.MQL,
                                   rule=domain.SCORE_THRESHOLD, at=AT)
    live = rollup()
    fields = list(LeadFeedback.objects.order_by("pk").values_list(
        "handed_over_at", "campaign", "channel", "source", "content", "is_current"))
    LeadFeedback.objects.update(handed_over_at=None, campaign=None, channel="", source="", content="")
    FeedbackDaily.objects.all().delete()

    result = services.rebuild_feedback_rollup(batch=2)

    assert rollup() == live
    assert result == {"rows": len(live), "events": 7 + 5}
    assert list(LeadFeedback.objects.order_by("pk").values_list(
        "handed_over_at", "campaign", "channel", "source", "content", "is_current")) == fields


def test_feedback_loaded_without_a_handover_is_kept_out_of_the_cohorts():
    LeadFeedbackFactory(decision="reject", reason="duplicate", by_user=UserFactory(role=Role.SALES_REP))

    services.rebuild_feedback_rollup()

    assert (rollup(), LeadFeedback.objects.get().handed_over_at) == (set(), None)
