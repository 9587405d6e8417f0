"""Reads on the shared Job table, scoped to the viewer."""

from __future__ import annotations

from django.db.models import QuerySet

from accord.core.errors import NotFound
from accord.core.models import Job
from accord.core.permissions import Action, can


def jobs_visible_to(*, user) -> QuerySet[Job]:
    """Return the jobs a user may watch: their own, or all of them for a revenue-ops admin."""
    jobs = Job.objects.select_related("created_by")
    if can(user, Action.USE_ADMIN):
        return jobs
    return jobs.filter(created_by=user)


def job_for(*, user, job_id: int) -> Job:
    try:
        return jobs_visible_to(user=user).get(pk=job_id)
    except Job.DoesNotExist:
        raise NotFound(f"No job {job_id}.") from None
