"""The whole promise in one flow: a rep watches a lead's countdown run out, the real worker finds the
breach, and the rep's manager sees it in the inbox and follows it to the lead.
"""

import signal
import subprocess
import time

import pytest

from accord.accounts.tests.factories import PASSWORD
from accord.handoff import services
from accord.handoff.tests.factories import ALL_HOURS, hot_lead, sales_team
from accord.lifecycle import services as lifecycle
from accord.notifications.models import Notification
from accord.sla import services as sla
from accord.sla.services import DEFAULT_SLA
from tests.worker import start_worker

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

# 0.004 working hours is 14 s, on a calendar that works round the clock, so the test never
# waits for office hours.
FIRST_TOUCH_HOURS = 0.004
ROUND_THE_CLOCK = "calendars:\n  default:\n    hours:\n" + "".join(
    f'      {day}: ["00:00-24:00"]\n' for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"))


def tiny_sla() -> str:
    source = DEFAULT_SLA.read_text(encoding="utf-8").split("calendars:")[0] + ROUND_THE_CLOCK
    return (source.replace("    hot: 1\n    warm: 4\n    cold: 8\n", f"    now: {FIRST_TOUCH_HOURS}\n")
            .replace("default_tier: warm", "default_tier: now"))


def sign_in(context, url: str, user) -> object:
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda message: message.type == "error" and page.console_errors.append(message.text))
    page.goto(f"{url}/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{url}/")
    return page


def ticks(badge) -> bool:
    """Tell whether a countdown's text changes within a second and a half."""
    before = badge.locator(".sla-countdown-time").inner_text()
    time.sleep(1.5)
    return badge.locator(".sla-countdown-time").inner_text() != before


def wait_for(condition, *, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def stop(worker: subprocess.Popen) -> None:
    worker.send_signal(signal.SIGTERM)
    try:
        worker.wait(timeout=15)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


def test_a_rep_misses_a_countdown_and_the_managers_inbox_shows_the_breach(live_server, browser, tmp_path,
                                                                          results_dir):
    _, manager, [rep] = sales_team("Sales NA", reps=1)
    lifecycle.publish_routing(source=ALL_HOURS + 'rules:\n  - {name: na, team: "Sales NA"}\n')
    sla.publish_sla_version(source=tiny_sla(), note="first touch in 14 seconds")
    lead = hot_lead(first_name="Ada", last_name="Lovelace")
    rep_context, manager_context = browser.new_context(), browser.new_context()
    services.evaluate_leads(contact_ids=[lead.pk])
    lead.refresh_from_db()

    # The rep sees the countdown on the queue and on the lead page, ticking down.
    rep_page = sign_in(rep_context, live_server.url, rep)
    rep_page.goto(f"{live_server.url}/leads/")
    row = rep_page.get_by_test_id("lead-row").filter(has_text="Ada Lovelace")
    queue_badge = row.locator("[data-sla-countdown]").filter(has_text="First touch")
    queue_state = queue_badge.get_attribute("data-sla-state")
    queue_ticking = ticks(queue_badge)
    row.get_by_role("link", name="Ada Lovelace").click()
    rep_page.wait_for_url(f"{live_server.url}/leads/{lead.pk}/")
    lead_badge = rep_page.get_by_test_id("follow-up-due").locator("[data-sla-countdown]").filter(has_text="First touch")
    lead_ticking = ticks(lead_badge)
    # ...and lets it run out: the page turns it red and overdue without a reload.
    rep_page.wait_for_function(
        "() => [...document.querySelectorAll('[data-sla-countdown]')]"
        ".some(el => el.dataset.slaState === 'breached')", timeout=30_000)
    overdue_text = lead_badge.locator(".sla-countdown-time").inner_text()

    # The real worker, as deployed: its scheduler runs the SLA checker.
    worker = start_worker(data_dir=tmp_path, batch=False)
    try:
        # An upper bound: the checker runs in the first 15-second slot once the worker is up,
        # which takes far longer on a loaded machine than on a quiet one.
        alerted = wait_for(lambda: Notification.objects.filter(recipient=manager, kind="sla_breach").exists(),
                           timeout=150)
    finally:
        stop(worker)
    assert alerted, (tmp_path / "worker.log").read_text()[-2000:]

    # The manager, in a browser of their own, sees the breach in the inbox and follows it.
    manager_page = sign_in(manager_context, live_server.url, manager)
    unread = manager_page.get_by_test_id("unread-count").text_content()
    manager_page.get_by_test_id("inbox-badge").click()
    manager_page.wait_for_url(f"{live_server.url}/inbox/")
    breach_row = manager_page.get_by_role("row").filter(has_text="SLA breached: first touch for Ada Lovelace")
    breach_rows = breach_row.count()
    manager_page.screenshot(path=str(results_dir / "sla-breach-manager-inbox.png"), full_page=True)
    breach_row.get_by_role("button", name="Open").click()
    manager_page.wait_for_url(f"{live_server.url}/contacts/{lead.pk}/")

    assert (queue_state, queue_ticking, lead_ticking) == ("running", True, True)
    assert overdue_text.startswith("overdue")
    assert unread == "1 unread"
    assert breach_rows == 1
    assert "Ada Lovelace" in manager_page.locator("h1").inner_text()
    assert rep_page.console_errors == [] and manager_page.console_errors == []
    rep_context.close()
    manager_context.close()
