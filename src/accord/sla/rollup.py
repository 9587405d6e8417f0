"""The compliance rollup (`ComplianceDaily`): kept current as clocks settle, and rebuilt from them.

The services wrap each write that can settle a clock in `tracked(clocks)`: it reads the
clocks before the write, reads them again after, and adds the difference in how they count
(sla.compliance) to the rollup in the same transaction, with one upsert. No signals, and no
second copy of the services' rules: whatever the write did, the rollup follows the clocks.

Rows are keyed by the day the clock fell due (site time zone), not the day it closed: a
report on "clocks due last week" then reads whole rows, a clock met early still counts on
the day it was promised for, and a breach met late moves between columns of the same row.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, timedelta
from functools import lru_cache

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from accord.sla import compliance
from accord.sla.compliance import COUNTERS, Outcome
from accord.sla.domain import ClockSpec, calendar_from_json
from accord.sla.models import (
    HISTOGRAM_COLUMNS,
    ComplianceDaily,
    ComplianceMonthly,
    ComplianceWeekly,
    SlaClock,
)
from accord.sla.periods import week_of

Key = tuple[date, int, str, int]  # day, owner id, kind, SLA version id
Progress = Callable[[int, int], None]
FACTS = ("id", "owner_id", "owner__team_id", "kind", "sla_version_id", "due_at", "met_at", "cancelled_at",
         "breached_at", "paused_since", "attempts_done", "started_at", "budget_seconds", "paused_seconds",
         "basis", "calendar")
UPSERT_ROWS = 200


@lru_cache(maxsize=256)
def _calendar(frozen: str):
    return calendar_from_json(json.loads(frozen))


def _response_seconds(row: dict) -> float:
    """Return the clock's own time (working or calendar) from its start to when it was met, less pauses."""
    end = row["met_at"]
    if row["paused_since"] is not None:
        end = min(end, row["paused_since"])
    working = row["basis"] == SlaClock.Basis.WORKING
    calendar = _calendar(json.dumps(row["calendar"] or {}, sort_keys=True))
    spec = ClockSpec(started_at=row["started_at"], budget=timedelta(seconds=row["budget_seconds"]),
                     working=working, calendar=calendar)
    return max(0.0, spec.elapsed(row["started_at"], end).total_seconds() - row["paused_seconds"])


def counts(row: dict) -> tuple[Key, int | None, list[int]]:
    """Return a clock's rollup key, its owner's team, and what it adds there (zeros while it runs)."""
    result = compliance.outcome(due_at=row["due_at"], met_at=row["met_at"], cancelled_at=row["cancelled_at"],
                                breached_at=row["breached_at"], paused_since=row["paused_since"])
    met = result in (Outcome.MET_ON_TIME, Outcome.MET_LATE)
    part = compliance.contribution(result, attempts_done=row["attempts_done"],
                                   response_seconds=_response_seconds(row) if met else None)
    key = (timezone.localdate(row["due_at"]), row["owner_id"], row["kind"], row["sla_version_id"])
    return key, row["owner__team_id"], part.vector()


def _facts(clocks: QuerySet[SlaClock]) -> dict[int, dict]:
    return {row["id"]: row for row in clocks.values(*FACTS)}


@contextmanager
def tracked(clocks: QuerySet[SlaClock]) -> Iterator[None]:
    """Add to the rollup whatever the block does to how these clocks count, in the block's transaction."""
    # No savepoint: an error inside rolls back the caller's transaction anyway.
    with transaction.atomic(savepoint=False):
        # Lock only the clocks (not their owners, joined for the team) until the rollup is written.
        before = _facts(clocks.select_for_update(of=("self",)))
        yield
        if not before:
            return
        after = _facts(SlaClock.objects.filter(id__in=list(before)))
        deltas: dict[Key, list[int]] = {}
        teams: dict[Key, int | None] = {}
        for clock_id, old in before.items():
            new = after.get(clock_id)
            if new is None or all(old[f] == new[f] for f in ("due_at", "met_at", "cancelled_at", "breached_at",
                                                             "paused_since", "attempts_done")):
                continue
            for row, sign in ((old, -1), (new, 1)):
                key, team, vector = counts(row)
                if any(vector):
                    total = deltas.setdefault(key, [0] * len(vector))
                    for index, value in enumerate(vector):
                        total[index] += sign * value
                    teams.setdefault(key, team)
        add(deltas, teams)


def add(deltas: dict[Key, list[int]], teams: dict[Key, int | None]) -> None:
    """Add counter and histogram deltas to the daily rows and to the weeks and months holding them.

    One upsert per 200 daily rows, and one per grain for what they add up to. A daily row keeps
    the team it was first written with, so the upsert returns that team and the coarser rows
    add the delta under it: a report reads the same whichever grain serves it.
    """
    rows = [(key, vector) for key, vector in deltas.items() if any(vector)]
    if not rows:
        return
    names = ["day", "owner_id", "kind", "sla_version_id", "team_id"]
    stored_team: dict[Key, int | None] = {}
    for start in range(0, len(rows), UPSERT_ROWS):
        chunk = rows[start:start + UPSERT_ROWS]
        returned = upsert(ComplianceDaily, names, "owner_id, day, kind, sla_version_id",
                           [[*key, teams.get(key), *vector] for key, vector in chunk],
                           returning="day, owner_id, kind, sla_version_id, team_id")
        for day, owner_id, kind, version_id, team_id in returned:
            # PostgreSQL returns a date; SQLite the text it stored.
            day = day if isinstance(day, date) else date.fromisoformat(day)
            stored_team[(day, owner_id, kind, version_id)] = team_id
    for model, start_of in COARSE:
        coarse: dict[tuple, list[int]] = {}
        for (day, owner_id, kind, version_id), vector in rows:
            key = (start_of(day), owner_id, kind, version_id, stored_team[(day, owner_id, kind, version_id)])
            total = coarse.setdefault(key, [0] * len(vector))
            for index, value in enumerate(vector):
                total[index] += value
        coarse_rows = [[*key, *vector] for key, vector in coarse.items()]
        for start in range(0, len(coarse_rows), UPSERT_ROWS):
            upsert(model, ["start", "owner_id", "kind", "sla_version_id", "team_id"],
                    "owner_id, start, kind, sla_version_id, (COALESCE(team_id, 0))",
                    coarse_rows[start:start + UPSERT_ROWS])


