"""A marketer fixes a rules document in the browser: the mistake shows beside its line, then it publishes."""

import pytest

from accord.accounts.tests.factories import PASSWORD, UserFactory
from accord.core.permissions import Role
from accord.scoring import services
from accord.scoring.models import ScoringRuleSet

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RULES = "fit:\n  seniority: {vp: 20}\n"


def test_a_marketer_sees_a_mistake_beside_its_line_fixes_it_and_publishes(live_server, page, results_dir):
    marketer = UserFactory(role=Role.MARKETING)
    services.publish_rule_set(source=RULES, by=marketer)

    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(marketer.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")
    page.get_by_role("link", name="Scoring").click()
    editor = page.get_by_label("Rules document (YAML)")
    editor.fill(RULES + "  industry:\n    softwear: 10\n")
    page.get_by_label("Rescore every contact after publishing").uncheck()
    page.get_by_role("button", name="Publish as a new version").click()

    error_line = page.get_by_test_id("error-line-4")
    assert "\u00a0\u00a0\u00a0\u00a0softwear:\u00a010" in error_line.inner_text()
    assert "unknown industry 'softwear'" in error_line.inner_text()
    page.screenshot(path=str(results_dir / "scoring-rules-error.png"), full_page=True)
    assert ScoringRuleSet.objects.count() == 1

    page.get_by_label("Rules document (YAML)").fill(RULES + "  industry:\n    software: 10\n")
    page.get_by_role("button", name="Publish as a new version").click()

    page.wait_for_url(f"{live_server.url}/scoring/rules/")
    assert "Published rules v2; they are now active." in page.locator(".messages").first.inner_text()
    assert list(ScoringRuleSet.objects.filter(is_active=True).values_list("version", flat=True)) == [2]
    # The refused post answers 422, which Chromium logs; nothing else may go wrong.
    assert [e for e in page.console_errors if "status of 422" not in e] == []
