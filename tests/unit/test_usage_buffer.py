"""Feed pulls are counted per (partner, format, second) and written in small batches, so a
busy feed costs a row a second, not a row a pull, and no flush holds a worker for long."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from syndication.feeds import runtime
from syndication.feeds.runtime import UsageBuffer
from syndication.usage.service import Usage

AT = datetime(2026, 11, 26, 12, 0, 0, 250_000, tzinfo=UTC)


def _capture(monkeypatch: Any) -> list[list[Usage]]:
    written: list[list[Usage]] = []
    monkeypatch.setattr(runtime, "record", lambda _engine, events: written.append(list(events)))
    return written


def test_pulls_in_one_second_are_one_row_that_counts_them(monkeypatch: Any) -> None:
    written = _capture(monkeypatch)
    buffer = UsageBuffer(engine=None)  # type: ignore[arg-type]
    for i in range(2_000):  # a burst far faster than the flush interval, within one second
        buffer.pull(7, "atom", AT + timedelta(microseconds=i * 300))
    buffer.pull(7, "rss", AT)
    buffer.pull(8, "atom", AT)
    buffer.pull(7, "atom", AT + timedelta(seconds=1))
    buffer.flush()
    rows = {(u.partner_id, u.format, u.at): u.times for batch in written for u in batch}
    second = AT.replace(microsecond=0)
    assert rows == {
        (7, "atom", second): 2_000,
        (7, "rss", second): 1,
        (8, "atom", second): 1,
        (7, "atom", second + timedelta(seconds=1)): 1,
    }
    assert {u.kind for batch in written for u in batch} == {"feed_pull"}


def test_no_batch_exceeds_a_few_hundred_rows(monkeypatch: Any) -> None:
    written = _capture(monkeypatch)
    buffer = UsageBuffer(engine=None)  # type: ignore[arg-type]
    for partner in range(2_000):  # many partners at once: a row each
        if buffer.pull(partner, "atom", AT):
            buffer.flush()  # what the scheduled background task does
    buffer.flush()
    assert sum(u.times for batch in written for u in batch) == 2_000
    assert max(len(batch) for batch in written) <= runtime.USAGE_FLUSH_ROWS <= 500


def test_a_flush_is_due_a_tenth_of_a_second_later() -> None:
    buffer = UsageBuffer(engine=None)  # type: ignore[arg-type]
    assert buffer.pull(1, "atom", AT)
    assert not buffer.pull(1, "atom", AT)
    time.sleep(runtime.USAGE_FLUSH_SECONDS + 0.02)
    assert buffer.pull(1, "atom", AT) and runtime.USAGE_FLUSH_SECONDS <= 0.1
