"""Fixed-window request counters shared by every worker process, kept in the database.

One statement counts a request against all its buckets at once (an upsert returning the
new counts), so a flood costs one small write per request and no read-modify-write race.

On PostgreSQL each bucket is split into `PG_SHARDS` rows (`<bucket>#<n>`), a request adding
one to a shard picked at random and reading the sum of all of them. Every form post counts
against its source's bucket, so one row per bucket made every post wait for the one before it
to commit (the row stays locked until then; measured p99 7.5 s at 200 posts/s). The sum is read
in the same statement from committed rows, so requests in flight at the same instant may each
miss the others' counts: a limit can be overshot by at most the requests running at once, never
undercounted once they commit. SQLite has one writer at a time and no row locks, so there a
bucket stays one row.
"""

from __future__ import annotations

import math
import random
import time
from functools import cache, partial

from django.db import connection, transaction

from accord.capture.groupcommit import run_in_transaction
from accord.capture.models import RateLimitCounter

WINDOW_SECONDS = 60
PG_SHARDS = 16

# The last window this process swept old counters for: one DELETE a minute per worker,
# not one per new visitor (every new IP opens a bucket).
_swept_window = -1


def hit(limits: dict[str, int], *, now: float | None = None) -> int | None:
    """Count one request in each bucket; return seconds to wait if any bucket is over its limit.

    Inside a transaction the count commits with it (the public form endpoint counts and
    stores in one commit, and commits the count when it refuses); alone it commits at once.
    """
    if not limits:
        return None
    now = time.time() if now is None else now
    window = int(now // WINDOW_SECONDS)
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_sharded_sql(len(limits)), shard_params(limits, window))
        else:
            cursor.execute(_upsert_sql(len(limits)), [value for bucket in limits for value in (bucket, window)])
        counts = dict(cursor.fetchall())
    sweep(window)
    return retry_after(counts, limits, now=now)


def now() -> float:
    """Return the clock the windows are counted by (seconds since the epoch)."""
    return time.time()


def sweep(window: int) -> None:
    """Delete the counters of earlier windows, once per window in each process."""
    global _swept_window
    if window != _swept_window:
        # Windows before this one can no longer refuse anything.
        table = connection.ops.quote_name(RateLimitCounter._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {table} WHERE window_start < %s", [window])  # noqa: S608
        _swept_window = window


def retry_after(counts: dict[str, int], limits: dict[str, int], *, now: float) -> int | None:
    """Return the seconds to wait when a bucket's count is over its limit, else None."""
    if any(counts[bucket] > limit for bucket, limit in limits.items()):
        return max(1, math.ceil((int(now // WINDOW_SECONDS) + 1) * WINDOW_SECONDS - now))
    return None


def hit_and_commit(limits: dict[str, int]) -> int | None:
    """Count one request and commit the count (grouped with other requests' writes); see hit."""
    return run_in_transaction(partial(hit, limits))


def counted(bucket: str, *, now: float | None = None) -> int:
    """Return how many requests `bucket` has counted in the current window (all its shards)."""
    window = int((time.time() if now is None else now) // WINDOW_SECONDS)
    names = [bucket, *_shard_names(bucket)]
    return sum(
        RateLimitCounter.objects.filter(bucket__in=names, window_start=window).values_list("count", flat=True)
    )


def _shard_names(bucket: str) -> list[str]:
    return [f"{bucket}#{shard}" for shard in range(PG_SHARDS)]


@cache
def _upsert_sql(buckets: int, *, named: bool = False) -> str:
    table = connection.ops.quote_name(RateLimitCounter._meta.db_table)
    row = "(%(rl_bucket_{n})s, %(rl_window)s, 1)" if named else "(%s, %s, 1)"
    rows = ", ".join(row.format(n=n) for n in range(buckets))
    # Only the quoted table name and placeholders are formatted in; values are parameters.
    return (
        f"INSERT INTO {table} (bucket, window_start, count) VALUES {rows} "  # noqa: S608
        f"ON CONFLICT (bucket, window_start) DO UPDATE SET count = {table}.count + 1 "
        "RETURNING bucket, count"
    )


@cache
def shard_ctes(buckets: int) -> str:
    """Return the CTEs `hit` (count one request in a shard of each bucket) and `counts` (bucket, total).

    For a statement of their own (`hit`) or the start of a larger one (the public form's
    write on PostgreSQL); the parameters are those of shard_params.
    """
    table = connection.ops.quote_name(RateLimitCounter._meta.db_table)
    # The upsert returns this request's shard count; the subquery adds the other shards'
    # committed counts (a statement's reads do not see its own CTE's writes, so the shard
    # written is excluded rather than counted twice), their names made in the statement
    # rather than sent. Buckets never contain '#'. Only the quoted table name, the upsert
    # above and the shard count are formatted in.
    return (
        f"hit AS ({_upsert_sql(buckets, named=True)}), "  # noqa: S608
        "counts AS (SELECT split_part(hit.bucket, '#', 1) AS bucket, hit.count + COALESCE(("
        f"SELECT SUM(other.count) FROM {table} other WHERE other.window_start = %(rl_window)s "
        "AND other.bucket IN (SELECT split_part(hit.bucket, '#', 1) || '#' || shard "
        f"FROM generate_series(0, {PG_SHARDS - 1}) shard) AND other.bucket <> hit.bucket), 0) AS total FROM hit)"
    )


@cache
def _sharded_sql(buckets: int) -> str:
    return f"WITH {shard_ctes(buckets)} SELECT bucket, total FROM counts"  # noqa: S608


def shard_params(limits: dict[str, int], window: int) -> dict[str, object]:
    """Return shard_ctes' parameters: a shard picked at random in each bucket, in the limits' order."""
    params: dict[str, object] = {
        f"rl_bucket_{n}": f"{bucket}#{random.randrange(PG_SHARDS)}" for n, bucket in enumerate(limits)
    }
    params["rl_window"] = window
    return params
