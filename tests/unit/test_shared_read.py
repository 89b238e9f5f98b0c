"""SharedRead: concurrent requests share one catalog-version read, but never one that was sent
before they arrived (it could miss a commit made just before them). Driven here by a fake
connection whose answers the test posts."""

from __future__ import annotations

import asyncio
import contextlib
import socket

import psycopg
import pytest

from syndication.feeds.runtime import SharedRead, _PgVersion


class FakeWire:
    """A connection whose answers the test posts; its socket becomes readable when one is."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.ours, self.theirs = socket.socketpair()
        self.ours.setblocking(False)
        self.closed = False
        self.due: list[int | Exception] = []  # posted answers, not yet read

    def send(self) -> bool:
        if self.closed:
            raise psycopg.OperationalError("closed")
        self.server.sent.append(self)
        return True

    def fileno(self) -> int:
        return self.ours.fileno()

    def post(self, answer: int | Exception) -> None:
        self.due.append(answer)
        self.theirs.send(b"x")

    def answer(self) -> int | None:
        with contextlib.suppress(BlockingIOError):  # the byte that made it readable
            self.ours.recv(64)
        if not self.due:
            return None
        answer = self.due.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def read(self) -> int:
        self.send()
        while True:
            answer = self.answer()
            if answer is not None:
                return answer
            await asyncio.sleep(0.001)

    def close(self) -> None:
        self.closed = True
        self.ours.close()
        self.theirs.close()


class Server:
    """Counts connections and the reads sent over them."""

    def __init__(self) -> None:
        self.connections: list[FakeWire] = []
        self.sent: list[FakeWire] = []  # one entry per read sent, with its connection
        self.refuse = 0  # refuse this many connections
        self.hang = False  # never finish connecting
        self.refusal: Exception = psycopg.OperationalError("connection refused")

    async def connect(self) -> FakeWire:
        if self.hang:
            await asyncio.Event().wait()
        if self.refuse:
            self.refuse -= 1
            raise self.refusal
        wire = FakeWire(self)
        self.connections.append(wire)
        return wire


async def steps(n: int = 3) -> None:
    for _ in range(n):
        await asyncio.sleep(0)


async def answer(server: Server, value: int | Exception) -> None:
    """Answer the read in flight and let the loop deliver it."""
    wire = server.sent[-1]
    wire.post(value)
    await asyncio.sleep(0.01)


async def answered(server: Server, shared: SharedRead, value: int) -> int:
    """One more request: what it gets once its read is sent and answered with `value`."""
    request = asyncio.create_task(shared.read())
    await steps()
    await answer(server, value)
    return await request


async def connected() -> tuple[Server, SharedRead]:
    """A SharedRead whose first read connected and answered 1."""
    server = Server()
    shared = SharedRead(server.connect)
    assert await answered(server, shared, 1) == 1
    return server, shared


def test_a_request_never_takes_a_read_sent_before_it() -> None:
    async def scenario() -> None:
        server = Server()
        shared = SharedRead(server.connect)
        first = asyncio.create_task(shared.read())
        await steps()
        assert len(server.sent) == 1  # connected, read 1 sent
        later = [asyncio.create_task(shared.read()) for _ in range(5)]
        await steps()
        assert len(server.sent) == 1  # they wait for the next read
        await answer(server, 1)
        assert await first == 1
        assert len(server.sent) == 2  # sent as read 1 answered: one read for all five
        await answer(server, 2)
        assert await asyncio.gather(*later) == [2] * 5

    asyncio.run(scenario())


def test_requests_of_one_loop_iteration_share_a_read_and_a_lone_one_costs_one() -> None:
    async def scenario() -> None:
        server = Server()
        shared = SharedRead(server.connect)
        together = [asyncio.create_task(shared.read()) for _ in range(4)]
        await steps()
        await answer(server, 7)
        assert await asyncio.gather(*together) == [7] * 4
        for value in (8, 9):
            alone = asyncio.create_task(shared.read())
            await steps()
            await answer(server, value)
            assert await alone == value
        assert len(server.sent) == 3 and len(server.connections) == 1

    asyncio.run(scenario())


def test_between_the_answer_and_the_requests_there_is_no_task() -> None:
    """The steady state runs in loop callbacks: each extra hop through a task waited for a
    whole pass of a loaded worker's loop."""

    async def scenario() -> None:
        server, shared = await connected()  # the first read connected, in a task
        waiting = asyncio.create_task(shared.read())
        await steps()
        assert asyncio.all_tasks() == {asyncio.current_task(), waiting}
        await answer(server, 2)
        assert await waiting == 2

    asyncio.run(scenario())


