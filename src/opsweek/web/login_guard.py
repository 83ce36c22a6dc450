"""Guessing passwords is slow and cannot exhaust the server: failed logins are counted per user
and per client address over a window, and past a limit answered 429 without checking the
password; at most a few password hashes (argon2, 64 MiB each) are computed at once."""

from __future__ import annotations

import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from threading import BoundedSemaphore, Lock

WINDOW_SECONDS = 15 * 60
FAILURES_PER_USER = 5
FAILURES_PER_ADDRESS = 20
CONCURRENT_HASHES = 2


@dataclass
class LoginGuard:
    window: float = WINDOW_SECONDS
    per_user: int = FAILURES_PER_USER
    per_address: int = FAILURES_PER_ADDRESS
    clock: Callable[[], float] = time.monotonic
    _failures: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))
    _lock: Lock = field(default_factory=Lock)
    # held while a password is hashed (in a worker thread): the others wait
    hashing: BoundedSemaphore = field(default_factory=lambda: BoundedSemaphore(CONCURRENT_HASHES))

    def wait_seconds(self, user: str, address: str) -> float:
        """0 when a login of ``user`` from ``address`` may be tried now, else how long until
        it may."""
        now = self.clock()
        waits = [
            self._wait(f"user:{user}", self.per_user, now),
            self._wait(f"address:{address}", self.per_address, now),
        ]
        return max(waits)

    def failed(self, user: str, address: str) -> None:
        now = self.clock()
        with self._lock:
            for key in (f"user:{user}", f"address:{address}"):
                self._failures[key].append(now)
            if len(self._failures) > 100_000:  # a flood of names: forget the oldest half
                for key in list(self._failures)[: len(self._failures) // 2]:
                    del self._failures[key]

    def succeeded(self, user: str) -> None:
        with self._lock:
            self._failures.pop(f"user:{user}", None)

    def _wait(self, key: str, limit: int, now: float) -> float:
        with self._lock:
            times = self._failures.get(key)
            if not times:
                return 0.0
            while times and times[0] <= now - self.window:
                times.popleft()
            if len(times) < limit:
                return 0.0
            return times[0] + self.window - now
