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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from functools import lru_cache

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from accord.sla import compliance
from accord.sla.compliance import COUNTERS, Outcome
from accord.sla.domain import ClockSpec, calendar_from_json
from accord.sla.models import HISTOGRAM_COLUMNS, ComplianceDaily, SlaClock

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
    """Add counter and histogram deltas to the rollup rows, creating rows as needed (one upsert per 200 rows)."""
    rows = [(key, vector) for key, vector in deltas.items() if any(vector)]
    if not rows:
        return
    table = connection.ops.quote_name(ComplianceDaily._meta.db_table)
    columns = [*COUNTERS, *HISTOGRAM_COLUMNS]
    names = ["day", "owner_id", "kind", "sla_version_id", "team_id", *columns]
    sets = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in columns)
    for start in range(0, len(rows), UPSERT_ROWS):
        chunk = rows[start:start + UPSERT_ROWS]
        placeholders = ", ".join("(" + ", ".join(["%s"] * len(names)) + ")" for _ in chunk)
        params: list = []
        for (day, owner_id, kind, version_id), vector in chunk:
            params += [day, owner_id, kind, version_id, teams.get((day, owner_id, kind, version_id)), *vector]
        sql = (f"INSERT INTO {table} ({', '.join(names)}) VALUES {placeholders} "  # noqa: S608 - names are ours
               f"ON CONFLICT (owner_id, day, kind, sla_version_id) DO UPDATE SET {sets}")
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


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
        ComplianceDaily.objects.all().delete()
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


def differences(*, progress: Progress | None = None) -> list[Key]:
    """Return the rollup keys whose stored counts differ from a recomputation from the clocks."""
    expected, _ = recompute(progress=progress)
    actual = stored()
    return sorted(key for key in expected.keys() | actual.keys() if expected.get(key) != actual.get(key))