def test_a_failed_read_is_tried_once_more_on_a_fresh_connection() -> None:
    async def scenario() -> None:
        server, shared = await connected()
        requests = [asyncio.create_task(shared.read()) for _ in range(3)]
        await steps()
        await answer(server, psycopg.OperationalError("server closed the connection"))
        assert len(server.connections) == 2 and server.connections[0].closed
        await answer(server, 2)  # the retry, on the new connection
        assert await asyncio.gather(*requests) == [2, 2, 2]

    asyncio.run(scenario())


def test_a_read_that_fails_twice_fails_its_waiters_and_the_next_read_starts_afresh() -> None:
    async def scenario() -> None:
        server = Server()
        server.refuse = 2
        shared = SharedRead(server.connect)
        requests = [asyncio.create_task(shared.read()) for _ in range(2)]
        results = await asyncio.gather(*requests, return_exceptions=True)
        assert all(isinstance(r, psycopg.OperationalError) for r in results)
        # Each request raises its own copy (one object would gather every request's
        # traceback), caused by the one failure.
        first, second = results
        assert first is not second and first.__cause__ is second.__cause__ is not None
        assert str(first) == str(second) == str(first.__cause__)
        assert await answered(server, shared, 5) == 5

    asyncio.run(scenario())


def test_a_cancelled_request_leaves_the_others_their_answer() -> None:
    async def scenario() -> None:
        server = Server()
        shared = SharedRead(server.connect)
        leaving = asyncio.create_task(shared.read())
        staying = asyncio.create_task(shared.read())
        await steps()
        leaving.cancel()
        with pytest.raises(asyncio.CancelledError):
            await leaving
        await answer(server, 1)
        assert await staying == 1
        assert len(server.sent) == 1

    asyncio.run(scenario())


def test_closing_fails_the_waiters_instead_of_leaving_them() -> None:
    async def scenario() -> None:
        server, shared = await connected()
        in_flight = asyncio.create_task(shared.read())
        await steps()
        next_one = asyncio.create_task(shared.read())
        await steps()
        shared.close()
        for request in (in_flight, next_one):
            with pytest.raises(psycopg.OperationalError, match="closed"):
                await asyncio.wait_for(request, 1)
        assert server.connections[0].closed

    asyncio.run(scenario())


def test_any_other_failure_reaches_the_waiters_as_itself() -> None:
    """Not only psycopg's OperationalError: a bad connection string or a bug fails the
    requests with its own error, and the worker reads again for the next ones."""

    async def scenario() -> None:
        server = Server()
        server.refuse, server.refusal = 2, ValueError("bad conninfo")
        shared = SharedRead(server.connect)
        results = await asyncio.gather(shared.read(), shared.read(), return_exceptions=True)
        assert [type(r) for r in results] == [ValueError, ValueError]
        assert results[0] is not results[1] and str(results[0]) == "bad conninfo"
        assert await answered(server, shared, 3) == 3

    asyncio.run(scenario())


def test_an_unexpected_error_while_answering_does_not_stall_the_worker() -> None:
    async def scenario() -> None:
        server, shared = await connected()
        request = asyncio.create_task(shared.read())
        await steps()
        await answer(server, RuntimeError("garbled"))  # read again on a fresh connection
        await answer(server, 2)
        assert await asyncio.wait_for(request, 1) == 2 and len(server.connections) == 2
        assert await answered(server, shared, 3) == 3

    asyncio.run(scenario())


