import csv

import pytest

from accord.accounts.tests.factories import UserFactory
from accord.capture.models import Contact
from accord.core.errors import PermissionDenied
from accord.core.models import Job
from accord.core.permissions import Role
from accord.imports import services
from accord.imports.tests.conftest import FILES

pytestmark = pytest.mark.django_db


def test_an_import_job_runs_after_commit_and_keeps_its_summary_and_error_report(
    django_capture_on_commit_callbacks, csv_file
):
    marketer = UserFactory(role=Role.MARKETING)
    path = csv_file("Email,First Name\nann@example.org,Ann\nnope,Bob\n")

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        job = services.start_import(user=marketer, kind="contacts", path=path)

    job.refresh_from_db()
    assert len(callbacks) == 1
    assert (job.kind, job.status, job.created_by) == ("import.contacts", Job.Status.SUCCEEDED, marketer)
    assert (job.progress_done, job.progress_total) == (path.stat().st_size, path.stat().st_size)
    assert {k: job.result[k] for k in ("created", "updated", "unchanged", "rejected")} == {
        "created": 1, "updated": 0, "unchanged": 0, "rejected": 1,
    }
    assert job.result["error_report"].endswith(f"job-{job.pk}-errors.csv")
    with open(job.result["error_report"], newline="", encoding="utf-8-sig") as handle:
        assert list(csv.reader(handle))[1][:3] == ["3", "Email", "'nope' is not a valid email address"]
    assert Contact.objects.get().first_name == "Ann"


def test_an_import_job_records_who_ran_it_on_the_stage_transitions(django_capture_on_commit_callbacks):
    marketer = UserFactory(role=Role.MARKETING)
    UserFactory(email="mara@northwind.example")
    UserFactory(first_name="Sam", last_name="Rivera")

    with django_capture_on_commit_callbacks(execute=True):
        services.start_import(user=marketer, kind="contacts", path=FILES / "hubspot_contacts.csv", preset="hubspot")

    assert set(Contact.objects.values_list("stage_transitions__by_user", flat=True)) == {marketer.pk}


def test_a_refused_file_fails_the_job_with_the_reason(django_capture_on_commit_callbacks, csv_file):
    marketer = UserFactory(role=Role.MARKETING)
    path = csv_file("First Name\nAnn\n")

    with django_capture_on_commit_callbacks(execute=True):
        job = services.start_import(user=marketer, kind="contacts", path=path)

    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert job.error.startswith("The file has no column for email")


def test_a_sales_rep_may_not_start_an_import(django_capture_on_commit_callbacks, csv_file):
    rep = UserFactory(role=Role.SALES_REP)
    path = csv_file("Email\nann@example.org\n")

    with pytest.raises(PermissionDenied), django_capture_on_commit_callbacks(execute=True):
        services.start_import(user=rep, kind="contacts", path=path)

    assert Job.objects.count() == 0
    assert Contact.objects.count() == 0
