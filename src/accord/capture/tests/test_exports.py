import csv

import pytest

from accord.accounts.tests.factories import UserFactory
from accord.capture import exports
from accord.capture.tests.factories import ContactFactory
from accord.core.models import Job
from accord.core.permissions import Role

pytestmark = pytest.mark.django_db


def read_rows(job):
    with exports.export_path(job).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_a_contacts_export_runs_after_commit_and_writes_every_visible_contact(
    django_capture_on_commit_callbacks, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    marketer = UserFactory(role=Role.MARKETING)
    ContactFactory.create_batch(3)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        job = exports.start_contacts_export(user=marketer)

    job.refresh_from_db()
    assert len(callbacks) == 1
    assert job.status == Job.Status.SUCCEEDED
    assert job.result["rows"] == 3
    assert (job.progress_done, job.progress_total) == (3, 3)
    assert len(read_rows(job)) == 3


def test_a_reps_export_holds_only_their_own_contacts(
    django_capture_on_commit_callbacks, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    rep, other_rep = UserFactory(role=Role.SALES_REP), UserFactory(role=Role.SALES_REP)
    mine = ContactFactory(owner=rep)
    ContactFactory(owner=other_rep)

    with django_capture_on_commit_callbacks(execute=True):
        job = exports.start_contacts_export(user=rep)

    job.refresh_from_db()
    assert [row["email"] for row in read_rows(job)] == [mine.email]


def test_a_job_delivered_twice_runs_once(django_capture_on_commit_callbacks, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    marketer = UserFactory(role=Role.MARKETING)
    ContactFactory()
    with django_capture_on_commit_callbacks(execute=True):
        job = exports.start_contacts_export(user=marketer)
    job.refresh_from_db()
    finished_at = job.finished_at

    from accord.capture.tasks import export_contacts

    export_contacts.call(job_id=job.pk)

    job.refresh_from_db()
    assert job.finished_at == finished_at
