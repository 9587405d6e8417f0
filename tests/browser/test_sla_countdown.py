"""A rep opens the SLA page and watches a countdown turn amber at the warn share, then red at breach."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accord.accounts.tests.factories import PASSWORD, UserFactory
from accord.capture.tests.factories import ContactFactory
from accord.core.permissions import Role
from accord.sla.tests.factories import SlaClockFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_countdown_turns_amber_at_the_warn_share_and_red_at_breach(live_server, page, results_dir):
    rep = UserFactory(role=Role.SALES_REP)
    # A calendar-time clock with 8 s allowed: amber once 2 s are left, red at zero.
    SlaClockFactory(owner=rep, contact=ContactFactory(owner=rep, first_name="Ada", last_name="Lovelace"),
                    budget_seconds=8, started_at=timezone.now() + timedelta(seconds=2))
    page.goto(f"{live_server.url}/login/?next=/sla/")
    page.fill("input[name=username]", rep.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    badge = page.locator("[data-testid=sla-running] [data-sla-countdown]")

    badge.wait_for()
    first_state = badge.get_attribute("data-sla-state")
    page.wait_for_function("() => document.querySelector('[data-sla-countdown]').dataset.slaState === 'warning'",
                           timeout=15_000)
    page.wait_for_function("() => document.querySelector('[data-sla-countdown]').dataset.slaState === 'breached'",
                           timeout=15_000)
    page.screenshot(path=results_dir / "sla-countdown-breached.png", full_page=True)

    assert first_state == "running"
    assert "Ada Lovelace" in page.locator("[data-testid=sla-running]").inner_text()
    assert badge.locator(".sla-countdown-time").inner_text().startswith("overdue")
    assert page.console_errors == []
