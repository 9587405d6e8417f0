import threading

import numpy as np
import pytest

from accord.imports.engine import _MISSING, SeenKeys, _parse_column, prefetched
from accord.imports.values import cached


def test_a_consumer_that_stops_early_does_not_leave_the_reader_thread_waiting():
    before = threading.active_count()

    with pytest.raises(RuntimeError):
        for _ in prefetched(iter(range(10)), depth=2):
            raise RuntimeError("the database write failed")

    assert threading.active_count() == before


def test_an_error_in_the_reader_thread_reaches_the_consumer():
    def records():
        yield 1
        raise ValueError("line 7 cannot be read")

    with pytest.raises(ValueError, match="line 7"):
        list(prefetched(records()))


def test_seen_keys_remember_the_first_row_and_digest_across_merged_runs(monkeypatch):
    monkeypatch.setattr(SeenKeys, "MAX_RUN", 8)
    seen = SeenKeys()
    for start in range(0, 40, 4):
        keys = np.arange(start, start + 4, dtype=np.int64) * 7919
        seen.add(keys, keys // 7919 + 2, keys * 3)

    rows, digests = seen.lookup(np.array([0, 7919 * 39, 7919 * 40, -5], dtype=np.int64))

    assert rows.tolist() == [2, 41, -1, -1]
    assert digests.tolist() == [0, 7919 * 39 * 3, 0, 0]


def test_a_cached_column_parses_each_distinct_cell_once_and_starts_over_past_its_limit():
    calls = []

    def stage(raw: str) -> str:
        calls.append(raw)
        if raw == "hot":
            raise ValueError("unknown stage 'hot'")
        return raw.upper()

    parse = cached(stage, limit=2)
    errors: dict[int, list[tuple[str, str]]] = {}

    first = _parse_column(["lead", "lead", "hot", "", "mql"], "Stage", parse, errors)
    second = _parse_column(["lead", "sql"], "Stage", parse, errors)

    assert first == ["LEAD", "LEAD", _MISSING, _MISSING, "MQL"]
    assert second == ["LEAD", "SQL"]
    assert errors == {2: [("Stage", "unknown stage 'hot'")]}
    # The memo held four entries after the first column, over its limit of two: it was
    # cleared, so "lead" was parsed again.
    assert sorted(calls) == ["hot", "lead", "lead", "mql", "sql"]
