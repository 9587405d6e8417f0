"""CSV exports of the list pages: what the viewer sees, every page of it, as a background job."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from accord.accounts.tests.factories import TeamFactory, UserFactory
from accord.accounts.tests.test_api_client import api_as, errors_of
from accord.capture.models import Campaign
from accord.capture.tests.factories import (
    AccountFactory,
    CampaignFactory,
    ContactFactory,
    CostEntryFactory,
)
from accord.core.models import Job
from accord.core.permissions import Role
from accord.core.services import ProgressReporter
from accord.deals.tests.factories import DealFactory, PipelineStageFactory
from accord.web import exports
from accord.web.tasks import export_list

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def read_rows(job) -> list[dict[str, str]]:
    with exports.export_path(job).open(newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def export(user, list_name: str, params: dict | None = None, *, capture) -> Job:
    with capture(execute=True):
        job = exports.start_list_export(user=user, list_name=list_name, params=params or {})
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error
    return job


def signed_in(client, user):
    client.force_login(user)
    return client


# The exporter ---------------------------------------------------------------------------


def test_a_contacts_export_runs_after_commit_and_writes_every_visible_contact_across_pages(
    django_capture_on_commit_callbacks,
):
    ContactFactory.create_batch(120)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        job = exports.start_list_export(user=UserFactory(role=Role.MARKETING), list_name="contacts", params={})

    job.refresh_from_db()
    assert len(callbacks) == 1
    assert (job.kind, job.status, job.result["rows"]) == ("export.contacts", Job.Status.SUCCEEDED, 120)
    assert (job.progress_done, job.progress_total) == (120, 120)
    assert len(read_rows(job)) == 120


def test_a_contacts_export_has_the_pages_headers_labels_and_iso_dates(django_capture_on_commit_callbacks):
    owner = UserFactory(first_name="Sam", last_name="Rivera")
    contact = ContactFactory(
        first_name="Ada", last_name="Byron", email="ada@acme.example", owner=owner,
        account=AccountFactory(name="Acme"), lifecycle_stage="mql", lead_source="paid_search",
        score=42, country="GB",
    )

    job = export(UserFactory(role=Role.MARKETING), "contacts", capture=django_capture_on_commit_callbacks)

    [row] = read_rows(job)
    assert list(row) == [
        "ID", "First name", "Last name", "Email", "Title", "Company", "Stage", "Owner", "Source",
        "Score", "Country", "Created",
    ]
    assert row["ID"] == str(contact.pk)
    assert (row["Company"], row["Stage"], row["Owner"], row["Score"]) == ("Acme", "Marketing qualified (MQL)", "Sam Rivera", "42")
    assert row["Source"] == contact.get_lead_source_display()
    assert dt.datetime.fromisoformat(row["Created"]) == contact.created_at


def test_an_export_holds_the_pages_filters_and_order_and_ignores_the_page_number(
    django_capture_on_commit_callbacks,
):
    marketer = UserFactory(role=Role.MARKETING)
    low = ContactFactory(lifecycle_stage="mql", score=10)
    high = ContactFactory(lifecycle_stage="mql", score=90)
    ContactFactory(lifecycle_stage="lead", score=99)

    job = export(marketer, "contacts", {"stage": "mql", "sort": "score", "page": "3"},
                 capture=django_capture_on_commit_callbacks)

    assert job.params == {"list": "contacts", "filters": {"stage": "mql", "sort": "score"}}
    assert [row["ID"] for row in read_rows(job)] == [str(high.pk), str(low.pk)]


def test_a_reps_export_holds_only_their_own_contacts(django_capture_on_commit_callbacks):
    rep, other_rep = UserFactory(role=Role.SALES_REP), UserFactory(role=Role.SALES_REP)
    mine = ContactFactory(owner=rep)
    ContactFactory(owner=other_rep)
    ContactFactory(owner=None)

    job = export(rep, "contacts", capture=django_capture_on_commit_callbacks)

    assert [row["Email"] for row in read_rows(job)] == [mine.email]


def test_a_managers_deal_export_holds_their_teams_deals_with_stage_money_and_probability(
    django_capture_on_commit_callbacks,
):
    team = TeamFactory()
    manager = UserFactory(role=Role.SALES_MANAGER, team=team)
    stage = PipelineStageFactory(name="Proposal", probability="0.600")
    deal = DealFactory(name="Acme renewal", owner=UserFactory(team=team), stage=stage, amount=Decimal("12500.50"),
                       currency="EUR", close_date=dt.date(2026, 6, 30))
    DealFactory(owner=UserFactory(team=TeamFactory()))

    job = export(manager, "deals", capture=django_capture_on_commit_callbacks)

    [row] = read_rows(job)
    assert (row["ID"], row["Deal"], row["Stage"], row["Status"]) == (str(deal.pk), "Acme renewal", "Proposal", "Open")
    assert (row["Closes"], row["Probability"], row["Amount"], row["Currency"]) == ("2026-06-30", "60%", "12500.50", "EUR")


def test_a_campaign_export_shows_budget_and_spend_with_their_currency(django_capture_on_commit_callbacks):
    campaign = CampaignFactory(name="Spring", budget=Decimal("5000"), currency="GBP", status=Campaign.Status.ACTIVE)
    CostEntryFactory(campaign=campaign, amount=Decimal("120.25"))
    CostEntryFactory(campaign=campaign, amount=Decimal("79.75"), date=dt.date(2026, 1, 2))
    CampaignFactory(status=Campaign.Status.PLANNED)

    job = export(UserFactory(role=Role.SALES_REP), "campaigns", {"status": "active"},
                 capture=django_capture_on_commit_callbacks)

    [row] = read_rows(job)
    assert (row["Campaign"], row["Status"], row["Budget"], row["Spent"], row["Currency"]) == (
        "Spring", "Active", "5000.00", "200.00", "GBP"
    )


def test_a_duplicates_export_numbers_each_group_of_one_person(django_capture_on_commit_callbacks):
    account = AccountFactory(domain="acme.example")
    first = ContactFactory(first_name="Ada", last_name="Byron", account=account, email="ada@acme.example")
    second = ContactFactory(first_name="ada", last_name="byron", account=account, email="a.byron@acme.example")
    ContactFactory(first_name="Grace", last_name="Hopper", account=account)

    job = export(UserFactory(role=Role.MARKETING), "duplicates", capture=django_capture_on_commit_callbacks)

    assert [(row["Group"], row["Contact ID"]) for row in read_rows(job)] == [
        ("1", str(first.pk)), ("1", str(second.pk))
    ]


def test_a_jobs_export_lists_only_the_viewers_jobs(django_capture_on_commit_callbacks):
    marketer = UserFactory(role=Role.MARKETING)
    other = UserFactory(role=Role.MARKETING)
    exports.start_list_export(user=other, list_name="campaigns", params={})

    job = export(marketer, "jobs", capture=django_capture_on_commit_callbacks)

    assert [row["Job"] for row in read_rows(job)] == ["Export background jobs to CSV"]


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("=HYPERLINK(\"http://evil.example\",\"x\")", "'=HYPERLINK(\"http://evil.example\",\"x\")"),
        ("+1 555 0100", "'+1 555 0100"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("Ada", "Ada"),
    ],
)
def test_cells_a_spreadsheet_would_run_as_formulas_are_written_as_text(
    text, written, django_capture_on_commit_callbacks
):
    ContactFactory(first_name=text)

    job = export(UserFactory(role=Role.MARKETING), "contacts", capture=django_capture_on_commit_callbacks)

    assert read_rows(job)[0]["First name"] == written


@pytest.mark.parametrize("rows", [5, 60])
def test_writing_an_export_runs_the_same_queries_whatever_the_number_of_rows(rows, django_assert_num_queries):
    for _ in range(rows):
        ContactFactory(owner=UserFactory(), account=AccountFactory())
    marketer = UserFactory(role=Role.MARKETING)
    job = exports.start_list_export(user=marketer, list_name="contacts", params={})
    job = Job.objects.select_related("created_by").get(pk=job.pk)

    # The people to filter by (the page's form), the count, the progress write (in a savepoint
    # here, inside the test's transaction: three statements), the rows.
    with django_assert_num_queries(6):
        result = exports.write_list_export(job, ProgressReporter(job))

    assert result["rows"] == rows


def test_a_job_delivered_twice_runs_once(django_capture_on_commit_callbacks):
    ContactFactory()
    job = export(UserFactory(role=Role.MARKETING), "contacts", capture=django_capture_on_commit_callbacks)
    finished_at = job.finished_at

    export_list.call(job_id=job.pk)

    job.refresh_from_db()
    assert job.finished_at == finished_at


def test_a_rep_may_not_export_the_imports_list_and_nothing_is_queued():
    from accord.core.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        exports.start_list_export(user=UserFactory(role=Role.SALES_REP), list_name="imports", params={})

    assert Job.objects.count() == 0


# The pages ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url_name", "list_name"),
    [
        ("contacts", "contacts"), ("accounts", "accounts"), ("campaigns", "campaigns"), ("deals", "deals"),
        ("contact-duplicates", "duplicates"), ("capture-sources", "capture-sources"), ("jobs", "jobs"),
        ("imports", "imports"),
    ],
)
def test_every_list_page_offers_an_export_of_its_rows(client, url_name, list_name):
    admin = UserFactory(role=Role.REVOPS_ADMIN)
    account = AccountFactory(domain="acme.example")
    ContactFactory(first_name="Ada", last_name="Byron", account=account)
    ContactFactory(first_name="Ada", last_name="Byron", account=account)
    DealFactory()
    CampaignFactory()
    from accord.capture.services import create_capture_source

    create_capture_source(by=admin, name="Website")
    Job.objects.create(kind="import.contacts", title="Import contacts", created_by=admin)

    page = signed_in(client, admin).get(reverse(url_name))

    assert page.status_code == 200
    assert f'action="/exports/{list_name}/' in page.content.decode()


def test_the_export_button_carries_the_current_filters_but_not_the_page(client):
    ContactFactory.create_batch(2, lifecycle_stage="mql")
    client = signed_in(client, UserFactory(role=Role.MARKETING))

    fragment = client.get(reverse("contacts"), {"stage": "mql", "page": "1"}, headers={"HX-Request": "true"})

    assert 'action="/exports/contacts/?stage=mql"' in fragment.content.decode()


def test_exporting_from_the_page_queues_a_job_whose_page_offers_the_download(
    client, django_capture_on_commit_callbacks
):
    ContactFactory(lifecycle_stage="mql", email="ada@acme.example")
    ContactFactory(lifecycle_stage="lead")
    client = signed_in(client, UserFactory(role=Role.MARKETING))

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/exports/contacts/?stage=mql")

    job = Job.objects.get(kind="export.contacts")
    assert response.status_code == 302
    assert response["Location"] == f"/jobs/{job.pk}/"
    assert b"Download the export (CSV)" in client.get(response["Location"]).content
    download = client.get(f"/jobs/{job.pk}/files/export/")
    assert download["Content-Disposition"] == f'attachment; filename="contacts-{job.pk}.csv"'
    rows = list(csv.DictReader(io.StringIO(b"".join(download.streaming_content).decode("utf-8-sig"))))
    assert [row["Email"] for row in rows] == ["ada@acme.example"]


def test_another_user_cannot_download_someone_elses_export(client, django_capture_on_commit_callbacks):
    ContactFactory()
    job = export(UserFactory(role=Role.MARKETING), "contacts", capture=django_capture_on_commit_callbacks)

    response = signed_in(client, UserFactory(role=Role.MARKETING)).get(f"/jobs/{job.pk}/files/export/")

    assert response.status_code == 404


def test_an_export_is_started_only_by_post_and_an_unknown_list_is_not_found(client):
    client = signed_in(client, UserFactory(role=Role.MARKETING))

    assert client.get("/exports/contacts/").status_code == 405
    assert client.post("/exports/nothing/").status_code == 404
    assert Job.objects.count() == 0


# The API --------------------------------------------------------------------------------


def test_the_api_starts_an_export_with_filters_and_serves_its_file(django_capture_on_commit_callbacks):
    rep = UserFactory(role=Role.SALES_REP)
    ContactFactory(owner=rep, lifecycle_stage="mql", email="mine@acme.example")
    ContactFactory(owner=rep, lifecycle_stage="lead")
    ContactFactory(lifecycle_stage="mql")
    api = api_as(rep)

    with django_capture_on_commit_callbacks(execute=True):
        started = api.post("/exports", {"list": "contacts", "filters": {"stage": "mql"}})
    status = api.get(f"/exports/{started.json()['id']}")
    download = api.get(f"/exports/{started.json()['id']}/file")

    assert started.status_code == 202
    assert (started.json()["list"], started.json()["filters"], started.json()["status"]) == (
        "contacts", {"stage": "mql"}, "queued"
    )
    assert (status.json()["status"], status.json()["rows"]) == ("succeeded", 1)
    assert status.json()["file_url"] == f"/api/v1/exports/{started.json()['id']}/file"
    rows = list(csv.DictReader(io.StringIO(b"".join(download.streaming_content).decode("utf-8-sig"))))
    assert [row["Email"] for row in rows] == ["mine@acme.example"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"list": "contacts", "filters": {"colour": "red"}}, "filters.colour"),
        ({"list": "contacts", "filters": {"stage": "nonsense"}}, "filters.stage"),
        ({"list": "everything"}, "list"),
    ],
)
def test_the_api_refuses_an_unknown_list_filter_or_value_naming_it(body, field):
    response = api_as(UserFactory(role=Role.MARKETING)).post("/exports", body)

    assert response.status_code == 422
    assert [name for name, _ in errors_of(response)] == [field]
    assert Job.objects.count() == 0


def test_the_api_refuses_an_export_the_role_may_not_make_and_hides_others_exports():
    marketer_export = exports.start_list_export(user=UserFactory(role=Role.MARKETING), list_name="contacts", params={})
    api = api_as(UserFactory(role=Role.SALES_REP))

    refused = api.post("/exports", {"list": "imports"})
    hidden = api.get(f"/exports/{marketer_export.pk}")

    assert refused.status_code == 403
    assert errors_of(refused) == [(None, "forbidden")]
    assert hidden.status_code == 404
    assert Job.objects.count() == 1


def test_an_export_whose_file_was_deleted_says_why_instead_of_offering_the_download(
    client, django_capture_on_commit_callbacks
):
    ContactFactory(email="ada@acme.example")
    user = UserFactory(role=Role.MARKETING)
    job = export(user, "contacts", capture=django_capture_on_commit_callbacks)
    exports.export_path(job).unlink()  # as the retention purge or an erasure does

    page = signed_in(client, user).get(f"/jobs/{job.pk}/").content.decode()

    assert "Download the export (CSV)" not in page
    assert "no longer kept: files are deleted 30 days after they are written" in page
    assert signed_in(client, user).get(f"/jobs/{job.pk}/files/export/").status_code == 404
