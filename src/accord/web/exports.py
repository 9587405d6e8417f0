"""CSV exports of every list page, run as background jobs with progress.

One exporter, one spec per list. A spec names the list's rows (the same `*_listing` function the
page calls, so the export holds exactly what the viewer sees: same scope, filters and order,
every page) and its columns (the page's headers, values as people read them: labels rather
than codes, ISO 8601 dates, amounts with their currency in the next column).

Rows stream from the database in chunks and straight to the file, so memory stays flat however
long the list; the file lands in MEDIA_ROOT/exports and only the job's owner (or a revenue-ops
admin) may download it. Text cells that a spreadsheet would run as a formula are neutralised.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cache, partial
from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.db import transaction
from django.db.models import Model, QuerySet
from django.utils import timezone

from accord.capture.listings import (
    ScoredFirst,
    account_listing,
    campaign_listing,
    capture_source_listing,
    contact_listing,
)
from accord.capture.models import Account, Campaign, CaptureSource, Contact
from accord.capture.selectors import MERGE_RULES, duplicate_candidates
from accord.core.errors import NotFound, ValidationFailed
from accord.core.models import Job
from accord.core.permissions import Action, require
from accord.core.selectors import jobs_visible_to
from accord.core.services import ProgressReporter, create_job
from accord.deals.listings import deal_listing
from accord.deals.models import Deal

CHUNK_ROWS = 2000
# Duplicate groups are found by grouping the whole contact table; the page shows this many.
DUPLICATE_GROUPS = 50


@dataclass(frozen=True)
class Column:
    header: str
    value: Callable[[Any], Any]


@dataclass(frozen=True)
class ListExport:
    """One list page as a CSV file: who may export it, its rows and its columns."""

    name: str
    title: str
    action: Action | None
    # (user, query parameters) → (the page's filter form or None, the rows)
    listing: Callable[[Any, Mapping[str, Any]], tuple[Any, Iterable[Any]]]
    columns: tuple[Column, ...]
    filters: tuple[str, ...] = ()


def _display(model: type[Model], name: str) -> Callable[[Any], str]:
    # One dict lookup per cell: get_FOO_display() rebuilds a hashable copy of the choices on
    # every call, which was a quarter of an export's time.
    labels = {value: str(label) for value, label in model._meta.get_field(name).flatchoices}
    return lambda record: labels.get(getattr(record, name), getattr(record, name))


def _person(name: str) -> Callable[[Any], str]:
    return lambda record: str(getattr(record, name) or "")


def _money(name: str) -> Callable[[Any], Decimal | None]:
    # Sums come back from SQLite without their scale; every amount is written with two decimals.
    def value(record: Any) -> Decimal | None:
        amount = getattr(record, name)
        return None if amount is None else Decimal(amount).quantize(Decimal("0.01"))

    return value


def _percent(value: Decimal | None) -> str:
    return "" if value is None else f"{value * 100:.0f}%"


CONTACT_COLUMNS = (
    Column("ID", lambda c: c.pk),
    Column("First name", lambda c: c.first_name),
    Column("Last name", lambda c: c.last_name),
    Column("Email", lambda c: c.email),
    Column("Title", lambda c: c.title),
    Column("Company", _person("account")),
    Column("Stage", _display(Contact, "lifecycle_stage")),
    Column("Owner", _person("owner")),
    Column("Source", _display(Contact, "lead_source")),
    Column("Score", lambda c: c.score),
    Column("Country", lambda c: c.country),
    Column("Created", lambda c: c.created_at),
)
ACCOUNT_COLUMNS = (
    Column("ID", lambda a: a.pk),
    Column("Name", lambda a: a.name),
    Column("Domain", lambda a: a.domain),
    Column("Industry", _display(Account, "industry")),
    Column("Size", _display(Account, "size_band")),
    Column("Segment", _display(Account, "segment")),
    Column("Region", _display(Account, "region")),
    Column("Country", lambda a: a.country),
    Column("Owner", _person("owner")),
    Column("Created", lambda a: a.created_at),
)
CAMPAIGN_COLUMNS = (
    Column("ID", lambda c: c.pk),
    Column("Campaign", lambda c: c.name),
    Column("Channel", _display(Campaign, "channel")),
    Column("Kind", _display(Campaign, "kind")),
    Column("Status", _display(Campaign, "status")),
    Column("Start", lambda c: c.start_date),
    Column("End", lambda c: c.end_date),
    Column("Budget", _money("budget")),
    Column("Spent", _money("spent")),
    Column("Currency", lambda c: c.currency),
    Column("UTM campaign", lambda c: c.utm_campaign),
    Column("Owner", _person("owner")),
)
DEAL_COLUMNS = (
    Column("ID", lambda d: d.pk),
    Column("Deal", lambda d: d.name),
    Column("Account", _person("account")),
    Column("Stage", lambda d: d.stage.name),
    Column("Status", _display(Deal, "status")),
    Column("Owner", _person("owner")),
    Column("Closes", lambda d: d.close_date),
    Column("Probability", lambda d: _percent(d.win_probability)),
    Column("Amount", _money("amount")),
    Column("Currency", lambda d: d.currency),
    Column("Created", lambda d: d.created_at),
)
DUPLICATE_COLUMNS = (
    Column("Group", lambda row: row[0]),
    Column("Contact ID", lambda row: row[1].pk),
    Column("Name", lambda row: str(row[1])),
    Column("Email", lambda row: row[1].email),
    Column("Company", lambda row: str(row[1].account or "")),
    Column("Phone", lambda row: row[1].phone),
    Column("Created", lambda row: row[1].created_at),
)
SOURCE_COLUMNS = (
    Column("ID", lambda s: s.pk),
    Column("Name", lambda s: s.name),
    Column("Kind", _display(CaptureSource, "kind")),
    Column("Default campaign", _person("default_campaign")),
    Column("Active", lambda s: s.is_active),
    Column("Allowed origins", lambda s: " ".join(s.allowed_origins.split())),
    Column("Posts per minute", lambda s: s.rate_limit_per_minute),
    Column("Posts per minute per IP", lambda s: s.ip_rate_limit_per_minute),
    Column("Created by", _person("created_by")),
    Column("Created", lambda s: s.created_at),
)
JOB_COLUMNS = (
    Column("ID", lambda j: j.pk),
    Column("Job", lambda j: j.title),
    Column("Kind", lambda j: j.kind),
    Column("Status", _display(Job, "status")),
    Column("Started by", lambda j: str(j.created_by or "System")),
    Column("Created", lambda j: j.created_at),
    Column("Finished", lambda j: j.finished_at),
    Column("Done", lambda j: j.progress_done),
    Column("Total", lambda j: j.progress_total),
    Column("Message", lambda j: j.message),
    Column("Error", lambda j: j.error),
)
IMPORT_COLUMNS = (
    *JOB_COLUMNS[:6],
    *(Column(label, partial(lambda key, j: j.result.get(key), key)) for key, label in (
        ("rows", "Rows read"), ("created", "Created"), ("updated", "Updated"),
        ("unchanged", "Unchanged"), ("rejected", "Rejected"),
    )),
    JOB_COLUMNS[-1],
)


class DuplicateFilters(forms.Form):
    rule = forms.ChoiceField(required=False, choices=[("", "Default"), *MERGE_RULES.items()])


def _duplicates(user, params: Mapping[str, Any]) -> tuple[DuplicateFilters, Iterator[tuple[int, Any]]]:
    form = DuplicateFilters(params)
    form.is_valid()
    rule = form.cleaned_data.get("rule") or "name_and_domain"

    # A generator: the grouping query runs when the export is written, not when it is asked for.
    def rows() -> Iterator[tuple[int, Any]]:
        groups = duplicate_candidates(user=user, rule=rule, limit=DUPLICATE_GROUPS)
        for number, group in enumerate(groups, 1):
            for contact in group:
                yield number, contact

    return form, rows()


def _jobs(user, params: Mapping[str, Any]) -> tuple[None, QuerySet[Job]]:
    return None, jobs_visible_to(user=user).order_by("-created_at", "-id")


def _imports(user, params: Mapping[str, Any]) -> tuple[None, QuerySet[Job]]:
    return None, jobs_visible_to(user=user).filter(kind__startswith="import.").order_by("-created_at", "-id")


LISTS: dict[str, ListExport] = {
    spec.name: spec
    for spec in (
        ListExport("contacts", "contacts", Action.VIEW_RECORDS,
                   lambda user, params: contact_listing(user=user, params=params),
                   CONTACT_COLUMNS, ("stage", "owner", "sort")),
        ListExport("accounts", "accounts", Action.VIEW_RECORDS,
                   lambda user, params: account_listing(user=user, params=params),
                   ACCOUNT_COLUMNS, ("segment", "region", "sort")),
        ListExport("campaigns", "campaigns", Action.VIEW_CAMPAIGNS,
                   lambda user, params: campaign_listing(user=user, params=params),
                   CAMPAIGN_COLUMNS, ("channel", "status", "sort")),
        ListExport("deals", "deals", Action.VIEW_RECORDS,
                   lambda user, params: deal_listing(user=user, params=params),
                   DEAL_COLUMNS, ("status", "stage", "sort")),
        ListExport("duplicates", "duplicate contacts", Action.VIEW_RECORDS, _duplicates,
                   DUPLICATE_COLUMNS, ("rule",)),
        ListExport("capture-sources", "forms", Action.VIEW_CAMPAIGNS,
                   lambda user, params: (None, capture_source_listing(user=user)), SOURCE_COLUMNS),
        ListExport("jobs", "background jobs", None, _jobs, JOB_COLUMNS),
        ListExport("imports", "imports", Action.IMPORT_DATA, _imports, IMPORT_COLUMNS),
    )
}


def export_spec(name: str) -> ListExport:
    try:
        return LISTS[name]
    except KeyError:
        raise NotFound(f"No list {name!r} to export; lists are: {', '.join(LISTS)}.") from None


# OWASP "CSV injection": a spreadsheet runs a cell starting with these as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@cache
def _site_zone() -> dt.tzinfo:
    return timezone.get_default_timezone()


def cell(value: Any) -> Any:
    """Return a value as a CSV cell: ISO 8601 times, plain numbers, text that cannot run as a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(_site_zone()).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int | Decimal):
        return str(value)
    text = str(value)
    # A leading quote makes the cell text in Excel, LibreOffice and Google Sheets.
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def export_filters(spec: ListExport, params: Mapping[str, Any]) -> dict[str, str]:
    """Keep the query parameters the list filters on (not the page number); drop blanks."""
    return {name: str(params[name]) for name in spec.filters if params.get(name)}


