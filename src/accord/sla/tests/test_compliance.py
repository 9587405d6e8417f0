from datetime import UTC, datetime, timedelta

import pytest

from accord.sla import compliance
from accord.sla.compliance import Outcome

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
DUE = T0 + timedelta(hours=1)


def test_response_times_fall_in_log_spaced_buckets_three_per_doubling():
    assert compliance.bucket_of(0) == 0
    assert compliance.bucket_of(59.9) == 0
    assert compliance.bucket_of(60) == 1
    assert compliance.bucket_of(120) == 4
    assert compliance.bucket_of(3600) == 1 + 3 * 5 + 2  # 60 min is 2^5.9 minutes
    assert compliance.bucket_of(10**9) == compliance.BUCKETS - 1


def test_every_bucket_holds_the_times_its_bounds_say():
    for index in range(1, compliance.BUCKETS - 1):
        low, high = compliance.bucket_bounds(index)
        assert compliance.bucket_of(low * 1.0001) == index
        assert compliance.bucket_of(high * 0.9999) == index


def test_the_median_of_a_histogram_is_read_within_its_bucket():
    counts = [0] * compliance.BUCKETS
    for seconds in (600, 620, 640, 4000, 9000):
        counts[compliance.bucket_of(seconds)] += 1

    median = compliance.quantile(counts, 0.5)
    p90 = compliance.quantile(counts, 0.9)

    low, high = compliance.bucket_bounds(compliance.bucket_of(640))
    assert low <= median < high
    low, high = compliance.bucket_bounds(compliance.bucket_of(9000))
    assert low <= p90 < high
    assert compliance.quantile([0] * compliance.BUCKETS, 0.5) is None


@pytest.mark.parametrize(("met", "cancelled", "breached", "paused", "expected"), [
    (None, None, None, None, Outcome.PENDING),
    (DUE, None, None, None, Outcome.MET_ON_TIME),
    (DUE + timedelta(seconds=1), None, None, None, Outcome.MET_LATE),
    (DUE + timedelta(hours=2), None, DUE, None, Outcome.MET_LATE),
    (None, None, DUE, None, Outcome.BREACHED),
    (None, DUE - timedelta(minutes=5), None, None, Outcome.CANCELLED),
    (None, DUE + timedelta(minutes=5), None, None, Outcome.BREACHED),
    (None, DUE + timedelta(hours=3), DUE, None, Outcome.BREACHED),
    # Paused before its due time, the clock's due time is stale: it was inside its time.
    (DUE + timedelta(hours=5), None, None, DUE - timedelta(minutes=1), Outcome.MET_ON_TIME),
    (None, DUE + timedelta(hours=5), None, DUE - timedelta(minutes=1), Outcome.CANCELLED),
])
def test_a_clock_counts_by_whether_it_was_met_before_its_due_time(met, cancelled, breached, paused, expected):
    assert compliance.outcome(due_at=DUE, met_at=met, cancelled_at=cancelled, breached_at=breached,
                              paused_since=paused) is expected


def test_only_met_clocks_carry_a_response_time_and_running_clocks_count_nowhere():
    running = compliance.contribution(Outcome.PENDING, attempts_done=2, response_seconds=None)
    breached = compliance.contribution(Outcome.BREACHED, attempts_done=2, response_seconds=None)
    met = compliance.contribution(Outcome.MET_LATE, attempts_done=0, response_seconds=3600)

    assert not any(running.vector())
    assert breached.vector()[:5] == [0, 0, 1, 0, 2] and not any(breached.vector()[5:])
    assert met.vector()[:5] == [0, 1, 0, 0, 0]
    assert met.vector()[5 + compliance.bucket_of(3600)] == 1
