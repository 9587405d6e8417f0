"""Background entry points for personal data."""

from __future__ import annotations

from django.conf import settings
from django.tasks import task

from accord.privacy import services


@task()
def purge_expired_files() -> dict:
    """Delete uploads, error reports and exports past ACCORD_FILE_RETENTION_DAYS; config/schedule.py runs it hourly."""
    days = settings.ACCORD_FILE_RETENTION_DAYS
    if not days:
        return {"deleted": 0, "retention_days": None}
    return {"deleted": services.purge_expired_files(days=days), "retention_days": days}
