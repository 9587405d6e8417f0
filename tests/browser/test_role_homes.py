"""Each role signs in through the real login form and sees its own home, charts drawn."""

import pytest

from accord.accounts.tests.factories import PASSWORD
from accord.core.permissions import Role
from accord.web.tests.factories import FIGURES, build_company

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Per role: the heading, and a figure from the database with the key figure it sits in.
EXPECTED = {
    Role.MARKETING: ("Marketing dashboard", "kpi-new-leads", str(FIGURES["new_leads"])),
    Role.SALES_REP: ("My sales desk", "kpi-pipeline", FIGURES["ana_pipeline"]),
    Role.SALES_MANAGER: ("Team pipeline", "kpi-pipeline", FIGURES["team_pipeline"]),
    Role.REVOPS_ADMIN: ("Revenue operations", "kpi-pipeline", FIGURES["company_pipeline"]),
    Role.EXECUTIVE: ("Revenue overview", "kpi-goal", FIGURES["goal_percent"]),
}

CHARTS_DRAWN = """() => {
    const canvases = [...document.querySelectorAll("canvas[data-chart]")];
    return canvases.length > 0 && canvases.every(
        (c) => window.Chart && window.Chart.getChart(c) && c.width > 0 && c.height > 0
    );
}"""


def test_the_vendored_chart_library_is_served_by_the_live_server(live_server, page):
    response = page.request.get(f"{live_server.url}/static/vendor/chartjs/chart.umd.min.js")

    assert response.status == 200
    assert b"Chart.js v4" in response.body()[:200]


@pytest.mark.parametrize("role", list(Role))
def test_each_role_signs_in_and_sees_its_own_home_with_charts(live_server, page, results_dir, role):
    company = build_company()
    user = company.user_for(role)
    heading, kpi, figure = EXPECTED[role]

    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")

    assert page.get_by_role("heading", level=1).inner_text() == heading
    value = page.locator(f'[data-testid="{kpi}"] .kpi-value')
    assert value.inner_text() == figure
    assert value.is_visible()
    assert page.get_by_test_id("role").inner_text() == user.get_role_display()
    page.wait_for_function(CHARTS_DRAWN, timeout=10_000)
    page.screenshot(path=str(results_dir / f"home-{role.value}.png"), full_page=True)
    assert page.console_errors == []
