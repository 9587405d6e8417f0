"""The SLA priority tier a lead's score earns, without a database."""

import pytest

from accord.handoff.domain import priority_tier

DEFAULT_TIERS = {"hot": 1, "warm": 4, "cold": 8}


@pytest.mark.parametrize(("score", "tier"), [
    (100, "hot"), (88, "hot"), (87, "warm"), (74, "warm"), (73, "cold"), (60, "cold"), (12, "cold"), (140, "hot"),
])
def test_the_band_over_the_threshold_is_split_evenly_fastest_tier_at_the_top(score, tier):
    assert priority_tier(score=score, threshold=60, first_touch_hours=DEFAULT_TIERS) == tier


def test_tiers_are_ranked_by_their_first_touch_time_not_by_their_names():
    tiers = {"later": 24, "now": 0.5}

    assert [priority_tier(score=s, threshold=50, first_touch_hours=tiers) for s in (100, 50)] == ["now", "later"]


def test_a_single_tier_takes_every_lead():
    assert priority_tier(score=99, threshold=60, first_touch_hours={"all": 2}) == "all"
