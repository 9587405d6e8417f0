"""Writes on the shared Job table: start, report progress, finish.

Progress writes are throttled (at most one per `min_interval` seconds) so a loop over a
million rows can report on every row without turning into a million UPDATEs.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone

from accord.core.errors import AccordError
from accord.core.models import Job

logger = logging.getLogger(__name__)


def create_job(*, kind: str, title: str, created_by=None, params: dict | None = None,
               total: int | None = None) -> Job:
    return Job.objects.create(
        kind=kind, title=title, created_by=created_by, params=params or {}, progress_total=total
    )


def start_job(*, job: Job, total: int | None = None, message: str = "") -> Job:
    job.status = Job.Status.RUNNING
    job.started_at = timezone.now()
    job.progress_total = total if total is not None else job.progress_total
    job.message = message
    job.save(update_fields=["status", "started_at", "progress_total", "message"])
    return job


class ProgressReporter:
    """Record a job's progress as work goes on, writing at most every `min_interval` seconds."""

    def __init__(self, job: Job, *, min_interval: float = 0.5) -> None:
        self.job = job
        self.min_interval = min_interval
        self._last_write = 0.0

    def update(self, *, done: int, total: int | None = None, message: str | None = None,
               force: bool = False) -> None:
        self.job.progress_done = done
        if total is not None:
            self.job.progress_total = total
        if message is not None:
            self.job.message = message[:500]
        now = time.monotonic()
        if force or now - self._last_write >= self.min_interval:
            self._last_write = now
            # Jobs run outside any request transaction, so this commits at once and watchers
            # see progress while the work goes on.
            with transaction.atomic():
                Job.objects.filter(pk=self.job.pk).update(
                    progress_done=self.job.progress_done,
                    progress_total=self.job.progress_total,
                    message=self.job.message,
                )


def finish_job(*, job: Job, result: dict[str, Any] | None = None, message: str = "") -> Job:
    job.status = Job.Status.SUCCEEDED
    job.finished_at = timezone.now()
    job.result = result or {}
    if job.progress_total is not None:
        job.progress_done = job.progress_total
    job.message = message or job.message
    job.save(update_fields=["status", "finished_at", "result", "progress_done", "message"])
    return job


def fail_job(*, job: Job, error: str) -> Job:
    job.status = Job.Status.FAILED
    job.finished_at = timezone.now()
    job.error = error
    job.save(update_fields=["status", "finished_at", "error"])
    return job


def run_job(*, job_id: int, work: Callable[[Job, ProgressReporter], dict[str, Any] | None]) -> Job:
    """Run `work` for a queued job, recording start, progress, result or failure.

    Idempotent: a task delivered twice (a worker killed after finishing, then retried)
    finds the job finished and does nothing.
    """
    job = Job.objects.get(pk=job_id)
    if job.is_finished:
        return job
    start_job(job=job)
    try:
        result = work(job, ProgressReporter(job))
    except AccordError as error:
        # Refused input (a file with no email column, say): the person needs the reason,
        # not a class name, and the operators need no traceback.
        logger.info("job %s (%s) refused: %s", job.pk, job.kind, error.message)
        fail_job(job=job, error=error.message)
        return job
    except Exception as error:
        logger.exception("job %s (%s) failed", job.pk, job.kind)
        fail_job(job=job, error=f"{type(error).__name__}: {error}")
        return job
    return finish_job(job=job, result=result or {})
