import re

import pytest
from django.test import Client
from django.urls import reverse

from accord.accounts.models import ApiToken
from accord.accounts.services import issue_api_token
from accord.accounts.tests.factories import PASSWORD, UserFactory
from accord.analytics.tests.factories import (
    ActivityFactory,
    LeadFeedbackFactory,
    StageTransitionFactory,
)
from accord.capture.tests.factories import ContactFactory, TouchpointFactory
from accord.core.models import Job
from accord.core.permissions import Role
from accord.core.vocabulary import LifecycleStage
from accord.web.tests.factories import FIGURES, JobFactory, build_company

pytestmark = pytest.mark.django_db

HOME_HEADINGS = {
    Role.MARKETING: "Marketing dashboard",
    Role.SALES_REP: "My sales desk",
    Role.SALES_MANAGER: "Team pipeline",
    Role.REVOPS_ADMIN: "Revenue operations",
    Role.EXECUTIVE: "Revenue overview",
}
# Session and user, then one aggregate per figure: the same count whatever the data volume.
HOME_MAX_QUERIES = {
    Role.MARKETING: 13,
    Role.SALES_REP: 12,
    Role.SALES_MANAGER: 11,
    Role.REVOPS_ADMIN: 10,
    Role.EXECUTIVE: 10,
}


@pytest.fixture
def company():
    return build_company()


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def forms_in(html: str) -> list[str]:
    return re.findall(r"<form\b[^>]*>", html)


