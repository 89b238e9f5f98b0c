"""SharedRead: concurrent requests share one catalog-version read, but never one that began
before they arrived (it could miss a commit made just before them)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from syndication.feeds.runtime import SharedRead


class Source:
    """A fetch that counts its calls and waits for the test to let each one finish."""

    def __init__(self) -> None:
        self.started = 0
        self.gate = asyncio.Event()
        self.fail_next = False
        self.on_answer: Callable[[], object] | None = None  # called once, as a read answers

    async def fetch(self) -> int:
        self.started += 1
        number = self.started
        await self.gate.wait()
        if self.on_answer is not None:
            self.on_answer, call = None, self.on_answer
            call()
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("connection lost")
        return number


async def sent_and_waiting(
    source: Source,
) -> tuple[SharedRead, asyncio.Task[int], asyncio.Task[int]]:
    """A SharedRead whose read 1 has been sent, and a request that must wait for read 2."""
    shared = SharedRead(source.fetch)
    first = asyncio.create_task(shared.read())
    await asyncio.sleep(0)  # read 1 sent
    waiting = asyncio.create_task(shared.read())
    await asyncio.sleep(0)
    return shared, first, waiting


def test_a_request_never_takes_a_read_that_began_before_it() -> None:
    async def scenario() -> None:
        source = Source()
        shared = SharedRead(source.fetch)
        first = asyncio.create_task(shared.read())
        await asyncio.sleep(0)  # read 1 is now in flight
        await asyncio.sleep(0)
        assert source.started == 1
        later = [asyncio.create_task(shared.read()) for _ in range(5)]
        await asyncio.sleep(0)
        source.gate.set()
        assert await first == 1
        assert await asyncio.gather(*later) == [2] * 5  # one more read, shared by all five
        assert source.started == 2

    asyncio.run(scenario())


def test_a_lone_request_costs_one_read() -> None:
    async def scenario() -> None:
        source = Source()
        source.gate.set()
        shared = SharedRead(source.fetch)
        assert [await shared.read() for _ in range(3)] == [1, 2, 3]

    asyncio.run(scenario())


def test_requests_arriving_before_the_query_is_sent_share_it() -> None:
    async def scenario() -> None:
        source = Source()
        source.gate.set()
        shared = SharedRead(source.fetch)
        together = [asyncio.create_task(shared.read()) for _ in range(4)]  # one loop step
        assert await asyncio.gather(*together) == [1] * 4
        assert source.started == 1

    asyncio.run(scenario())


def test_the_next_read_waits_one_step_for_more_arrivals() -> None:
    async def scenario() -> None:
        source = Source()
        shared, first, waiting = await sent_and_waiting(source)
        late: list[asyncio.Future[int]] = []
        # A request that arrives in the loop step in which read 1 answers: read 2 has been
        # asked for by then, but is not sent until the step after, so it shares read 2.
        source.on_answer = lambda: late.append(asyncio.ensure_future(shared.read()))
        source.gate.set()
        assert await first == 1
        assert await asyncio.gather(waiting, *late) == [2, 2]
        assert source.started == 2

    asyncio.run(scenario())


def test_a_failed_read_reaches_its_waiters_and_the_next_read_retries() -> None:
    async def scenario() -> None:
        source = Source()
        source.fail_next = True
        shared = SharedRead(source.fetch)
        first = asyncio.create_task(shared.read())
        await asyncio.sleep(0)  # read 1 sent
        later = [asyncio.create_task(shared.read()) for _ in range(2)]
        await asyncio.sleep(0)
        source.gate.set()
        results = await asyncio.gather(first, *later, return_exceptions=True)
        assert isinstance(results[0], RuntimeError)
        assert results[1:] == [2, 2]  # they arrived during read 1, so read 2 answers them
        assert await shared.read() == 3

    asyncio.run(scenario())


def test_a_cancelled_request_leaves_the_others_their_answer() -> None:
    async def scenario() -> None:
        source = Source()
        shared = SharedRead(source.fetch)
        leaving = asyncio.create_task(shared.read())
        staying = asyncio.create_task(shared.read())
        await asyncio.sleep(0)
        leaving.cancel()
        with pytest.raises(asyncio.CancelledError):
            await leaving
        source.gate.set()
        assert await staying == 1  # both joined read 1 before it was sent
        assert source.started == 1

    asyncio.run(scenario())


def test_stopping_between_reads_cancels_the_waiters_of_the_next() -> None:
    async def scenario() -> None:
        source = Source()
        shared, first, waiting = await sent_and_waiting(source)
        runner = asyncio.current_task

        def stop() -> None:  # the loop closing, as read 1 answers (inside its task)
            task = runner()
            assert task is not None
            task.cancel()

        source.on_answer = stop
        source.gate.set()
        assert await first == 1
        with pytest.raises(asyncio.CancelledError):
            await waiting
        assert await shared.read() == 2  # a later request starts afresh

    asyncio.run(scenario())
