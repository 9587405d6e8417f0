"""Fixed-window request counters shared by every worker process, kept in the database.

One statement counts a request against all its buckets at once (an upsert returning the
new counts), so a flood costs one small write per request and no read-modify-write race.
"""

from __future__ import annotations

import math
import time

from django.db import connection, transaction

from accord.capture.models import RateLimitCounter

WINDOW_SECONDS = 60


def hit(limits: dict[str, int], *, now: float | None = None) -> int | None:
    """Count one request in each bucket; return seconds to wait if any bucket is over its limit."""
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
    # Its own transaction: a refused or failed request still counts.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        counts = dict(cursor.fetchall())
        if any(count == 1 for count in counts.values()):
            # A bucket opened a new window: drop windows that can no longer matter.
            RateLimitCounter.objects.filter(window_start__lt=window).delete()
    if any(counts[bucket] > limit for bucket, limit in limits.items()):
        return max(1, math.ceil((window + 1) * WINDOW_SECONDS - now))
    return None