@pytest.mark.parametrize(
    "url",
    ["/", "/contacts/", "/accounts/", "/campaigns/", "/deals/", "/jobs/", "/tokens/",
     "/contacts/1/", "/deals/1/", "/jobs/1/", "/jobs/1/progress/"],
)
def test_an_anonymous_visitor_is_sent_to_the_login_page(client, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


def test_signing_in_through_the_login_form_lands_on_the_home_page(client):
    user = UserFactory(username="ana", role=Role.SALES_REP)

    page = client.get(reverse("login"))
    response = client.post(reverse("login"), {"username": "ana", "password": PASSWORD})

    assert page.status_code == 200
    assert b'name="csrfmiddlewaretoken"' in page.content
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert client.get("/").context["user"] == user


def test_a_wrong_password_keeps_the_visitor_on_the_login_page(client):
    UserFactory(username="ana")

    response = client.post(reverse("login"), {"username": "ana", "password": "nope"})

    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content


def test_logging_out_takes_a_post_and_ends_the_session(client):
    client.force_login(UserFactory())

    assert client.get(reverse("logout")).status_code == 405
    response = client.post(reverse("logout"))

    assert response["Location"] == reverse("login")
    assert client.get("/").status_code == 302


@pytest.mark.parametrize("role", list(Role))
def test_every_roles_home_renders_friendly_empty_states_on_an_empty_database(role):
    user = UserFactory(role=role)

    response = signed_in(user).get("/")

    assert response.status_code == 200
    html = response.content.decode()
    assert f"<h1>{HOME_HEADINGS[role]}</h1>" in html
    assert "No company revenue goal covers today" in html
    assert "No contacts have moved through the funnel" in html
    assert "$0" in html


@pytest.mark.parametrize("role", list(Role))
def test_every_roles_home_stays_within_a_fixed_number_of_queries(company, role, django_assert_max_num_queries):
    # More open leads than the rep's home lists, so the separate count runs too.
    ContactFactory.create_batch(15, owner=company.ana, lifecycle_stage=LifecycleStage.MQL)
    client = signed_in(company.user_for(role))

    with django_assert_max_num_queries(HOME_MAX_QUERIES[role]):
        response = client.get("/")

    assert response.status_code == 200


def test_the_marketing_home_shows_this_months_leads_mqls_cost_per_lead_and_top_campaigns(company):
    html = signed_in(company.marketer).get("/").content.decode()

    assert "<h1>Marketing dashboard</h1>" in html
    assert re.search(rf'data-testid="kpi-new-leads">.*?<p class="kpi-value">{FIGURES["new_leads"]}</p>', html, re.S)
    assert re.search(rf'data-testid="kpi-mqls">.*?<p class="kpi-value">{FIGURES["mqls"]}</p>', html, re.S)
    assert re.search(rf'data-testid="kpi-cpl">.*?<p class="kpi-value">\{FIGURES["cost_per_lead"]}</p>', html, re.S)
    assert f'{FIGURES["spend"]} spent' in html
    assert "Spring webinar" in html and "Brand search" in html
    assert FIGURES["company_pipeline"] in html
    assert 'id="chart-channels" type="application/json"' in html


def test_the_reps_home_shows_only_their_own_leads_deals_and_wins(company):
    html = signed_in(company.ana).get("/").content.decode()

    assert "<h1>My sales desk</h1>" in html
    assert re.search(r'My open leads <span class="count-pill">3</span>', html)
    assert re.search(rf'data-testid="kpi-pipeline">.*?<p class="kpi-value">\{FIGURES["ana_pipeline"]}</p>', html, re.S)
    assert f'{FIGURES["ana_weighted"]} weighted' in html
    assert re.search(rf'data-testid="kpi-won">.*?<p class="kpi-value">\{FIGURES["ana_won"]}</p>', html, re.S)
    assert "Acme pilot" in html and "Acme rollout" in html
    assert "Southern giant" not in html
    assert "Ben&#x27;s deal" not in html
    # The shared goal is company-wide on purpose: everyone steers by the same number.
    assert re.search(r'data-testid="kpi-goal">.*?<p class="kpi-value">57%</p>', html, re.S)


def test_the_managers_home_shows_the_team_pipeline_by_rep(company):
    html = signed_in(company.manager).get("/").content.decode()

    assert "<h1>Team pipeline</h1>" in html
    assert re.search(rf'data-testid="kpi-pipeline">.*?<p class="kpi-value">\{FIGURES["team_pipeline"]}</p>', html, re.S)
    assert f'{FIGURES["team_weighted"]} weighted' in html
    assert "Ana Lee" in html and "Ben Ortiz" in html
    assert "Olga Nash" not in html
    assert FIGURES["company_pipeline"] not in html
    assert 'id="chart-reps" type="application/json"' in html


def test_the_revops_home_shows_the_whole_funnel_jobs_and_admin_links(company):
    html = signed_in(company.admin).get("/").content.decode()

    assert "<h1>Revenue operations</h1>" in html
    assert re.search(r'Contacts by stage now <span class="count-pill">9</span>', html)
    assert "Nightly export" in html
    assert reverse("admin:planning_goal_changelist") in html
    assert re.search(rf'data-testid="kpi-pipeline">.*?<p class="kpi-value">\{FIGURES["company_pipeline"]}</p>', html, re.S)


def test_the_executive_home_shows_revenue_against_goal_and_pipeline_coverage(company):
    html = signed_in(company.executive).get("/").content.decode()

    assert "<h1>Revenue overview</h1>" in html
    assert re.search(r'data-testid="kpi-goal">.*?<p class="kpi-value">57%</p>', html, re.S)
    assert f'{FIGURES["company_won"]} of $100,000' in html
    assert 'data-testid="kpi-coverage"' in html
    assert 'id="chart-won" type="application/json"' in html
    assert 'id="chart-funnel" type="application/json"' in html


@pytest.mark.parametrize("url_name", ["home", "contacts", "accounts", "campaigns", "deals", "jobs"])
def test_an_executive_sees_no_form_that_changes_anything(company, url_name):
    html = signed_in(company.executive).get(reverse(url_name)).content.decode()

    # An export posts (it starts a job) but reads only what the viewer may see.
    posting = [form for form in forms_in(html) if 'method="post"' in form and 'class="export-form"' not in form]
    assert posting == [f'<form method="post" action="{reverse("logout")}" class="logout">']


def test_chart_data_is_embedded_as_json_not_as_built_javascript(company):
    html = signed_in(company.executive).get("/").content.decode()

    assert "<script>" not in html
    assert re.search(r'<script id="chart-funnel" type="application/json">\{.*?"labels"', html)


def test_the_navigation_offers_admin_to_revops_only(company):
    admin_html = signed_in(company.admin).get("/").content.decode()
    rep_html = signed_in(company.ana).get("/").content.decode()

    assert f'href="{reverse("admin:index")}"' in admin_html
    assert f'href="{reverse("admin:index")}"' not in rep_html
    assert 'aria-current="page">Home</a>' in rep_html


def test_the_jobs_page_lists_the_viewers_jobs_and_polls_only_unfinished_ones():
    user = UserFactory(role=Role.MARKETING)
    running = JobFactory(created_by=user, title="Import leads", status=Job.Status.RUNNING, progress_done=3)
    done = JobFactory(created_by=user, title="Export contacts")
    JobFactory(created_by=UserFactory(), title="Someone else's job")

    html = signed_in(user).get(reverse("jobs")).content.decode()

    assert "Import leads" in html and "Export contacts" in html
    assert "Someone else" not in html
    assert f'hx-get="{reverse("job_progress", args=[running.pk])}"' in html
    assert f'hx-get="{reverse("job_progress", args=[done.pk])}"' not in html
    assert html.count('hx-trigger="every 1s"') == 1
    assert 'value="30"' in html


def test_the_progress_fragment_stops_polling_once_the_job_finishes():
    user = UserFactory()
    job = JobFactory(created_by=user, status=Job.Status.RUNNING, progress_done=5)
    client = signed_in(user)

    polling = client.get(reverse("job_progress", args=[job.pk])).content.decode()
    Job.objects.filter(pk=job.pk).update(status=Job.Status.SUCCEEDED, progress_done=10)
    finished = client.get(reverse("job_progress", args=[job.pk])).content.decode()

    assert 'hx-trigger="every 1s"' in polling and "<html" not in polling
    assert 'hx-trigger' not in finished
    assert "Succeeded" in finished


def test_a_user_gets_404_on_another_users_job():
    job = JobFactory(created_by=UserFactory())
    client = signed_in(UserFactory(role=Role.SALES_REP))

    assert client.get(reverse("job", args=[job.pk])).status_code == 404
    assert client.get(reverse("job_progress", args=[job.pk])).status_code == 404


def test_the_job_page_shows_its_parameters_and_error():
    user = UserFactory()
    job = JobFactory(created_by=user, status=Job.Status.FAILED, params={"file": "<leads>.csv"}, error="Row 3: bad email")

    html = signed_in(user).get(reverse("job", args=[job.pk])).content.decode()

    assert "Row 3: bad email" in html
    assert "&lt;leads&gt;.csv" in html


def test_creating_a_token_shows_its_secret_once():
    user = UserFactory()
    client = signed_in(user)

    created = client.post(reverse("tokens"), {"name": "Warehouse sync"})
    later = client.get(reverse("tokens"))

    secret = created.context["new_secret"]
    assert created.status_code == 200
    assert secret.startswith("acc_") and secret in created.content.decode()
    assert created["Cache-Control"].startswith("max-age=0")
    assert secret not in later.content.decode()
    assert "Warehouse sync" in later.content.decode()
    assert ApiToken.objects.get(user=user).prefix == secret[:12]


def test_a_token_needs_a_name():
    user = UserFactory()

    response = signed_in(user).post(reverse("tokens"), {"name": "  "})

    assert response.status_code == 422
    assert b"Give the token a name." in response.content
    assert not ApiToken.objects.filter(user=user).exists()


def test_revoking_a_token_takes_a_post_and_only_reaches_the_viewers_own_tokens():
    user, other = UserFactory(), UserFactory()
    mine, _ = issue_api_token(user=user, name="Mine")
    theirs, _ = issue_api_token(user=other, name="Theirs")
    client = signed_in(user)

    assert client.get(reverse("token_revoke", args=[mine.pk])).status_code == 405
    assert client.post(reverse("token_revoke", args=[theirs.pk])).status_code == 404
    response = client.post(reverse("token_revoke", args=[mine.pk]), follow=True)

    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.revoked_at is not None
    assert theirs.revoked_at is None
    assert "Revoked the token “Mine”" in response.content.decode()


def test_a_token_post_without_the_csrf_token_is_refused():
    user = UserFactory()
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)

    response = client.post(reverse("tokens"), {"name": "Forged"})

    assert response.status_code == 403
    assert not ApiToken.objects.filter(user=user).exists()


