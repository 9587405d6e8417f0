"""A rep filters their contacts in the browser, exports them, and the real worker writes the file."""

import csv
import threading

import pytest

from accord.accounts.tests.factories import PASSWORD, UserFactory
from accord.capture.tests.factories import ContactFactory
from accord.core.models import Job
from accord.core.permissions import Role
from tests.worker import DB_TASKS, run_worker_until_idle

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_rep_exports_the_filtered_list_they_see_every_page_of_it_and_no_one_elses(
    live_server, page, settings, tmp_path, results_dir
):
    settings.TASKS = DB_TASKS
    settings.MEDIA_ROOT = tmp_path / "media"
    rep = UserFactory(role=Role.SALES_REP)
    mine = ContactFactory.create_batch(60, owner=rep, lifecycle_stage="mql")  # more than one page
    ContactFactory.create_batch(3, owner=rep, lifecycle_stage="lead")
    ContactFactory.create_batch(3, owner=UserFactory(role=Role.SALES_REP), lifecycle_stage="mql")

    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(rep.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")
    page.get_by_role("link", name="Contacts", exact=True).click()
    # The filter swaps the results in place (htmx); the export button comes with them.
    page.get_by_label("Stage").select_option("mql")
    page.wait_for_url("**/contacts/?stage=mql*")
    page.locator('form[data-testid="export-form"][action^="/exports/contacts/?stage=mql"]').wait_for()
    page.get_by_role("button", name="Export CSV").click()

    job = Job.objects.get(kind="export.contacts")
    page.wait_for_url(f"{live_server.url}/jobs/{job.pk}/")
    worker = threading.Thread(target=run_worker_until_idle, kwargs={"data_dir": tmp_path})
    worker.start()
    download_link = page.get_by_role("link", name="Download the export (CSV)")
    download_link.wait_for(timeout=60_000)
    worker.join(timeout=120)
    page.screenshot(path=str(results_dir / "export-finished.png"), full_page=True)

    with page.expect_download() as download_info:
        download_link.click()
    rows = list(csv.DictReader(download_info.value.path().read_text(encoding="utf-8-sig").splitlines()))

    assert download_info.value.suggested_filename == f"contacts-{job.pk}.csv"
    assert sorted(int(row["ID"]) for row in rows) == sorted(contact.pk for contact in mine)
    assert {row["Stage"] for row in rows} == {"Marketing qualified (MQL)"}
    assert page.console_errors == []
