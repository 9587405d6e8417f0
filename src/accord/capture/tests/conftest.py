from types import SimpleNamespace

import pytest

from accord.capture import ratelimit


@pytest.fixture(autouse=True)
def one_rate_limit_window(monkeypatch):
    """Hold the rate limiter's clock at one instant: the start of a one-minute window.

    Counts are read back for the current window only, and posts that straddled a minute were
    counted in two (CI once read 8 of 20), or let a third post through a limit of two.
    """
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: 1_800_000_000.0))
