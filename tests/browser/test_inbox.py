"""A rep sees the unread badge load into the header, opens the inbox and reads a notification."""

import pytest

from accord.accounts.tests.factories import PASSWORD, UserFactory
from accord.core.permissions import Role
from accord.notifications.tests.factories import NotificationFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_header_badge_counts_unread_and_opening_one_in_the_inbox_clears_it(live_server, page, results_dir):
    rep = UserFactory(role=Role.SALES_REP)
    NotificationFactory(recipient=rep, title="Grace Hopper (Navy) is yours", url="/inbox/?show=unread")
    NotificationFactory(recipient=rep, title="SLA: 1 hour left on Ada Lovelace")

    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(rep.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")

    assert page.get_by_test_id("unread-count").text_content() == "2 unread"
    page.get_by_test_id("inbox-badge").click()
    page.wait_for_url(f"{live_server.url}/inbox/")
    row = page.get_by_role("row").filter(has_text="Grace Hopper (Navy) is yours")
    row.get_by_role("button", name="Open").click()
    page.wait_for_url(f"{live_server.url}/inbox/?show=unread")

    assert page.get_by_test_id("unread-count").text_content() == "1 unread"
    assert page.get_by_test_id("inbox").inner_text().count("SLA: 1 hour left on Ada Lovelace") == 1
    assert "Grace Hopper" not in page.get_by_test_id("inbox").inner_text()
    page.screenshot(path=str(results_dir / "inbox.png"), full_page=True)
    assert page.console_errors == []
