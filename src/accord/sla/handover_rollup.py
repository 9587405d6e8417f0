"""Marketing's daily rollup (`HandoverDaily`): kept current as handovers and verdicts are written, and rebuilt.

The commitments report (`reports.marketing_commitments`) reads one row per day of its period
instead of every handover and verdict in it. Each write adds to the rows of the days it
touches in the writer's transaction, with one `INSERT … ON CONFLICT … DO UPDATE SET n = n +
excluded.n` (sla.rollup.upsert) on SQLite and PostgreSQL alike:

- `record_handovers` adds the handovers it inserted (not the ones a retried sweep skipped);
- `count_verdict` adds one accepted or rejected on the day the verdict was given. A verdict
  changed later is a second verdict on its own day: the report counts the decisions given in
  a period, and the one given earlier still was;
- `reconcile_merges` (hourly, config/schedule.py) recounts the days of the merged contacts'
  handovers and verdicts: merging two records of one person handed over in the same sweep
  keeps one handover (one per contact and moment), and capture, below the SLA, cannot say so.

Days are the site's time zone (`ACCORD_TIME_ZONE`), the days the report's periods are made of.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta

from django.db import connection, transaction
from django.db.models import Count, Max, Min, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from accord.capture.models import ContactMerge
from accord.lifecycle.models import LeadFeedback
from accord.sla.models import MISSING_COLUMNS, Handover, HandoverDaily, MergeCursor
from accord.sla.rollup import upsert

COLUMNS = ("handed_over", "complete", "accepted", "rejected", *MISSING_COLUMNS)
_MISSING_AT = {column.removeprefix("missing_"): COLUMNS.index(column) for column in MISSING_COLUMNS}
Progress = Callable[[int, int], None]
Vector = list[int]


def site_day(at: datetime) -> date:
    """Return the day `at` falls on in the site's time zone, whatever time zone is active."""
    return timezone.localdate(at, timezone.get_default_timezone())


def _zero() -> Vector:
    return [0] * len(COLUMNS)


def handover_vector(*, complete: bool, missing_fields: Iterable[str]) -> Vector:
    """Return what one handover adds to its day: one handed over, complete or not, and each field it lacked."""
    vector = _zero()
    vector[0] = 1
    if complete:
        vector[1] = 1
    else:
        for name in missing_fields or ():
            # A field the SLA no longer offers cannot be required again; the report never lists it.
            if name in _MISSING_AT:
                vector[_MISSING_AT[name]] += 1
    return vector


def verdict_vector(decision: str) -> Vector:
    vector = _zero()
    vector[2 if decision == LeadFeedback.Decision.ACCEPT else 3] = 1
    return vector


def add(deltas: dict[date, Vector]) -> None:
    """Add per-day deltas to the rollup, in the caller's transaction; one statement."""
    rows = [[connection.ops.adapt_datefield_value(day), *vector] for day, vector in sorted(deltas.items())
            if any(vector)]
    if rows:
        upsert(HandoverDaily, ["day"], "day", rows, columns=COLUMNS)


def _summed(pairs: Iterable[tuple[date, Vector]]) -> dict[date, Vector]:
    totals: dict[date, Vector] = {}
    for day, vector in pairs:
        total = totals.setdefault(day, _zero())
        for index, value in enumerate(vector):
            total[index] += value
    return totals


def count_handovers(handovers: Iterable[Handover]) -> None:
    """Add newly inserted handovers to their days (the caller's transaction)."""
    add(_summed((site_day(h.at), handover_vector(complete=h.complete, missing_fields=h.missing_fields))
                for h in handovers))


def count_verdict(*, decision: str, at: datetime) -> None:
    """Add one verdict given at `at` to its day (the caller's transaction)."""
    add({site_day(at): verdict_vector(decision)})


# -- rebuild and check ----------------------------------------------------------------------


def _months(first: date, last: date) -> list[tuple[date, date]]:
    spans, start = [], first.replace(day=1)
    while start <= last:
        following = (start + timedelta(days=32)).replace(day=1)
        spans.append((start, following))
        start = following
    return spans


def recompute(*, progress: Progress | None = None, handovers: QuerySet | None = None,
              verdicts: QuerySet | None = None) -> dict[date, Vector]:
    """Return the rollup as the handover and verdict rows say it should be: {day: counters}.

    Grouped in the database, a month of handovers at a time (an index range each) so the
    progress moves; the verdicts in one grouped pass. `handovers` and `verdicts` default to
    every row (a migration passes its historical models' rows).
    """
    handovers = Handover.objects.all() if handovers is None else handovers
    verdicts = LeadFeedback.objects.all() if verdicts is None else verdicts
    zone = timezone.get_default_timezone()
    day = TruncDate("at", tzinfo=zone)
    ends = handovers.order_by().aggregate(first=Min("at"), last=Max("at"))
    months = _months(site_day(ends["first"]), site_day(ends["last"])) if ends["first"] else []
    totals: dict[date, Vector] = {}
    for done, (low, high) in enumerate(months, start=1):
        lower = timezone.make_aware(datetime.combine(low, datetime.min.time()), zone)
        upper = timezone.make_aware(datetime.combine(high, datetime.min.time()), zone)
        rows = handovers.filter(at__gte=lower, at__lt=upper).order_by()
        for row in rows.annotate(day=day).values("day").annotate(n=Count("id"), complete_n=Count("id", filter=Q(
                complete=True))):
            vector = totals.setdefault(row["day"], _zero())
            vector[0] += row["n"]
            vector[1] += row["complete_n"]
        for row in (rows.filter(complete=False).annotate(day=day).values("day", "missing_fields")
                    .annotate(n=Count("id"))):
            lacking = handover_vector(complete=False, missing_fields=row["missing_fields"])
            vector = totals.setdefault(row["day"], _zero())
            for index in _MISSING_AT.values():
                vector[index] += lacking[index] * row["n"]
        if progress:
            progress(done, len(months) + 1)
    for row in (verdicts.order_by().annotate(day=TruncDate("created_at", tzinfo=zone)).values("day", "decision")
                .annotate(n=Count("id"))):
        vector = totals.setdefault(row["day"], _zero())
        vector[2 if row["decision"] == LeadFeedback.Decision.ACCEPT else 3] += row["n"]
    if progress:
        progress(len(months) + 1, len(months) + 1)
    return {day: vector for day, vector in totals.items() if any(vector)}


