from datetime import UTC, date, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accord.accounts.tests.factories import TeamFactory, UserFactory
from accord.capture.tests.factories import ContactFactory
from accord.core.permissions import Role
from accord.sla import services
from accord.sla.tests.factories import LeadAssignmentFactory, SlaVersionFactory

pytestmark = pytest.mark.django_db


def settled_leads(owner, *, on_time: int, late: int, at: datetime) -> None:
    """Give the owner leads whose first touch came 10 minutes in (on time) or 3 hours in (late, hot tier)."""
    for index in range(on_time + late):
        assignment = LeadAssignmentFactory(owner=owner, contact=ContactFactory(owner=owner), assigned_at=at)
        services.open_clocks(assignment=assignment, tier="hot")
        delay = timedelta(minutes=10) if index < on_time else timedelta(hours=3)
        services.record_touch(contact_id=assignment.contact_id, at=at + delay)


@pytest.fixture
def world():
    SlaVersionFactory(effective_from=datetime(2020, 1, 1, tzinfo=UTC))
    east, west = TeamFactory(name="East"), TeamFactory(name="West")
    ana = UserFactory(role=Role.SALES_REP, team=east, first_name="Ana", last_name="Alves")
    ben = UserFactory(role=Role.SALES_REP, team=east, first_name="Ben", last_name="Berg")
    cy = UserFactory(role=Role.SALES_REP, team=west, first_name="Cy", last_name="Cole")
    # Monday this week at 09:00 UTC, working hours in UTC
    monday = timezone.localdate() - timedelta(days=timezone.localdate().weekday())
    at = datetime(monday.year, monday.month, monday.day, 9, 0, tzinfo=UTC) - timedelta(days=7)
    settled_leads(ana, on_time=3, late=1, at=at)
    settled_leads(ben, on_time=1, late=1, at=at)
    settled_leads(cy, on_time=2, late=0, at=at)
    return {"east": east, "ana": ana, "ben": ben, "cy": cy}


def first_touch_cells(html: str, name: str) -> str:
    start = html.index(name)
    return html[start:html.index("</tr>", start)]


def test_a_revops_admin_sees_every_rep_with_on_time_share_and_breaches(client, world):
    client.force_login(UserFactory(role=Role.REVOPS_ADMIN))

    page = client.get(reverse("sla-compliance"), {"period": "last_week"})

    assert page.status_code == 200
    html = page.content.decode()
    ana = first_touch_cells(html, "Ana Alves")
    assert ">4</a>" in ana and "75.0 %" in ana and "(1 met late)" in ana
    assert "50.0 %" in first_touch_cells(html, "Ben Berg")
    assert "100.0 %" in first_touch_cells(html, "Cy Cole")
    assert 'data-testid="versions-in-force">v1<' in html


def test_a_rep_sees_themself_and_their_team_total_but_no_colleague(client, world):
    client.force_login(world["ana"])

    html = client.get(reverse("sla-compliance"), {"period": "last_week"}).content.decode()

    assert "Ana Alves" in html
    assert "Ben Berg" not in html and "Cy Cole" not in html
    team = first_touch_cells(html, "East (team total)")
    assert "66.7 %" in team  # 4 of 6 on time across Ana and Ben


def test_a_sales_manager_groups_their_team_by_team(client, world):
    manager = UserFactory(role=Role.SALES_MANAGER, team=world["east"])
    client.force_login(manager)

    html = client.get(reverse("sla-compliance"), {"period": "last_week", "group": "team"}).content.decode()

    east = first_touch_cells(html, ">East<")
    assert "66.7 %" in east
    assert "West" not in html


def test_the_drill_down_lists_the_clocks_behind_a_breach_count(client, world):
    client.force_login(UserFactory(role=Role.REVOPS_ADMIN))

    page = client.get(reverse("sla-compliance-clocks"), {
        "period": "last_week", "kind": "first_touch", "outcome": "missed", "owner": world["ana"].pk})

    assert page.status_code == 200
    assert page.content.decode().count("met late") == 1


def test_a_rep_cannot_drill_into_a_colleagues_clocks(client, world):
    client.force_login(world["ana"])

    page = client.get(reverse("sla-compliance-clocks"), {"period": "last_week", "owner": world["ben"].pk})

    assert "No clock you can see matches." in page.content.decode()


