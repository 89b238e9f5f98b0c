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
        self.lanes: list[int] = []  # the lane of each read, in the order they were sent
        self.in_flight = self.most_in_flight = 0

    async def fetch(self, lane: int) -> int:
        self.started += 1
        number = self.started
        self.lanes.append(lane)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await self.gate.wait()
        finally:
            self.in_flight -= 1
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


def test_stopping_cancels_every_waiter_and_frees_the_lanes() -> None:
    async def scenario() -> None:
        source = Source()
        shared, first, waiting = await sent_and_waiting(source)  # read 1 in flight, 2 waits
        queued = asyncio.create_task(shared.read())  # joins the read waiting for a lane
        await asyncio.sleep(0)
        requests = {first, waiting, queued, asyncio.current_task()}
        for task in asyncio.all_tasks() - requests:  # the read tasks, as a closing loop does
            task.cancel()
        done, pending = await asyncio.wait([first, waiting, queued], timeout=1)
        assert not pending and all(task.cancelled() for task in done)
        source.gate.set()
        assert await shared.read() == 2  # a later request starts afresh, on a free lane
        assert source.started == 2

    asyncio.run(scenario())


def test_a_read_task_stopped_as_it_answers_leaves_nobody_waiting() -> None:
    async def scenario() -> None:
        source = Source()
        shared, first, waiting = await sent_and_waiting(source)
        runner = asyncio.current_task

        def stop() -> None:  # read 1's task cancelled as it answers (inside that task)
            task = runner()
            assert task is not None
            task.cancel()

        source.on_answer = stop
        source.gate.set()
        assert await first == 1
        _done, pending = await asyncio.wait([waiting], timeout=1)
        assert not pending  # answered by read 2, or cancelled: never left hanging
        if not waiting.cancelled():
            assert waiting.result() == 2
        assert await shared.read() > 1

    asyncio.run(scenario())


def test_a_second_lane_sends_a_read_while_the_first_is_in_flight() -> None:
    async def scenario() -> None:
        source = Source()
        shared = SharedRead(source.fetch, lanes=2)
        first = asyncio.create_task(shared.read())
        await asyncio.sleep(0)  # read 1 sent on lane 0
        second = [asyncio.create_task(shared.read()) for _ in range(2)]
        await asyncio.sleep(0)
        await asyncio.sleep(0)  # read 2 sent on lane 1, read 1 still unanswered
        assert source.started == 2 and source.in_flight == 2
        third = [asyncio.create_task(shared.read()) for _ in range(3)]  # no lane is free
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        assert source.started == 2
        source.gate.set()
        assert await first == 1
        assert await asyncio.gather(*second) == [2, 2]
        assert await asyncio.gather(*third) == [3, 3, 3]  # sent when a lane freed, shared
        assert source.lanes == [0, 1, 1] or source.lanes == [0, 1, 0]
        assert source.most_in_flight == 2

    asyncio.run(scenario())


def test_with_lanes_a_request_still_never_takes_a_read_sent_before_it() -> None:
    async def scenario() -> None:
        source = Source()
        source.gate.set()
        shared = SharedRead(source.fetch, lanes=2)
        answers: list[tuple[int, int]] = []  # (reads sent when it arrived, its answer)

        async def request() -> None:
            sent_before = source.started
            answers.append((sent_before, await shared.read()))

        for _ in range(20):
            await asyncio.gather(*(request() for _ in range(5)))
            await asyncio.sleep(0)
        assert all(answer > sent_before for sent_before, answer in answers)
        assert source.most_in_flight <= 2

    asyncio.run(scenario())
