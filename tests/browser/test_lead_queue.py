"""A rep works the queue in a real browser: sees the MQLs routed to them, accepts one, rejects one with a reason."""

import pytest
from playwright.sync_api import expect

from accord.accounts.tests.factories import PASSWORD
from accord.core.vocabulary import LifecycleStage as S
from accord.handoff import services
from accord.handoff.tests.factories import ALL_HOURS, hot_lead, sales_team
from accord.lifecycle import services as lifecycle
from accord.lifecycle.models import LeadFeedback

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_rep_accepts_one_mql_and_rejects_another_with_a_reason_from_the_queue(live_server, page, results_dir):
    _, _, (rep,) = sales_team("Sales NA", reps=1, capacity=20)
    lifecycle.publish_routing(source=ALL_HOURS + 'rules:\n  - {name: na, team: "Sales NA"}\n')
    keep, drop = hot_lead(first_name="Kim", last_name="Keeper"), hot_lead(first_name="Dan", last_name="Dropper")
    services.evaluate_leads(contact_ids=[keep.pk, drop.pk])

    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(rep.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")
    page.get_by_role("link", name="My leads").click()
    page.wait_for_url(f"{live_server.url}/leads/")

    rows = page.get_by_test_id("lead-row")
    expect(rows).to_have_count(2)
    keep_row, drop_row = page.locator(f"#lead-{keep.pk}"), page.locator(f"#lead-{drop.pk}")
    expect(keep_row.get_by_test_id("lead-stage")).to_have_text("Marketing qualified (MQL)")

    keep_row.get_by_role("button", name="Accept").click()
    expect(page.locator(f"#lead-{keep.pk}").get_by_test_id("lead-stage")).to_have_text("Sales accepted (SAL)")
    expect(page.locator(f"#lead-{keep.pk}")).to_contain_text("Accepted Kim Keeper.")

    # The dialog loads for its lead when asked for; from the keyboard, Escape closes it and the
    # focus goes back to the button that opened it.
    expect(page.locator("dialog")).to_have_count(0)
    reject = drop_row.get_by_role("button", name="Reject…")
    reject.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Reject Dan Dropper")
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(reject).to_be_focused()

    reject.click()
    expect(dialog).to_be_visible()
    dialog.get_by_label("Reason").select_option("no_budget")
    dialog.get_by_label("Note for marketing").fill("Frozen until next fiscal year")
    dialog.get_by_role("button", name="Reject lead").click()
    expect(page.locator(f"#lead-{drop.pk}").get_by_test_id("lead-stage")).to_have_text("Nurture / recycled")
    expect(page.locator(f"#lead-{drop.pk}")).to_contain_text("Rejected Dan Dropper: No budget.")
    page.screenshot(path=str(results_dir / "lead-queue.png"), full_page=True)

    keep.refresh_from_db()
    drop.refresh_from_db()
    assert (keep.lifecycle_stage, drop.lifecycle_stage) == (S.SAL, S.NURTURE)
    assert sorted(LeadFeedback.objects.values_list("contact_id", "decision", "reason", "note")) == sorted([
        (keep.pk, "accept", "", ""), (drop.pk, "reject", "no_budget", "Frozen until next fiscal year")])

    # A reload shows what is still open: the accepted lead under "Accepted", the rejected one gone.
    page.goto(f"{live_server.url}/leads/?view=all")
    expect(page.get_by_test_id("lead-row")).to_have_count(1)
    expect(page.locator(f"#lead-{keep.pk}")).to_be_visible()
    page.goto(f"{live_server.url}/leads/{drop.pk}/")
    expect(page.get_by_test_id("feedback")).to_contain_text("No budget")
    expect(page.get_by_test_id("score-explanation")).to_contain_text("Requested a demo today")
    assert page.console_errors == []
