"""The real `accord worker` process picks up queued work from the database."""

import os
import subprocess
import sys
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.db import connection
from django.test import override_settings

from accord.accounts.tests.factories import UserFactory
from accord.capture import exports
from accord.capture.tests.factories import ContactFactory
from accord.core.models import Job
from accord.core.permissions import Role

DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


def worker_database_url() -> str:
    """Return a URL the worker process can use to reach this test run's database."""
    name = connection.settings_dict["NAME"]
    if connection.vendor == "sqlite":
        return f"sqlite:///{name}"
    parts = urlsplit(os.environ["ACCORD_DATABASE_URL"])
    return urlunsplit(parts._replace(path=f"/{name}"))


@pytest.mark.django_db(transaction=True)
def test_the_worker_process_runs_a_queued_export_to_completion(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"  # where ACCORD_DATA_DIR puts the worker's files
    marketer = UserFactory(role=Role.MARKETING)
    ContactFactory.create_batch(5)

    with override_settings(TASKS=DB_TASKS):
        job = exports.start_contacts_export(user=marketer)
    assert Job.objects.get(pk=job.pk).status == Job.Status.QUEUED

    env = {
        **os.environ,
        "ACCORD_DATABASE_URL": worker_database_url(),
        "ACCORD_TASKS_IMMEDIATE": "false",
        "ACCORD_DATA_DIR": str(tmp_path),
        "ACCORD_SECRET_KEY": "test-only",
    }
    done = subprocess.run(
        [sys.executable, "-m", "accord.cli", "worker", "--batch"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )

    assert done.returncode == 0, done.stderr
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert job.result["rows"] == 5
    assert exports.export_path(job).exists()
