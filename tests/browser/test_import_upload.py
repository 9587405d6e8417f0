"""A marketer uploads a CSV in the browser, watches the real worker run it, and downloads the error report."""

import csv
import threading

import pytest

from accord.accounts.tests.factories import PASSWORD, UserFactory
from accord.capture.models import Contact
from accord.core.models import Job
from accord.core.permissions import Role
from tests.worker import DB_TASKS, run_worker_until_idle

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FILE = (
    "Email,First Name,Last Name,Lifecycle Stage\n"
    "ada@acme.example,Ada,Lovelace,lead\n"
    "not-an-email,Bob,Broken,lead\n"
    "cy@acme.example,Cy,Young,marketingqualifiedlead\n"
    "dee@acme.example,Dee,Doe,wizard\n"
    "eve@acme.example,Eve,Eager,customer\n"
)


def test_a_marketer_uploads_a_csv_watches_it_run_and_downloads_the_error_report(
    live_server, page, settings, tmp_path, results_dir
):
    settings.TASKS = DB_TASKS  # queue for the real worker instead of running in the request
    settings.MEDIA_ROOT = tmp_path / "media"  # the worker's ACCORD_DATA_DIR/media
    marketer = UserFactory(role=Role.MARKETING)
    upload = tmp_path / "leads.csv"
    upload.write_text(FILE, encoding="utf-8")

    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(marketer.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")
    page.get_by_role("link", name="Import").click()
    page.get_by_label("What the file holds").select_option("contacts")
    page.get_by_label("CSV file").set_input_files(str(upload))
    page.get_by_role("button", name="Start import").click()

    job = Job.objects.get(kind="import.contacts")
    page.wait_for_url(f"{live_server.url}/jobs/{job.pk}/")
    assert page.locator(".job-progress .badge").inner_text() == "Queued"

    worker = threading.Thread(target=run_worker_until_idle, kwargs={"data_dir": tmp_path})
    worker.start()
    # The page polls the job and reloads itself once it has finished.
    download_link = page.get_by_role("link", name="Download the error report (CSV)")
    download_link.wait_for(timeout=60_000)
    worker.join(timeout=120)
    assert page.locator(".job-progress .badge").inner_text() == "Succeeded"
    page.screenshot(path=str(results_dir / "import-finished.png"), full_page=True)

    with page.expect_download() as download_info:
        download_link.click()
    # The report carries a BOM so Excel opens it as UTF-8.
    report = download_info.value.path().read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(report.splitlines()))

    assert [(row["row"], row["column"]) for row in rows] == [("3", "Email"), ("5", "Lifecycle Stage")]
    assert sorted(Contact.objects.values_list("email", flat=True)) == [
        "ada@acme.example", "cy@acme.example", "eve@acme.example",
    ]
    assert page.console_errors == []