def start_list_export(*, user, list_name: str, params: Mapping[str, Any], strict: bool = False) -> Job:
    """Queue an export of a list as this user sees it, with the page's filters and order.

    `strict` (the API) refuses a filter the list does not take or a value it does not accept,
    naming `filters.<name>`; the pages pass their query string, which the page itself reads
    leniently, so the export ignores what the page ignored.
    """
    spec = export_spec(list_name)
    if spec.action is not None:
        require(user, spec.action)
    filters = export_filters(spec, params)
    if strict:
        _check_filters(spec, user=user, params=params, filters=filters)
    from accord.web.tasks import export_list

    with transaction.atomic():
        job = create_job(
            kind=f"export.{spec.name}", title=f"Export {spec.title} to CSV", created_by=user,
            params={"list": spec.name, "filters": filters},
        )
        transaction.on_commit(partial(export_list.enqueue, job_id=job.pk))
    return job


def _check_filters(spec: ListExport, *, user, params: Mapping[str, Any], filters: dict[str, str]) -> None:
    for name in params:
        if name not in spec.filters:
            taken = ", ".join(spec.filters) or "none"
            raise ValidationFailed(
                f"The {spec.name} list has no filter {name!r} (it takes: {taken}).", field=f"filters.{name}"
            )
    form, _ = spec.listing(user, filters)
    if form is not None and form.errors:
        name, messages = next(iter(form.errors.items()))
        raise ValidationFailed(" ".join(messages), field=f"filters.{name}")


