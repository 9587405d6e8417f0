"""Background entry points for imports: load by id, call the service."""

from __future__ import annotations

from django.tasks import task

from accord.core.services import run_job
from accord.imports import services


@task()
def run_import_job(*, job_id: int) -> None:
    run_job(job_id=job_id, work=services.run_import_work)
