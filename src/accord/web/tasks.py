"""Background entry points for the shell: load by id, call the work."""

from __future__ import annotations

from django.tasks import task

from accord.core.services import run_job
from accord.web import exports


@task()
def export_list(*, job_id: int) -> None:
    run_job(job_id=job_id, work=exports.write_list_export)