def test_a_closed_reader_refuses_further_reads() -> None:
    async def scenario() -> None:
        server = Server()
        shared = SharedRead(server.connect)
        shared.close()
        with pytest.raises(psycopg.OperationalError, match="closed"):
            await shared.read()
        assert server.sent == []

    asyncio.run(scenario())


def test_an_unanswered_read_fails_its_requests_at_the_deadline_and_the_next_reconnects() -> None:
    """A server or network that stops answering (a failover, a partition) leaves a socket
    waiting for minutes: the read's own deadline fails its requests and drops the
    connection, and the next read starts on a fresh one."""

    async def scenario() -> None:
        server = Server()
        shared = SharedRead(server.connect, timeout=0.3)  # answers come in ~10 ms here
        assert await answered(server, shared, 1) == 1
        stuck = [asyncio.create_task(shared.read()) for _ in range(2)]
        await steps()
        assert len(server.sent) == 2  # sent, never answered
        results = await asyncio.wait_for(asyncio.gather(*stuck, return_exceptions=True), 1)
        assert all(isinstance(r, psycopg.OperationalError) for r in results), results
        assert "took over 0.3 s" in str(results[0])
        assert server.connections[0].closed
        assert await answered(server, shared, 2) == 2
        assert len(server.connections) == 2

    asyncio.run(scenario())


def test_a_connection_that_never_completes_fails_its_requests_at_the_deadline() -> None:
    async def scenario() -> None:
        server = Server()
        server.hang = True
        shared = SharedRead(server.connect, timeout=0.3)
        request = asyncio.create_task(shared.read())
        with pytest.raises(psycopg.OperationalError, match="took over"):
            await asyncio.wait_for(request, 1)
        server.hang = False
        assert await answered(server, shared, 3) == 3  # the next read connects afresh

    asyncio.run(scenario())


def test_an_answered_read_leaves_no_deadline_behind() -> None:
    async def scenario() -> None:
        server = Server()
        shared = SharedRead(server.connect, timeout=0.3)
        for value in (1, 2, 3):
            assert await answered(server, shared, value) == value
        await asyncio.sleep(0.5)  # past every deadline: nothing fires, nothing is dropped
        assert not server.connections[0].closed and len(server.connections) == 1
        assert await answered(server, shared, 4) == 4

    asyncio.run(scenario())


def test_a_silent_server_fails_the_read_at_the_deadline_over_libpq() -> None:
    """The same over a real libpq connection (_PgVersion): a listener that accepts and never
    answers, as a partitioned server looks. Connecting is cancelled cleanly at the deadline."""

    async def scenario() -> None:
        with socket.socket() as listener:
            listener.bind(("127.0.0.1", 0))
            listener.listen()
            port = listener.getsockname()[1]
            conninfo = f"host=127.0.0.1 port={port} dbname=x user=x connect_timeout=30"
            shared = SharedRead(lambda: _PgVersion.connect(conninfo), timeout=0.2)
            started = asyncio.get_running_loop().time()
            with pytest.raises(psycopg.OperationalError, match=r"took over 0\.2 s"):
                await asyncio.wait_for(shared.read(), 5)
            assert asyncio.get_running_loop().time() - started < 2
            shared.close()

    asyncio.run(scenario())


def test_a_retry_after_a_failed_answer_keeps_the_reads_deadline() -> None:
    """The batch's deadline runs from when its read was sent: the retry on a fresh connection
    does not start a new one (one batch could otherwise wait twice as long)."""

    async def scenario() -> None:
        server = Server()
        shared = SharedRead(server.connect, timeout=0.4)
        assert await answered(server, shared, 1) == 1
        loop = asyncio.get_running_loop()
        request = asyncio.create_task(shared.read())
        await steps()
        sent = loop.time()
        await asyncio.sleep(0.25)
        server.sent[-1].post(psycopg.OperationalError("server closed the connection"))
        with pytest.raises(psycopg.OperationalError, match="took over"):
            await asyncio.wait_for(request, 2)  # the retry is never answered
        assert loop.time() - sent < 0.6  # 0.4 from the send, not 0.25 + 0.4

    asyncio.run(scenario())
