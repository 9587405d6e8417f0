"""Writes on the shared Job table: start, report progress, finish.

Progress writes are throttled (at most one per `min_interval` seconds) so a loop over a
million rows can report on every row without turning into a million UPDATEs.
"""

from __future__ import annotations

import time
from typing import Any

from django.db import transaction
from django.utils import timezone

from accord.core.models import Job


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
            # Outside any caller transaction: watchers must see progress while work runs.
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
