"""Feed pulls are counted per (partner, format, second) and written in small batches, so a
busy feed costs a row a second, not a row a pull, and no flush holds a worker for long."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
import sqlalchemy.exc

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


def test_a_pull_asks_for_a_flush_once_the_row_bound_is_held(monkeypatch: Any) -> None:
    written = _capture(monkeypatch)
    buffer = UsageBuffer(engine=None)  # type: ignore[arg-type]
    asked = [p for p in range(runtime.USAGE_FLUSH_ROWS + 10) if buffer.pull(p, "atom", AT)]
    assert asked == [runtime.USAGE_FLUSH_ROWS - 1]  # once, until that flush has run
    buffer.flush()
    assert not buffer.held()  # in statements of at most USAGE_FLUSH_ROWS rows
    assert [len(batch) for batch in written] == [runtime.USAGE_FLUSH_ROWS, 10]
    assert not buffer.pull(1, "atom", AT)  # a lone pull is left to the flusher


def test_the_flusher_writes_held_pulls_without_waiting_for_another_pull(monkeypatch: Any) -> None:
    written = _capture(monkeypatch)
    monkeypatch.setattr(runtime, "USAGE_FLUSH_SECONDS", 0.01)
    buffer = UsageBuffer(engine=None)  # type: ignore[arg-type]

    async def scenario() -> None:
        flusher = asyncio.create_task(runtime.flush_usage(buffer))
        buffer.pull(1, "atom", AT)
        buffer.pull(1, "atom", AT)
        for _ in range(200):
            await asyncio.sleep(0.01)
            if written:
                break
        buffer.pull(2, "rss", AT)  # the flusher goes on after writing
        for _ in range(200):
            await asyncio.sleep(0.01)
            if len(written) == 2:
                break
        flusher.cancel()

    asyncio.run(scenario())
    assert [[(u.partner_id, u.format, u.times) for u in batch] for batch in written] == [
        [(1, "atom", 2)],
        [(2, "rss", 1)],
    ]


def test_a_failed_write_does_not_stop_the_flusher(monkeypatch: Any) -> None:
    batches: list[int] = []

    def failing_once(_engine: Any, events: list[Usage]) -> None:
        batches.append(len(events))
        if len(batches) == 1:
            raise psycopg.OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(runtime, "record", failing_once)
    monkeypatch.setattr(runtime, "USAGE_FLUSH_SECONDS", 0.01)
    buffer = UsageBuffer(engine=None)  # type: ignore[arg-type]

    async def scenario() -> None:
        flusher = asyncio.create_task(runtime.flush_usage(buffer))
        buffer.pull(1, "atom", AT)
        while not batches:
            await asyncio.sleep(0.01)
        buffer.pull(2, "atom", AT)
        while len(batches) < 2:
            await asyncio.sleep(0.01)
        flusher.cancel()

    asyncio.run(asyncio.wait_for(scenario(), timeout=10))
    assert batches == [1, 2]  # the failed batch's row goes again with the next one


def test_a_failed_write_keeps_its_counts_for_the_next_flush(monkeypatch: Any) -> None:
    """A database blip (a restart, a failover) must not drop a second's pulls: the counts go
    back, merged with the pulls held meanwhile, and the next flush writes them all."""
    written: list[list[Usage]] = []
    failing = [True]

    def record(_engine: object, events: Any) -> None:
        if failing[0]:
            raise psycopg.OperationalError("server closed the connection unexpectedly")
        written.append(list(events))

    monkeypatch.setattr(runtime, "record", record)
    buffer = UsageBuffer(engine=None)  # type: ignore[arg-type]
    buffer.pull(1, "atom", AT)
    buffer.pull(1, "atom", AT)
    with pytest.raises(psycopg.OperationalError, match="server closed"):
        buffer.flush()
    assert buffer.held()
    buffer.pull(1, "atom", AT)  # meanwhile, the same second
    buffer.pull(2, "rss", AT)
    failing[0] = False
    buffer.flush()
    second = AT.replace(microsecond=0)
    assert {(u.partner_id, u.format, u.at): u.times for u in written[0]} == {
        (1, "atom", second): 3,
        (2, "rss", second): 1,
    }
    assert not buffer.held()


def test_only_the_rows_the_database_refuses_are_dropped(monkeypatch: Any) -> None:
    """A batch refused for one row (here a partner deleted while its pulls were held) is
    written again row by row: the refused row is dropped, or it would come back at every
    flush after it, and the others are kept."""
    written: list[int] = []

    def record(_engine: object, events: Any) -> None:
        events = list(events)
        if any(u.partner_id == 666 for u in events):
            raise sqlalchemy.exc.IntegrityError("INSERT", {}, Exception("foreign key"))
        written.extend(u.partner_id for u in events)

    monkeypatch.setattr(runtime, "record", record)
    buffer = UsageBuffer(engine=None)  # type: ignore[arg-type]
    partners = [666, *range(1, runtime.USAGE_FLUSH_ROWS)]  # the first batch holds 666
    for partner in partners:
        buffer.pull(partner, "atom", AT)
    buffer.pull(9_999, "atom", AT)  # the second batch
    buffer.flush()  # no error: the refused row is logged and dropped
    assert not buffer.held()
    assert sorted(written) == sorted([*partners[1:], 9_999])


def test_an_interrupted_write_keeps_its_counts(monkeypatch: Any) -> None:
    def record(_engine: object, _events: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(runtime, "record", record)
    buffer = UsageBuffer(engine=None)  # type: ignore[arg-type]
    buffer.pull(1, "atom", AT)
    with pytest.raises(KeyboardInterrupt):
        buffer.flush()
    assert buffer.held()