def export_path(job: Job) -> Path:
    return Path(settings.MEDIA_ROOT) / "exports" / f"job-{job.pk}.csv"


def export_file_name(job: Job) -> str:
    return f"{job.params.get('list', 'export')}-{job.pk}.csv"


def write_list_export(job: Job, progress: ProgressReporter) -> dict[str, Any]:
    """Write a queued export's rows to its file, reporting progress on the job."""
    spec = export_spec(job.params["list"])
    if job.created_by is None:
        raise ValidationFailed("The person who asked for this export no longer exists.")
    if spec.action is not None:
        require(job.created_by, spec.action)
    _, rows = spec.listing(job.created_by, job.params.get("filters", {}))
    if isinstance(rows, QuerySet | ScoredFirst):
        total = rows.count()
        rows = rows.iterator(chunk_size=CHUNK_ROWS)
    else:
        rows = list(rows)
        total = len(rows)
    progress.update(done=0, total=total, message="Writing rows", force=True)
    path = export_path(job)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial_path = path.with_suffix(".part")
    columns = spec.columns
    done = 0
    # UTF-8 with a byte-order mark: Excel opens it as UTF-8 instead of guessing a code page.
    with partial_path.open("w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle)
        writer.writerow([column.header for column in columns])
        for record in rows:
            writer.writerow([cell(column.value(record)) for column in columns])
            done += 1
            if done % 1000 == 0:
                progress.update(done=done)
    # Rename last, so a download never sees a half-written file.
    partial_path.replace(path)
    # finish_job stores the job's message with the result.
    job.message = f"Wrote {done:,} rows"
    return {"rows": done, "file": str(path.relative_to(settings.MEDIA_ROOT))}
