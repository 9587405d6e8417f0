"""Pure rules for the handoff: which SLA priority tier a lead's score earns."""

from __future__ import annotations

from collections.abc import Mapping

MAX_SCORE = 100


def priority_tier(*, score: int, threshold: int, first_touch_hours: Mapping[str, float]) -> str:
    """Return the SLA tier for a lead: the higher its score over the MQL threshold, the faster its tier.

    The SLA names its tiers freely (hot/warm/cold by default) and gives each a first-touch time;
    the fastest tier is the most urgent. The band from the threshold to the top score is split
    into equal parts, one per tier, fastest at the top: with hot 1 h, warm 4 h, cold 8 h and a
    threshold of 60, scores 88–100 are hot, 74–87 warm, 60–73 cold. A lead under the threshold
    (given by hand) gets the slowest tier.
    """
    tiers = sorted(first_touch_hours, key=lambda name: (first_touch_hours[name], name))
    span = max(MAX_SCORE - threshold + 1, 1)
    over = score - threshold
    if over < 0:
        return tiers[-1]
    # Rank 0 is the top band; a score over 100 (custom rules) is still the top band.
    rank = len(tiers) - 1 - min(over * len(tiers) // span, len(tiers) - 1)
    return tiers[rank]
