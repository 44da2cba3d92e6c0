"""Rate limiters for emulators: a sliding window (DigitalOcean's hourly and per-minute
limits) and a token bucket (Amperity's 10 requests a second)."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable


class SlidingWindow:
    """A rate limit where each request counts for ``window`` seconds after it was made.

    Not thread-safe: callers hold their own lock. ``clock`` is epoch seconds.
    """

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.time) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._times: deque[float] = deque()

    def _expire(self) -> float:
        now = self.clock()
        while self._times and self._times[0] <= now - self.window:
            self._times.popleft()
        return now

    def has_room(self) -> bool:
        """Whether one more request fits now."""
        self._expire()
        return len(self._times) < self.limit

    def count(self) -> None:
        """Count a request made now."""
        self._times.append(self._expire())

    def remaining(self) -> int:
        """Requests that still fit now."""
        self._expire()
        return max(self.limit - len(self._times), 0)

    def reset_epoch(self) -> float:
        """When the oldest counted request stops counting (now, if none counts)."""
        now = self._expire()
        return self._times[0] + self.window if self._times else now

    def seconds_until_room(self) -> float:
        """How long until one more request fits."""
        now = self._expire()
        if len(self._times) < self.limit:
            return 0.0
        return self._times[len(self._times) - self.limit] + self.window - now


class TokenBucket:
    """A rate limit of ``rate`` requests a second with bursts up to ``burst``.

    Not thread-safe: callers hold their own lock. ``clock`` is monotonic seconds.
    """

    def __init__(
        self, rate: float, burst: float | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = burst if burst is not None else rate
        self.clock = clock
        self._tokens = self.burst
        self._at = clock()

    def _refill(self) -> None:
        now = self.clock()
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now

    def take(self) -> bool:
        """Spend a token if one is there; whether the request may go on."""
        self._refill()
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False

    def seconds_until_token(self) -> float:
        """How long until a token is there."""
        self._refill()
        return max(0.0, (1 - self._tokens) / self.rate)
