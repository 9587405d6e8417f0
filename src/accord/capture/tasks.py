"""Background entry points for capture: load by id, call the service."""

from __future__ import annotations

from django.tasks import task

from accord.capture import exports
from accord.core.services import run_job


@task()
def export_contacts(*, job_id: int) -> None:
    run_job(job_id=job_id, work=exports.write_contacts_export)
