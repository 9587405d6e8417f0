"""Personal data in stored files: an erasure deletes the files that name the person, and files expire."""

import os
import time

import pytest

from accord.core.errors import ValidationFailed
from accord.core.models import Job
from accord.core.services import create_job
from accord.privacy import files, services, tasks
from accord.privacy.models import Erasure
from accord.privacy.tests.conftest import EMAIL

pytestmark = pytest.mark.django_db


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    for folder in ("uploads/3f2a", "uploads/9c1d", "imports", "exports"):
        (settings.MEDIA_ROOT / folder).mkdir(parents=True)
    return settings.MEDIA_ROOT


def write(path, text: str, encoding: str = "utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


@pytest.fixture
def erase(django_capture_on_commit_callbacks):
    def run(person, **kwargs):
        kwargs.setdefault("confirm", EMAIL)
        with django_capture_on_commit_callbacks(execute=True):  # the files go when the erasure commits
            return services.erase_contact(contact_id=person.contact.pk, by=person.admin, **kwargs)
    return run


def test_an_erasure_deletes_every_stored_file_that_names_the_person_and_keeps_the_others(person, media, erase):
    # given an upload in UTF-16 with the email in capitals, an error report and an export naming Dana,
    # and an upload and an export about someone else
    upload = write(media / "uploads/3f2a/hubspot.csv", f"Email,First Name\r\n{EMAIL.upper()},Dana\r\n", "utf-16-le")
    report = write(media / "imports/job-4-errors.csv", "row,column,message,phone\n7,email,invalid,+1 555 0100\n")
    export = write(media / "exports/job-9.csv", "Name,Email\nDana Reyes,x@y.example\n")
    other_upload = write(media / "uploads/9c1d/leads.csv", "Email,First Name\nsam.other@elsewhere.example,Dana\n")
    other_export = write(media / "exports/job-10.csv", "Name,Email\nSam Other,sam.other@elsewhere.example\n")

    erasure = erase(person)

    assert not upload.exists() and not report.exists() and not export.exists()
    assert not (media / "uploads/3f2a").exists()  # the upload's own folder goes with it
    assert other_upload.read_text().startswith("Email")  # a first name alone deletes nothing
    assert other_export.exists()
    assert erasure.counts["files"] == 3


def test_a_refused_erasure_deletes_no_file(person, media, erase):
    upload = write(media / "uploads/3f2a/leads.csv", f"Email\n{EMAIL}\n")

    with pytest.raises(ValidationFailed):
        erase(person, confirm="not-the-email")

    assert upload.exists()
    assert not Erasure.objects.exists()


def test_a_name_split_across_a_chunk_boundary_is_still_found(media, monkeypatch):
    monkeypatch.setattr(files, "CHUNK", 16)
    path = write(media / "exports/job-1.csv", "x" * 13 + "dana.reyes@smallco.example,1\n")

    assert files.files_naming([EMAIL]) == [path]
    assert files.files_naming(["someone.else@example.com"]) == []


def test_files_past_the_retention_period_are_deleted_except_an_upload_a_running_import_reads(person, media):
    # given three files written 31 days ago, one of them the source of a running import, and a new export
    old_upload = write(media / "uploads/3f2a/a.csv", "Email\na@b.example\n")
    running_upload = write(media / "uploads/9c1d/b.csv", "Email\nc@d.example\n")
    old_export = write(media / "exports/job-1.csv", "Email\na@b.example\n")
    new_export = write(media / "exports/job-2.csv", "Email\na@b.example\n")
    month_ago = time.time() - 31 * 86_400
    for path in (old_upload, running_upload, old_export):
        os.utime(path, (month_ago, month_ago))
    job = create_job(kind="import.contacts", title="Import b.csv", params={"path": str(running_upload)})
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING)

    deleted = services.purge_expired_files(days=30)

    assert deleted == 2
    assert not old_upload.exists() and not old_export.exists()
    assert running_upload.exists() and new_export.exists()


def test_the_hourly_purge_keeps_every_file_when_retention_is_zero(settings, media):
    path = write(media / "exports/job-1.csv", "Email\na@b.example\n")
    os.utime(path, (0, 0))
    settings.ACCORD_FILE_RETENTION_DAYS = 0

    assert tasks.purge_expired_files.call() == {"deleted": 0, "retention_days": None}
    assert path.exists()

    settings.ACCORD_FILE_RETENTION_DAYS = 30
    assert tasks.purge_expired_files.call() == {"deleted": 1, "retention_days": 30}
    assert not path.exists()
