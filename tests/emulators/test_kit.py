"""The emulator kit's rate limiters, on a clock the tests move by hand."""

from __future__ import annotations

import pytest

from sqlprovider.emulators.kit import SlidingWindow, TokenBucket
from tests.conftest import Clock


def test_sliding_window_frees_each_request_a_window_after_it() -> None:
    clock = Clock()
    window = SlidingWindow(limit=2, window=60, clock=clock)
    window.count()
    clock.now += 10
    window.count()
    assert not window.has_room() and window.remaining() == 0
    assert window.seconds_until_room() == pytest.approx(50)
    assert window.reset_epoch() == pytest.approx(clock.now + 50)
    clock.now += 50
    assert window.has_room() and window.remaining() == 1
    clock.now += 10
    assert window.remaining() == 2 and window.reset_epoch() == clock.now


def test_token_bucket_allows_bursts_then_the_rate() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=10, burst=3, clock=clock)
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    assert bucket.seconds_until_token() == pytest.approx(0.1)
    clock.now += 0.1
    assert bucket.take() and not bucket.take()
    clock.now += 5  # refills, but never past the burst
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
