"""Endpoints for CSV exports of the list pages: start one, watch it, download its file."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.http import FileResponse
from ninja import Field, Path, Router, Schema
from ninja.responses import Status

from accord.accounts.schemas import MAX_ID, InSchema
from accord.core.errors import NotFound
from accord.core.models import Job
from accord.core.selectors import job_for
from accord.web import exports

router = Router(tags=["exports"])

ListName = Literal[tuple(exports.LISTS)]


class ExportIn(InSchema):
    list: ListName = Field(description="The list page to export.")
    filters: dict[str, str] = Field(
        default_factory=dict,
        description="The page's query parameters (e.g. contacts: stage, owner, sort); "
        "an unknown name or value is refused naming `filters.<name>`.",
    )


class ExportOut(Schema):
    id: int
    list: str
    filters: dict[str, str]
    status: str = Field(description="`queued`, `running`, `succeeded` or `failed`.")
    progress_done: int
    progress_total: int | None
    rows: int | None = Field(description="Rows written, once succeeded.")
    error: str
    created_at: dt.datetime
    finished_at: dt.datetime | None
    file_url: str | None = Field(description="Where to GET the CSV, once succeeded.")


def _out(job: Job) -> dict:
    ready = job.status == Job.Status.SUCCEEDED and exports.export_path(job).is_file()
    return {
        "id": job.pk,
        "list": job.params.get("list", ""),
        "filters": job.params.get("filters", {}),
        "status": job.status,
        "progress_done": job.progress_done,
        "progress_total": job.progress_total,
        "rows": job.result.get("rows"),
        "error": job.error,
        "created_at": job.created_at,
        "finished_at": job.finished_at,
        "file_url": f"/api/v1/exports/{job.pk}/file" if ready else None,
    }


def _export_job(request, job_id: int) -> Job:
    job = job_for(user=request.user, job_id=job_id)
    if not job.kind.startswith("export."):
        raise NotFound(f"No export {job_id}.")
    return job


@router.post("/exports", response={202: ExportOut})
def start_export(request, payload: ExportIn):
    """Export every row of a list as you see it on its page, with its filters, as a CSV file."""
    job = exports.start_list_export(
        user=request.user, list_name=payload.list, params=payload.filters, strict=True
    )
    return Status(202, _out(job))


@router.get("/exports/{job_id}", response=ExportOut)
def get_export(request, job_id: int = Path(..., ge=1, le=MAX_ID)):
    """Show an export's status and progress, and where its file is once written."""
    return _out(_export_job(request, job_id))


@router.get("/exports/{job_id}/file", response={200: None}, openapi_extra={
    "responses": {200: {"description": "The CSV file.", "content": {"text/csv": {}}}}
})
def download_export(request, job_id: int = Path(..., ge=1, le=MAX_ID)):
    """Download an export's CSV file (UTF-8 with a byte-order mark)."""
    job = _export_job(request, job_id)
    path = exports.export_path(job)
    if job.status != Job.Status.SUCCEEDED or not path.is_file():
        # Not there (yet): 404, with the reason, and the export's own URL tells the status.
        raise NotFound(f"Export {job.pk} is {job.get_status_display().lower()}; it has no file yet.")
    return FileResponse(
        path.open("rb"), as_attachment=True, filename=exports.export_file_name(job), content_type="text/csv"
    )
