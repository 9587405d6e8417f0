"""How the lead page words a model's probability."""

import pytest

from accord.handoff.selectors import _likelihood


@pytest.mark.parametrize(
    ("probability", "words"),
    [(0.0, "under 1%"), (0.0049, "under 1%"), (0.0051, "1%"), (0.234, "23%"), (0.994, "99%"),
     (0.9951, "over 99%"), (1.0, "over 99%")],
)
def test_a_probability_reads_as_a_percentage_that_never_claims_never_or_certain(probability, words):
    assert _likelihood(probability) == words