def rebuild(*, progress: Progress | None = None) -> int:
    """Replace the rollup with a recomputation from the rows, in one transaction. Return its row count."""
    with transaction.atomic():
        totals = recompute(progress=progress)
        HandoverDaily.objects.all().delete()
        HandoverDaily.objects.bulk_create(
            [HandoverDaily(day=day, **dict(zip(COLUMNS, vector, strict=True))) for day, vector in totals.items()],
            batch_size=1_000)
    return len(totals)


def stored() -> dict[date, Vector]:
    """Return the rollup as stored, leaving out days that are all zeros."""
    return {row[0]: list(row[1:]) for row in HandoverDaily.objects.values_list("day", *COLUMNS) if any(row[1:])}


def differences(*, progress: Progress | None = None) -> list[date]:
    """Return the days whose stored counts differ from a recomputation from the handover and verdict rows."""
    expected, actual = recompute(progress=progress), stored()
    return sorted(day for day in expected.keys() | actual.keys() if expected.get(day) != actual.get(day))


# -- after merges ---------------------------------------------------------------------------

MERGE_CURSOR = "handover-rollup"
# A merge still in its transaction may have taken a lower id than one already committed: only
# merges this old are read, so none is skipped past (as the new-lead sweep lags its rows).
MERGE_LAG = timedelta(minutes=2)


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    zone = timezone.get_default_timezone()
    start = timezone.make_aware(datetime.combine(day, datetime.min.time()), zone)
    return start, timezone.make_aware(datetime.combine(day + timedelta(days=1), datetime.min.time()), zone)


def reconcile_days(days: Iterable[date]) -> list[date]:
    """Set the rollup's rows of `days` to a recount from the handover and verdict rows; return the days that changed.

    In the caller's transaction, or one of its own.
    """
    days = sorted(set(days))
    if not days:
        return []
    with transaction.atomic():
        # Lock the days' rows before counting: a handover or verdict written meanwhile waits,
        # then adds to the corrected row instead of being overwritten by it.
        list(HandoverDaily.objects.select_for_update().filter(day__in=days).values_list("pk", flat=True))
        handovers, verdicts = Q(), Q()
        for day in days:
            start, end = _day_bounds(day)
            handovers |= Q(at__gte=start, at__lt=end)
            verdicts |= Q(created_at__gte=start, created_at__lt=end)
        expected = recompute(handovers=Handover.objects.filter(handovers),
                             verdicts=LeadFeedback.objects.filter(verdicts))
        actual = {row[0]: list(row[1:]) for row in HandoverDaily.objects.filter(day__in=days).values_list("day", *COLUMNS)}
        changed = [day for day in days if expected.get(day, _zero()) != actual.get(day, _zero())]
        for day in changed:
            HandoverDaily.objects.update_or_create(day=day, defaults=dict(zip(COLUMNS, expected.get(day, _zero()),
                                                                                strict=True)))
    return changed


def reconcile_merges(*, batch: int = 1_000, now: datetime | None = None) -> dict[str, int]:
    """Recount the rollup's days that contact merges since the last run touched, and move the cursor past them.

    A merged contact's days are those of the survivor's handovers and verdicts, which include the
    duplicate's. Idempotent; a batch at a time, so a backlog never holds the rollup for long.
    """
    now = now or timezone.now()
    with transaction.atomic():
        cursor, _ = MergeCursor.objects.select_for_update().get_or_create(name=MERGE_CURSOR)
        merges = list(ContactMerge.objects.filter(pk__gt=cursor.last_merge_id, at__lte=now - MERGE_LAG)
                      .order_by("pk").values_list("pk", "survivor_id")[:batch])
        if not merges:
            return {"merges": 0, "days": 0}
        survivors = {survivor for _, survivor in merges}
        days = {site_day(at) for at in Handover.objects.filter(contact_id__in=survivors).values_list("at", flat=True)}
        days |= {site_day(at) for at in
                 LeadFeedback.objects.filter(contact_id__in=survivors).values_list("created_at", flat=True)}
        changed = reconcile_days(days)
        cursor.last_merge_id = merges[-1][0]
        cursor.save(update_fields=["last_merge_id"])
    return {"merges": len(merges), "days": len(changed)}