def test_the_contact_page_shows_stage_history_touchpoints_activities_and_feedback():
    rep = UserFactory(role=Role.SALES_REP, first_name="Ana", last_name="Lee")
    contact = ContactFactory(owner=rep, first_name="Jo", last_name="Park", lifecycle_stage=LifecycleStage.SAL)
    StageTransitionFactory(contact=contact, from_stage=LifecycleStage.LEAD, to_stage=LifecycleStage.MQL,
                           by_rule="score>=60")
    StageTransitionFactory(contact=contact, from_stage=LifecycleStage.MQL, to_stage=LifecycleStage.SAL, by_user=rep)
    TouchpointFactory(contact=contact)
    ActivityFactory(contact=contact, user=rep, subject="Discovery call")
    LeadFeedbackFactory(contact=contact, by_user=rep, note="Budget <confirmed>")

    html = signed_in(rep).get(reverse("contact", args=[contact.pk])).content.decode()

    assert "<h1>Jo Park</h1>" in html
    assert "by rule score&gt;=60" in html
    assert "Marketing qualified (MQL) → <strong>Sales accepted (SAL)</strong>" in html
    assert "Ad click" in html
    assert "Discovery call" in html
    assert "Budget &lt;confirmed&gt;" in html


def test_user_supplied_text_is_escaped_on_list_pages():
    viewer = UserFactory(role=Role.MARKETING)
    ContactFactory(first_name="<script>alert(1)</script>", last_name="X")

    html = signed_in(viewer).get(reverse("contacts")).content.decode()

    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


@pytest.mark.parametrize("rows", [3, 30])
def test_the_jobs_page_runs_the_same_queries_whatever_the_number_of_jobs(rows, django_assert_num_queries):
    admin = UserFactory(role=Role.REVOPS_ADMIN)
    for _ in range(rows):
        JobFactory(created_by=UserFactory())
    client = signed_in(admin)

    # Session, user, count, page (with each job's creator joined in).
    with django_assert_num_queries(4):
        client.get(reverse("jobs"))


@pytest.mark.parametrize("rows", [1, 12])
def test_the_tokens_page_runs_the_same_queries_whatever_the_number_of_tokens(rows, django_assert_num_queries):
    user = UserFactory()
    for n in range(rows):
        issue_api_token(user=user, name=f"Token {n}")
    client = signed_in(user)

    with django_assert_num_queries(3):
        client.get(reverse("tokens"))
