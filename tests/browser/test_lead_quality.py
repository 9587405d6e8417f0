"""Marketing drills from the lead-quality report into a campaign's rejections, reads a note and replies;
the rep who rejected the lead finds the reply in their inbox."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accord.accounts.tests.factories import PASSWORD, UserFactory
from accord.capture.tests.factories import CampaignFactory, ContactFactory
from accord.collaboration.models import Comment
from accord.core.permissions import Role
from accord.core.vocabulary import LifecycleStage as S
from accord.lifecycle import domain
from accord.lifecycle import services as lifecycle

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, url, user):
    page.goto(f"{url}/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{url}/")


def test_marketing_replies_on_a_rejection_and_the_rep_reads_it_in_the_inbox(live_server, page, browser, results_dir):
    marketer = UserFactory(role=Role.MARKETING, first_name="Mia", last_name="Marketer")
    rep = UserFactory(role=Role.SALES_REP, first_name="Rob", last_name="Rep")
    campaign = CampaignFactory(name="Spring webinar", owner=marketer)
    at = timezone.now() - timedelta(days=2)
    for first, reason, note in [("Sam", "student", "Student writing a thesis, signed up through the webinar form"),
                                ("Kim", "no_budget", "")]:
        lead = ContactFactory(first_name=first, last_name="Lead", original_campaign=campaign, owner=rep)
        lifecycle.change_stage(contact=lead, to_stage=S.MQL, rule=domain.SCORE_THRESHOLD, at=at)
        lifecycle.record_feedback(contact=lead, by=rep, decision="reject", reason=reason, note=note, at=at)

    sign_in(page, live_server.url, marketer)
    page.get_by_role("link", name="Lead quality").click()
    page.wait_for_url(f"{live_server.url}/quality/")
    row = page.get_by_test_id("quality-row").filter(has_text="Spring webinar")
    expect(row.get_by_test_id("rejected-link")).to_have_text("2")
    expect(page.get_by_test_id("reasons-chart")).to_be_visible()
    page.screenshot(path=str(results_dir / "lead-quality.png"), full_page=True)
    row.get_by_role("link", name="Student or job seeker 1").click()

    items = page.get_by_test_id("feedback-item")
    expect(items).to_have_count(1)
    expect(items.get_by_test_id("feedback-note")).to_have_text(
        "Student writing a thesis, signed up through the webinar form")
    items.get_by_label("Reply on this feedback").fill("Thanks, we added a student checkbox to the form.")
    items.get_by_role("button", name="Post reply").click()
    expect(page.get_by_test_id("thread-reply")).to_contain_text("Thanks, we added a student checkbox to the form.")
    page.screenshot(path=str(results_dir / "lead-quality-feedback.png"), full_page=True)
    assert Comment.objects.count() == 1

    context = browser.new_context(viewport={"width": 1360, "height": 900})
    rep_page = context.new_page()
    sign_in(rep_page, live_server.url, rep)
    rep_page.get_by_test_id("inbox-badge").click()
    rep_page.wait_for_url(f"{live_server.url}/inbox/")
    notice = rep_page.get_by_role("row").filter(has_text="Mia Marketer replied on the rejection of Sam Lead")
    notice.get_by_role("button", name="Open").click()
    expect(rep_page.get_by_test_id("thread-reply")).to_contain_text("we added a student checkbox")
    context.close()
    assert page.console_errors == []
