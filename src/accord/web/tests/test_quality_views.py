"""The lead-quality pages: the report, the feedback behind a number with its thread, and the reason settings."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accord.accounts.tests.factories import UserFactory
from accord.capture.tests.factories import CampaignFactory, ContactFactory
from accord.collaboration.models import Comment
from accord.core.permissions import Role
from accord.core.vocabulary import LifecycleStage as S
from accord.lifecycle import domain
from accord.lifecycle import services as lifecycle
from accord.lifecycle.models import RejectionReason
from accord.notifications.models import Notification
from accord.sla import services as sla

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def rejected():
    """Three leads of one campaign rejected by one rep, one by another rep; all handed over yesterday."""
    owner = UserFactory(role=Role.MARKETING)
    campaign = CampaignFactory(name="Spring <webinar>", owner=owner)
    rep, other = UserFactory(role=Role.SALES_REP), UserFactory(role=Role.SALES_REP)
    at = timezone.now() - timedelta(days=1)
    feedback = []
    for i, (by, reason, note) in enumerate([(rep, "student", "Thesis <script>x</script>"), (rep, "no_budget", ""),
                                            (rep, "student", ""), (other, "bad_data", "Fake phone")]):
        contact = ContactFactory(original_campaign=campaign, first_name=f"Lead{i}", owner=by)
        lifecycle.change_stage(contact=contact, to_stage=S.MQL, rule=domain.SCORE_THRESHOLD, at=at)
        feedback.append(lifecycle.record_feedback(contact=contact, by=by, decision="reject", reason=reason,
                                                  note=note, at=at + timedelta(hours=1)))
    return {"campaign": campaign, "owner": owner, "rep": rep, "other": other, "feedback": feedback}


def test_the_report_links_each_number_to_its_feedback_and_escapes_names(rejected):
    response = signed_in(rejected["owner"]).get(reverse("quality"))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Spring &lt;webinar&gt;" in html
    assert f"value={rejected['campaign'].pk}&amp;decision=reject&amp;reason=student" in html
    assert 'data-chart="chart-reasons"' in html


def test_the_report_runs_a_fixed_number_of_queries(rejected, django_assert_num_queries):
    sla.sla_in_force()
    client = signed_in(rejected["owner"])
    client.get(reverse("quality"))

    # session, user, rollup, campaign names, reason labels, SLA version
    with django_assert_num_queries(6):
        client.get(reverse("quality"))


def test_the_feedback_list_shows_notes_escaped_with_their_threads_in_a_fixed_number_of_queries(
        rejected, django_assert_num_queries):
    client = signed_in(rejected["owner"])
    url = f"{reverse('quality-feedback')}?dimension=campaign&value={rejected['campaign'].pk}&decision=reject&reason=student"
    client.get(url)
    for f in rejected["feedback"]:
        lifecycle_reply(rejected["owner"], f)

    # session, user, reasons for the filter, count, page of feedback, the page's threads, campaign name
    with django_assert_num_queries(7):
        response = client.get(url)

    html = response.content.decode()
    assert html.count('data-testid="feedback-item"') == 2
    assert "Thesis &lt;script&gt;x&lt;/script&gt;" in html
    assert html.count('data-testid="thread-reply"') == 2


def lifecycle_reply(author, feedback):
    from accord.collaboration import services as collaboration

    collaboration.reply_to_feedback(author=author, feedback=feedback, body="Seen, thanks")


def test_a_rep_lists_only_their_own_feedback_and_cannot_open_anothers(rejected):
    client = signed_in(rejected["rep"])

    listed = client.get(reverse("quality-feedback"))
    others = client.get(reverse("quality-feedback-detail", args=[rejected["feedback"][3].pk]))

    assert listed.content.decode().count('data-testid="feedback-item"') == 3
    assert others.status_code == 404


def test_replying_on_the_page_posts_once_and_tells_the_rep(rejected):
    feedback = rejected["feedback"][0]
    client = signed_in(rejected["owner"])
    form = {"body": "We fixed the form", "client_key": "abc", "next": "/quality/feedback/"}

    first = client.post(reverse("quality-feedback-reply", args=[feedback.pk]), form)
    client.post(reverse("quality-feedback-reply", args=[feedback.pk]), form)

    assert (first.status_code, first["Location"]) == (302, "/quality/feedback/")
    assert Comment.objects.count() == 1
    assert list(Notification.objects.filter(kind="comment").values_list("recipient", flat=True)) == [rejected["rep"].pk]


def test_the_lead_page_shows_the_thread_under_the_reps_verdict(rejected):
    feedback = rejected["feedback"][0]
    lifecycle_reply(rejected["owner"], feedback)

    response = signed_in(rejected["rep"]).get(reverse("lead", args=[feedback.contact_id]))

    html = response.content.decode()
    assert "Student or job seeker" in html
    assert "Seen, thanks" in html
    assert f'action="/quality/feedback/{feedback.pk}/reply/"' in html


def test_revenue_ops_adds_retires_and_moves_reasons_on_the_settings_page():
    client = signed_in(UserFactory(role=Role.REVOPS_ADMIN))

    added = client.post(reverse("rejection-reasons"), {"code": "wrong_region", "label": "Wrong region",
                                                       "outcome": "disqualify"})
    duplicate = client.post(reverse("rejection-reasons"), {"code": "wrong_region", "label": "Again",
                                                           "outcome": "nurture"})
    reason = RejectionReason.objects.get(code="wrong_region")
    client.post(reverse("rejection-reason", args=[reason.pk]), {"action": "up"})
    client.post(reverse("rejection-reason", args=[RejectionReason.objects.get(code="duplicate").pk]),
                {"action": "retire"})
    edited = client.post(reverse("rejection-reason", args=[reason.pk]),
                         {"label": "Outside our regions", "outcome": "nurture", "note_required": "on"})

    assert (added.status_code, duplicate.status_code, edited.status_code) == (302, 422, 302)
    assert "exists already" in duplicate.content.decode()
    reason.refresh_from_db()
    assert (reason.label, reason.outcome, reason.note_required, reason.code) == (
        "Outside our regions", "nurture", True, "wrong_region")
    codes = list(RejectionReason.objects.filter(is_active=True).order_by("order").values_list("code", flat=True))
    assert codes[-2:] == ["wrong_region", "other"]
    assert "duplicate" not in codes


def test_a_rep_may_not_open_the_reason_settings():
    response = signed_in(UserFactory(role=Role.SALES_REP)).get(reverse("rejection-reasons"))

    assert response.status_code == 403


def test_the_feedback_page_shows_the_verdict_the_note_and_the_thread(rejected):
    feedback = rejected["feedback"][3]
    lifecycle_reply(rejected["owner"], feedback)

    response = signed_in(rejected["other"]).get(reverse("quality-feedback-detail", args=[feedback.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert ("Bad contact data" in html, "Fake phone" in html, html.count('data-testid="thread-reply"')) == (
        True, True, 1)


def test_the_handed_over_and_pending_numbers_open_the_leads_behind_them(rejected, django_assert_num_queries):
    campaign = rejected["campaign"]
    waiting = ContactFactory(original_campaign=campaign, first_name="Waiting <b>", owner=rejected["rep"])
    lifecycle.change_stage(contact=waiting, to_stage=S.MQL, rule=domain.SCORE_THRESHOLD,
                           at=timezone.now() - timedelta(hours=2))
    client = signed_in(rejected["owner"])
    lifecycle.rebuild_feedback_rollup()

    report = client.get(reverse("quality")).content.decode()
    handed_over = client.get(reverse("quality-handovers"), {"dimension": "campaign", "value": campaign.pk})
    client.get(reverse("quality-handovers"), {"dimension": "campaign", "value": campaign.pk, "pending": "on"})
    # session, user, the rows' count, the campaign's name, the page's rows
    with django_assert_num_queries(5):
        pending = client.get(reverse("quality-handovers"), {"dimension": "campaign", "value": campaign.pk,
                                                            "pending": "on"})

    assert f"quality/handovers/?dimension=campaign&amp;value={campaign.pk}&amp;pending=on" in report
    assert handed_over.content.decode().count('data-testid="handover-row"') == 5
    html = pending.content.decode()
    assert html.count('data-testid="handover-row"') == 1
    assert "Waiting &lt;b&gt;" in html
    assert reverse("lead", args=[waiting.pk]) in html


def test_a_rep_sees_no_handovers_list_rows(rejected):
    response = signed_in(rejected["rep"]).get(reverse("quality-handovers"))

    assert response.status_code == 200
    assert 'data-testid="handover-row"' not in response.content.decode()