def upsert(model, keys: list[str], conflict: str, rows: list[list], returning: str = "",
           columns: Sequence[str] = (*COUNTERS, *HISTOGRAM_COLUMNS)) -> list[tuple]:
    """Add each row's counters (`columns`, after the keys) to the stored row with the same key (creating it).

    One statement; an increment, not an overwrite, so two transactions adding at once both count.
    """
    table = connection.ops.quote_name(model._meta.db_table)
    names = [*keys, *columns]
    sets = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in columns)
    placeholders = ", ".join("(" + ", ".join(["%s"] * len(names)) + ")" for _ in rows)
    sql = (f"INSERT INTO {table} ({', '.join(names)}) VALUES {placeholders} "  # noqa: S608 - names are ours
           f"ON CONFLICT ({conflict}) DO UPDATE SET {sets}" + (f" RETURNING {returning}" if returning else ""))
    with connection.cursor() as cursor:
        cursor.execute(sql, [value for row in rows for value in row])
        return cursor.fetchall() if returning else []


def month_of(day: date) -> date:
    return day.replace(day=1)


# The coarser grains, each with the first day of the span a day falls in (periods.week_of's weeks).
COARSE = ((ComplianceWeekly, week_of), (ComplianceMonthly, month_of))


def recompute(*, progress: Progress | None = None, chunk: int = 5_000) -> tuple[dict[Key, list[int]], dict]:
    """Return the rollup as the clocks say it should be: {key: counters + histogram}, and each key's team."""
    settled = SlaClock.objects.exclude(met_at__isnull=True, cancelled_at__isnull=True, breached_at__isnull=True)
    total = settled.count()
    totals: dict[Key, list[int]] = {}
    teams: dict[Key, int | None] = {}
    done = 0
    for row in settled.order_by().values(*FACTS).iterator(chunk_size=chunk):
        key, team, vector = counts(row)
        done += 1
        if progress and done % chunk == 0:
            progress(done, total)
        if not any(vector):
            continue
        running = totals.setdefault(key, [0] * len(vector))
        for index, value in enumerate(vector):
            running[index] += value
        teams.setdefault(key, team)
    if progress:
        progress(done, total)
    return totals, teams


def rebuild(*, progress: Progress | None = None) -> int:
    """Replace the rollup with a recomputation from every clock, in one transaction. Return its row count.

    Readers see the old rollup until the new one commits; run it when clocks are quiet (after an
    import, or once after upgrading), since a clock settling meanwhile waits for the commit.
    """
    with transaction.atomic():
        totals, teams = recompute(progress=progress)
        for model in (ComplianceDaily, ComplianceWeekly, ComplianceMonthly):
            model.objects.all().delete()
        add(totals, teams)
    return len(totals)


def stored() -> dict[Key, list[int]]:
    """Return the rollup as stored: {key: counters + histogram}, leaving out rows that are all zeros."""
    columns = [*COUNTERS, *HISTOGRAM_COLUMNS]
    result = {}
    for row in ComplianceDaily.objects.values_list("day", "owner_id", "kind", "sla_version_id", *columns):
        if any(row[4:]):
            result[row[:4]] = list(row[4:])
    return result


def differences(*, progress: Progress | None = None) -> list[tuple]:
    """Return the rollup keys whose stored counts differ from a recomputation from the clocks.

    Daily keys are (day, owner, kind, version); a week's or month's are tagged with the grain
    and checked against the daily rows they add up, team by team.
    """
    expected, _ = recompute(progress=progress)
    actual = stored()
    wrong: list[tuple] = sorted(key for key in expected.keys() | actual.keys() if expected.get(key) != actual.get(key))
    columns = [*COUNTERS, *HISTOGRAM_COLUMNS]
    daily = list(ComplianceDaily.objects.values_list("day", "owner_id", "kind", "sla_version_id", "team_id", *columns))
    for model, start_of in COARSE:
        summed: dict[tuple, list[int]] = {}
        for day, owner_id, kind, version_id, team_id, *vector in daily:
            total = summed.setdefault((start_of(day), owner_id, kind, version_id, team_id), [0] * len(vector))
            for index, value in enumerate(vector):
                total[index] += value
        kept = {row[:5]: list(row[5:]) for row in
                model.objects.values_list("start", "owner_id", "kind", "sla_version_id", "team_id", *columns)}
        grain = model._meta.verbose_name_plural.split()[-1]
        zero = [0] * len(columns)
        wrong += sorted((grain, *key) for key in summed.keys() | kept.keys()
                        if summed.get(key, zero) != kept.get(key, zero))
    return wrong
