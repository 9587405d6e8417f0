"""The real `accord worker` process picks up queued work from the database."""

import pytest
from django.test import override_settings

from accord.accounts.tests.factories import UserFactory
from accord.capture.tests.factories import ContactFactory
from accord.core.models import Job
from accord.core.permissions import Role
from accord.web import exports
from tests.worker import DB_TASKS, run_worker_until_idle


@pytest.mark.django_db(transaction=True)
def test_the_worker_process_runs_a_queued_export_to_completion(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"  # where ACCORD_DATA_DIR puts the worker's files
    marketer = UserFactory(role=Role.MARKETING)
    ContactFactory.create_batch(5)

    with override_settings(TASKS=DB_TASKS):
        job = exports.start_list_export(user=marketer, list_name="contacts", params={})
    assert Job.objects.get(pk=job.pk).status == Job.Status.QUEUED

    done = run_worker_until_idle(data_dir=tmp_path)

    assert done.returncode == 0, done.stderr
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert job.result["rows"] == 5
    assert exports.export_path(job).exists()
