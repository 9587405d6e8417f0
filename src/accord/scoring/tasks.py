"""Background entry points for scoring: load the job by id, call the service."""

from __future__ import annotations

from django.tasks import task

from accord.core.services import run_job
from accord.scoring import services


@task()
def train_predictive_model(*, job_id: int) -> None:
    run_job(job_id=job_id, work=services.run_training_job)


@task()
def rescore_contacts(*, job_id: int) -> None:
    run_job(job_id=job_id, work=services.run_rescore_job)
