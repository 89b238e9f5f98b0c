"""Feed pulls are written in small batches, so no flush holds a worker's event loop for long."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from syndication.feeds import runtime
from syndication.feeds.runtime import UsageBuffer
from syndication.usage.service import Usage

PULL = Usage(kind="feed_pull", partner_id=1, at=datetime(2026, 11, 26, tzinfo=UTC), format="atom")


def test_no_batch_exceeds_a_few_hundred_pulls(monkeypatch: Any) -> None:
    written: list[int] = []
    monkeypatch.setattr(runtime, "record", lambda _engine, events: written.append(len(events)))
    buffer = UsageBuffer(engine=None)  # type: ignore[arg-type]
    for _ in range(2_000):  # a burst far faster than the flush interval
        if buffer.add(PULL):
            buffer.flush()  # what the scheduled background task does
    buffer.flush()
    assert sum(written) == 2_000
    assert max(written) <= 500, written


def test_a_flush_is_due_a_tenth_of_a_second_later() -> None:
    buffer = UsageBuffer(engine=None)  # type: ignore[arg-type]
    assert buffer.add(PULL)
    assert not buffer.add(PULL)
    time.sleep(runtime.USAGE_FLUSH_SECONDS + 0.02)
    assert buffer.add(PULL) and runtime.USAGE_FLUSH_SECONDS <= 0.1
