"""Compliance maths: how a clock counts in the rollup, and response-time quantiles from a histogram.

Pure functions, no Django: the services write the rollup with them as clocks settle, the
rebuild recomputes it from the raw clocks with the very same functions, and the reports read
median and p90 from the histogram without touching a clock.

A clock counts once it is *settled*: met (on time or late), past due and unmet (breached,
whether still open or closed later), or cancelled before it fell due (the promise was lifted:
the lead was reassigned, rejected or converted in time, and the clock is left out of the
share). A clock still running counts nowhere yet.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

# Log-spaced response-time buckets: [0, 1 min), then three per doubling from one minute
# ([60 s·2^((i-1)/3), 60 s·2^(i/3))), and the last open-ended from about 29 days: wide
# enough for the attempts clocks' calendar days, fine enough (a factor of 1.26 per bucket)
# for a median read to within about 12 %.
BUCKETS = 48
FIRST_EDGE = 60.0
STEP = 2 ** (1 / 3)


def bucket_of(seconds: float) -> int:
    """Return the histogram bucket a response time falls in."""
    if seconds < FIRST_EDGE:
        return 0
    return min(BUCKETS - 1, 1 + math.floor(math.log(seconds / FIRST_EDGE, STEP) + 1e-9))


def bucket_bounds(index: int) -> tuple[float, float]:
    """Return a bucket's [low, high) in seconds; the last bucket's high is its low times the step."""
    if index == 0:
        return 0.0, FIRST_EDGE
    low = FIRST_EDGE * STEP ** (index - 1)
    return low, low * STEP


def quantile(counts: Sequence[int], q: float) -> float | None:
    """Return the q-quantile (0–1) of the times a histogram holds, in seconds; None when it is empty.

    Interpolates inside the bucket the quantile falls in, linearly in the log of the time
    (times within one log-spaced bucket spread evenly on that scale), linearly in the first.
    """
    total = sum(counts)
    if total <= 0:
        return None
    rank = q * total
    seen = 0
    for index, count in enumerate(counts):
        if count <= 0:
            continue
        if seen + count >= rank:
            share = (rank - seen) / count
            low, high = bucket_bounds(index)
            if index == 0:
                return low + share * (high - low)
            return low * (high / low) ** share
        seen += count
    return bucket_bounds(len(counts) - 1)[1]


class Outcome(StrEnum):
    PENDING = "pending"
    MET_ON_TIME = "met_on_time"
    MET_LATE = "met_late"
    BREACHED = "breached"
    CANCELLED = "cancelled"


def _before_due(moment: datetime, due_at: datetime, paused_since: datetime | None) -> bool:
    # A paused clock's due time is stale (it moves on resume): what counts is whether it was
    # still inside its time when it stopped.
    if paused_since is not None:
        moment = min(moment, paused_since)
    return moment <= due_at


def outcome(*, due_at: datetime, met_at: datetime | None, cancelled_at: datetime | None,
            breached_at: datetime | None, paused_since: datetime | None) -> Outcome:
    """Return how a clock counts now."""
    if met_at is not None:
        return Outcome.MET_ON_TIME if _before_due(met_at, due_at, paused_since) else Outcome.MET_LATE
    if breached_at is not None:
        return Outcome.BREACHED
    if cancelled_at is not None:
        return Outcome.CANCELLED if _before_due(cancelled_at, due_at, paused_since) else Outcome.BREACHED
    return Outcome.PENDING


COUNTERS = ("met_on_time", "met_late", "breached", "cancelled", "attempts")


@dataclass(frozen=True)
class Contribution:
    """What one clock adds to its rollup row: one outcome counter, its attempts, and its response bucket."""

    outcome: Outcome
    attempts: int = 0
    bucket: int | None = None

    def vector(self) -> list[int]:
        """Return the counters (COUNTERS order) followed by the BUCKETS histogram counts."""
        values = [0] * (len(COUNTERS) + BUCKETS)
        if self.outcome is Outcome.PENDING:
            return values
        values[COUNTERS.index(self.outcome.value)] = 1
        values[COUNTERS.index("attempts")] = self.attempts
        if self.bucket is not None:
            values[len(COUNTERS) + self.bucket] = 1
        return values


def contribution(result: Outcome, *, attempts_done: int, response_seconds: float | None) -> Contribution:
    """Return a settled clock's contribution; a running clock contributes nothing."""
    if result is Outcome.PENDING:
        return Contribution(result)
    met = result in (Outcome.MET_ON_TIME, Outcome.MET_LATE)
    bucket = bucket_of(max(0.0, response_seconds or 0.0)) if met else None
    return Contribution(result, attempts=attempts_done, bucket=bucket)


def share(part: int, whole: int) -> float | None:
    return part / whole if whole else None