def test_an_unreadable_period_is_refused_naming_the_field(client, world):
    client.force_login(world["ana"])

    page = client.get(reverse("sla-compliance"), {"period": "custom", "start": "2026-13-01", "end": "2026-12-01"})

    assert page.status_code == 422
    assert "start: &#x27;2026-13-01&#x27; is not a date like 2026-11-01." in page.content.decode()


def test_the_report_page_reads_in_a_fixed_number_of_queries(client, world, django_assert_num_queries):
    admin = UserFactory(role=Role.REVOPS_ADMIN)
    client.force_login(admin)
    client.get(reverse("sla-compliance"))

    # session, user, the rows, the versions in force, the trend, its version markers, the
    # version table — however many reps, teams and days
    with django_assert_num_queries(7):
        page = client.get(reverse("sla-compliance"), {"period": "last_quarter", "group": "rep"})
    assert page.status_code == 200
    settled_leads(UserFactory(role=Role.SALES_REP, team=TeamFactory(name="North")), on_time=2, late=2,
                  at=datetime(2026, 1, 5, 9, tzinfo=UTC))
    with django_assert_num_queries(7):
        client.get(reverse("sla-compliance"), {"period": "this_quarter", "group": "team"})


def test_the_api_answers_the_same_numbers_as_the_page(client, world):
    client.force_login(world["ana"])

    body = client.get("/api/v1/sla/compliance", {"period": "last_week"}).json()

    assert body["group"] == "rep"
    assert [row["name"] for row in body["rows"]] == ["Ana Alves"]
    first_touch = body["rows"][0]["kinds"][0]
    assert (first_touch["kind"], first_touch["due"], first_touch["met_on_time"], first_touch["breaches"]) == (
        "first_touch", 4, 3, 1)
    assert first_touch["on_time_share"] == 0.75
    assert body["team_total"]["kinds"][0]["due"] == 6
    assert [v["version"] for v in body["versions"]] == [1]


def test_the_api_refuses_a_custom_period_without_an_end_naming_the_field(client, world):
    client.force_login(world["ana"])

    response = client.get("/api/v1/sla/commitments", {"period": "custom", "start": "2026-11-01"})

    assert response.status_code == 422
    assert response.json() == {"errors": [
        {"field": "end", "code": "invalid", "message": "A custom period needs end (YYYY-MM-DD)."}]}


def test_the_api_refuses_an_unknown_group_in_the_error_shape(client, world):
    client.force_login(world["ana"])

    response = client.get("/api/v1/sla/compliance", {"group": "everyone"})

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "group"


def test_the_commitments_endpoint_answers_marketings_numbers(client, world):
    client.force_login(UserFactory(role=Role.MARKETING))

    body = client.get("/api/v1/sla/commitments", {"period": "this_month"}).json()

    assert body["sla_version"] == 1
    assert body["commitment_source"] == "sla"
    assert body["min_acceptance_rate"] == 0.6
    assert body["handed_over"] == 0
    start, end = (date.fromisoformat(body["period"][k]) for k in ("start", "end"))
    assert len(body["days"]) == (end - start).days + 1
    assert body["days"][-1]["committed"] == 400  # the shipped default, over the whole month


def test_the_drill_down_reads_a_page_of_clocks_in_a_fixed_number_of_queries(client, world, django_assert_num_queries):
    client.force_login(UserFactory(role=Role.REVOPS_ADMIN))
    query = {"period": "last_week", "kind": "first_touch", "outcome": "due"}
    client.get(reverse("sla-compliance-clocks"), query)

    # session, user, the count, the page of clocks with their leads, owners and versions
    with django_assert_num_queries(4):
        page = client.get(reverse("sla-compliance-clocks"), query)

    assert page.content.decode().count("<tr><th><a href=") == 8


def test_marketing_sees_mqls_pacing_acceptance_and_completeness_in_a_fixed_number_of_queries(
        client, world, django_assert_num_queries):
    contacts = [ContactFactory(phone="") for _ in range(3)]
    services.record_handovers(contact_ids=[c.pk for c in contacts], at=timezone.now())
    client.force_login(UserFactory(role=Role.MARKETING))
    client.get(reverse("sla-compliance-marketing"))

    # session, user, the versions (the default SLA names a number: the goal plan is not read),
    # and the month's rows of the handover rollup
    with django_assert_num_queries(4):
        page = client.get(reverse("sla-compliance-marketing"), {"period": "this_month"})

    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="mqls-actual">3<' in html
    assert 'href="/quality/"' in html
