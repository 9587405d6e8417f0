"""Fixed-window request counters shared by every worker process, kept in the database.

One statement counts a request against all its buckets at once (an upsert returning the
new counts), so a flood costs one small write per request and no read-modify-write race.
"""

from __future__ import annotations

import math
import time
from functools import partial

from django.db import connection, transaction

from accord.capture.groupcommit import run_in_transaction
from accord.capture.models import RateLimitCounter

WINDOW_SECONDS = 60

# The last window this process swept old counters for: one DELETE a minute per worker,
# not one per new visitor (every new IP opens a bucket).
_swept_window = -1


def hit(limits: dict[str, int], *, now: float | None = None) -> int | None:
    """Count one request in each bucket; return seconds to wait if any bucket is over its limit.

    Inside a transaction the count commits with it (the public form endpoint counts and
    stores in one commit, and commits the count when it refuses); alone it commits at once.
    """
    global _swept_window
    if not limits:
        return None
    now = time.time() if now is None else now
    window = int(now // WINDOW_SECONDS)
    table = connection.ops.quote_name(RateLimitCounter._meta.db_table)
    rows = ", ".join(["(%s, %s, 1)"] * len(limits))
    params: list[object] = []
    for bucket in limits:
        params += [bucket, window]
    # Only the quoted table name and placeholders are formatted in; values are parameters.
    sql = (
        f"INSERT INTO {table} (bucket, window_start, count) VALUES {rows} "  # noqa: S608
        f"ON CONFLICT (bucket, window_start) DO UPDATE SET count = {table}.count + 1 "
        "RETURNING bucket, count"
    )
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute(sql, params)
        counts = dict(cursor.fetchall())
        if window != _swept_window:
            # Windows before this one can no longer refuse anything.
            cursor.execute(f"DELETE FROM {table} WHERE window_start < %s", [window])  # noqa: S608
            _swept_window = window
    if any(counts[bucket] > limit for bucket, limit in limits.items()):
        return max(1, math.ceil((window + 1) * WINDOW_SECONDS - now))
    return None


def hit_and_commit(limits: dict[str, int]) -> int | None:
    """Count one request and commit the count (grouped with other requests' writes); see hit."""
    return run_in_transaction(partial(hit, limits))
