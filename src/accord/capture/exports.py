"""CSV exports of record lists, run as background jobs with progress.

Rows stream from the database in chunks and straight to the file, so memory does not
grow with the list; the file lands in MEDIA_ROOT/exports and only the job's owner
(or a revenue-ops admin) may download it.
"""

from __future__ import annotations

import csv
from functools import partial
from pathlib import Path

from django.conf import settings
from django.db import transaction

from accord.capture.selectors import contacts_visible_to
from accord.core.models import Job
from accord.core.permissions import Action, require
from accord.core.services import ProgressReporter, create_job

CONTACT_COLUMNS = (
    "id", "email", "first_name", "last_name", "title", "seniority", "account",
    "lifecycle_stage", "lead_source", "owner", "country", "score", "created_at",
)
CONTACT_FILTERS = frozenset({"lifecycle_stage", "owner_id", "lead_source", "account_id"})


def start_contacts_export(*, user, filters: dict[str, str] | None = None) -> Job:
    """Queue an export of the contacts the user may see, narrowed by the given filters."""
    require(user, Action.VIEW_RECORDS)
    filters = {k: v for k, v in (filters or {}).items() if k in CONTACT_FILTERS and v}
    from accord.capture.tasks import export_contacts

    with transaction.atomic():
        job = create_job(
            kind="export.contacts", title="Export contacts to CSV", created_by=user,
            params={"filters": filters},
        )
        transaction.on_commit(partial(export_contacts.enqueue, job_id=job.pk))
    return job


def export_path(job: Job) -> Path:
    return Path(settings.MEDIA_ROOT) / "exports" / f"job-{job.pk}.csv"


def write_contacts_export(job: Job, progress: ProgressReporter) -> dict:
    contacts = (
        contacts_visible_to(user=job.created_by)
        .filter(**job.params.get("filters", {}))
        .select_related("account", "owner")
        .order_by("id")
    )
    total = contacts.count()
    progress.update(done=0, total=total, message="Writing rows", force=True)
    path = export_path(job)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial_path = path.with_suffix(".part")
    done = 0
    with partial_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CONTACT_COLUMNS)
        for contact in contacts.iterator(chunk_size=2000):
            writer.writerow([
                contact.pk, contact.email or "", contact.first_name, contact.last_name,
                contact.title, contact.seniority, contact.account.name if contact.account else "",
                contact.lifecycle_stage, contact.lead_source,
                contact.owner.username if contact.owner else "", contact.country, contact.score,
                contact.created_at.isoformat(),
            ])
            done += 1
            if done % 1000 == 0:
                progress.update(done=done)
    # Rename last, so a download never sees a half-written file.
    partial_path.replace(path)
    return {"rows": done, "file": str(path.relative_to(settings.MEDIA_ROOT))}
