"""Throttling of failed authentication, per presented key and per client address.

Counts live in each worker's memory (a sliding window): with N workers an attacker gets at
most N times the budget, which still bounds guessing against 256-bit secrets; success never
counts, so legitimate partners are not slowed.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from syndication.errors import DomainError, Unauthenticated

T = TypeVar("T")


class TooManyAttempts(DomainError):
    status_code = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"too many failed attempts; retry in {retry_after} s", retry_after=retry_after
        )
        self.retry_after = retry_after


class FailureLimiter:
    def __init__(
        self,
        limit: int = 10,
        window_s: float = 60.0,
        max_tracked: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit, self.window_s, self.max_tracked, self.clock = (
            limit,
            window_s,
            max_tracked,
            clock,
        )
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def _recent(self, who: str, now: float) -> deque[float]:
        times = self._failures.get(who)
        if times is None:
            return deque()
        while times and times[0] <= now - self.window_s:
            times.popleft()
        return times

    def check(self, *who: str) -> None:
        """Refuse before verifying when any of `who` is over budget."""
        now = self.clock()
        with self._lock:
            for name in who:
                times = self._recent(name, now)
                if len(times) >= self.limit:
                    raise TooManyAttempts(max(1, math.ceil(times[0] + self.window_s - now)))

    def fail(self, *who: str) -> None:
        now = self.clock()
        with self._lock:
            for name in who:
                times = self._recent(name, now)
                times.append(now)
                self._failures[name] = times
                self._failures.move_to_end(name)
            while len(self._failures) > self.max_tracked:
                self._failures.popitem(last=False)


@dataclass
class AuthThrottle:
    """Failed-authentication budgets: tight per presented secret, looser per address."""

    per_secret: FailureLimiter = field(default_factory=lambda: FailureLimiter(limit=10))
    per_address: FailureLimiter = field(default_factory=lambda: FailureLimiter(limit=50))

    async def attempt(
        self, address: str, secret: str | None, verify: Callable[[], Awaitable[T]]
    ) -> T:
        if not secret:  # nothing presented: not a guess, just a 401
            return await verify()
        # A key's own budget never locks its holder out: a correct secret always passes,
        # while wrong ones presented for that key turn from 401 into 429.
        secret_id, address_id = "s:" + secret[:24], "a:" + address
        self.per_address.check(address_id)
        try:
            return await verify()
        except Unauthenticated:
            self.per_secret.fail(secret_id)
            self.per_address.fail(address_id)
            self.per_secret.check(secret_id)
            raise
