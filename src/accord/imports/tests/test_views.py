import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accord.accounts.tests.factories import UserFactory
from accord.capture.models import Contact
from accord.core.models import Job
from accord.core.permissions import Role

pytestmark = pytest.mark.django_db


def csv_upload(text: str, name: str = "leads.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


def test_a_marketer_uploads_a_file_and_is_taken_to_its_finished_job(
    client, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(UserFactory(role=Role.MARKETING))

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/imports/",
            {"kind": "contacts", "file": csv_upload("Email,First Name\nada@acme.example,Ada\nbad,Bob\n")},
        )

    job = Job.objects.get(kind="import.contacts")
    assert response.status_code == 302
    assert response["Location"] == f"/jobs/{job.pk}/"
    assert job.title == "Import contacts from leads.csv"
    assert (job.status, job.result["created"], job.result["rejected"]) == ("succeeded", 1, 1)
    page = client.get(f"/jobs/{job.pk}/")
    assert b"Download the error report (CSV)" in page.content
    report = client.get(f"/jobs/{job.pk}/files/errors/")
    assert report.status_code == 200
    assert b"not a valid email" in b"".join(report.streaming_content)


def test_a_sales_rep_may_not_open_the_import_page(client):
    client.force_login(UserFactory(role=Role.SALES_REP))

    assert client.get("/imports/").status_code == 403
    assert client.post("/imports/", {"kind": "contacts", "file": csv_upload("Email\na@b.example\n")}).status_code == 403
    assert Contact.objects.count() == 0


def test_an_empty_file_is_refused_with_a_reason_and_nothing_is_queued(client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(UserFactory(role=Role.MARKETING))

    response = client.post("/imports/", {"kind": "contacts", "file": csv_upload("")})

    assert response.status_code == 422
    assert b"The file is empty" in response.content or b"submitted file is empty" in response.content
    assert Job.objects.count() == 0


def test_a_file_without_an_email_or_id_column_is_refused_as_a_whole(
    client, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(UserFactory(role=Role.MARKETING))

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/imports/", {"kind": "contacts", "file": csv_upload("Name,Phone\nAda,123\n")})

    job = Job.objects.get()
    assert response.status_code == 302
    assert job.status == "failed"
    assert "Email" in job.error or "email" in job.error
    assert Contact.objects.count() == 0


def test_someone_elses_error_report_is_not_found(
    client, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    owner = UserFactory(role=Role.MARKETING)
    client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/imports/", {"kind": "contacts", "file": csv_upload("Email\nbad\n")})
    assert client.get(f"/jobs/{Job.objects.get().pk}/files/errors/").status_code == 200
    job = Job.objects.get()

    client.force_login(UserFactory(role=Role.MARKETING))

    assert client.get(f"/jobs/{job.pk}/files/errors/").status_code == 404
    assert client.get(f"/jobs/{job.pk}/").status_code == 404


def test_a_spreadsheet_or_program_uploaded_as_csv_is_refused_as_not_text(
    client, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(UserFactory(role=Role.MARKETING))
    workbook = SimpleUploadedFile("leads.xlsx", b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00", "application/octet-stream")

    with django_capture_on_commit_callbacks(execute=True):
        client.post("/imports/", {"kind": "contacts", "file": workbook})

    job = Job.objects.get()
    assert job.status == "failed"
    assert "not a text CSV file" in job.error
    assert Contact.objects.count() == 0


def test_a_marketer_imports_a_google_ads_report_chosen_on_the_import_page(
    client, settings, tmp_path, django_capture_on_commit_callbacks
):
    from accord.capture.models import CostEntry
    from accord.capture.tests.factories import CampaignFactory
    from accord.imports.tests.conftest import FILES

    settings.MEDIA_ROOT = tmp_path
    CampaignFactory(name="Spring Search", utm_campaign="spring-search-2026")
    client.force_login(UserFactory(role=Role.MARKETING))
    page = client.get("/imports/")
    upload = SimpleUploadedFile("report.csv", (FILES / "google_ads_campaigns.csv").read_bytes(), content_type="text/csv")

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/imports/", {"kind": "costs", "preset": "google-ads", "file": upload})

    assert b'<option value="google-ads">Google Ads</option>' in page.content
    assert b'<option value="linkedin-ads">LinkedIn Campaign Manager</option>' in page.content
    job = Job.objects.get(kind="import.costs")
    assert response.status_code == 302
    assert (job.status, job.result["preset"], job.result["created"], job.result["rejected"]) == (
        "succeeded", "google-ads", 2, 1,
    )
    assert CostEntry.objects.count() == 2


def test_an_ad_platform_preset_for_a_contacts_file_is_refused_on_the_form(client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(UserFactory(role=Role.MARKETING))

    response = client.post(
        "/imports/", {"kind": "contacts", "preset": "meta-ads", "file": csv_upload("Email\na@b.example\n")}
    )

    assert response.status_code == 422
    assert "holds campaign costs" in response.context["form"].errors["preset"][0]
    assert Job.objects.count() == 0
