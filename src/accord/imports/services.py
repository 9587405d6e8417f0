"""Start imports as background jobs, or run them in the calling process (CLI, tasks)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction

from accord.core.models import Job
from accord.core.permissions import Action, require
from accord.core.services import ProgressReporter, create_job
from accord.imports.contacts import ContactImporter
from accord.imports.engine import Importer, ImportProgress, ImportSummary, run_import
from accord.imports.presets import KINDS, PRESETS
from accord.imports.reading import ImportRefused
from accord.imports.records import AccountImporter, CostImporter, DealImporter, TouchpointImporter

IMPORTERS: dict[str, type[Importer]] = {
    "contacts": ContactImporter,
    "accounts": AccountImporter,
    "deals": DealImporter,
    "touchpoints": TouchpointImporter,
    "costs": CostImporter,
}


def import_file(
    *,
    kind: str,
    path: Path | str,
    by=None,
    preset: str | None = None,
    mapping: list[str] | dict[str, str] | None = None,
    encoding: str | None = None,
    dry_run: bool = False,
    on_progress: Callable[[ImportProgress], None] | None = None,
    report_path: Path | None = None,
    fast_path: bool = True,
) -> ImportSummary:
    """Import a CSV file of `kind` now, chunk by chunk, and return what it did.

    Raise ImportRefused, writing nothing, when the file cannot be imported at all (unreadable,
    unknown preset, a required column missing). Rows that fail their checks are rejected
    one by one and listed in the summary and the error report; the good rows still land.
    A dry run checks everything against the database and writes nothing to it.
    `fast_path=False` takes every row through the per-row checks (the fast path's results
    are the same; see contacts_fast.py).
    """
    return run_import(
        importers=IMPORTERS, kind=kind, path=path, by=by, preset=preset, mapping=mapping,
        encoding=encoding, dry_run=dry_run, on_progress=on_progress, report_path=report_path,
        fast_path=fast_path,
    )


def start_import(
    *,
    user,
    kind: str,
    path: Path | str,
    preset: str | None = None,
    mapping: dict[str, str] | None = None,
    encoding: str | None = None,
) -> Job:
    """Queue an import of a file already on the server; the job shows its progress and result."""
    require(user, Action.IMPORT_DATA)
    if kind not in KINDS:
        raise ImportRefused(f"Unknown import kind {kind!r}; choose one of: {', '.join(KINDS)}.")
    if preset is not None and preset not in PRESETS:
        raise ImportRefused(f"Unknown preset {preset!r}; choose one of: {', '.join(PRESETS)}.")
    if not Path(path).is_file():
        raise ImportRefused(f"There is no file at {path}.")
    from accord.imports.tasks import run_import_job

    with transaction.atomic():
        job = create_job(
            kind=f"import.{kind}",
            title=f"Import {kind} from {Path(path).name}",
            created_by=user,
            params={
                "kind": kind, "path": str(path), "preset": preset, "mapping": mapping or {},
                "encoding": encoding,
            },
        )
        transaction.on_commit(partial(run_import_job.enqueue, job_id=job.pk))
    return job


def error_report_path(job: Job) -> Path:
    return Path(settings.MEDIA_ROOT) / "imports" / f"job-{job.pk}-errors.csv"


def run_import_work(job: Job, progress: ProgressReporter) -> dict[str, Any]:
    """Run a queued import job's file through the engine, reporting progress on the job."""
    params = job.params

    def report(step: ImportProgress) -> None:
        progress.update(
            done=step.bytes_read, total=step.bytes_total,
            message=f"{step.rows:,} rows: {step.created:,} created, {step.updated:,} updated, "
            f"{step.unchanged:,} unchanged, {step.rejected:,} rejected",
        )

    summary = import_file(
        kind=params["kind"], path=params["path"], by=job.created_by, preset=params.get("preset"),
        mapping=params.get("mapping") or None, encoding=params.get("encoding"),
        on_progress=report, report_path=error_report_path(job),
    )
    return summary.as_result()
