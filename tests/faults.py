"""Fault injection helpers: a TCP proxy that can refuse, black-hole or sever, and outages on a clock.

`TcpProxy` sits between the bot and a server (PostgreSQL, an emulator). Modes:

- `pass`: bytes flow both ways.
- `refuse`: a new connection is accepted and closed at once (the server is down or restarting).
- `blackhole`: a new connection is accepted and nothing is ever forwarded; bytes on connections
  already open are held (a network partition: the peer neither answers nor hangs up).
- `unavailable`: an HTTP request on a new connection is answered `503 Service Unavailable` with a
  Slack-shaped JSON body, and the connection closed (the service is down behind its load balancer).

`schedule`, when given, is asked at each new connection which mode applies (None: the set mode), so
an outage can follow a simulated clock.

`sever()` aborts every open connection (the server restarted); connections held by the black hole
are aborted when the proxy leaves that mode.

`TelegramOutage` is a fault plan for the Telegram emulator that answers every sending call with a
5xx (or drops the connection) while a clock reads inside a window: "Telegram down two minutes" on a
sped-up clock costs no real time.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.clock import FakeClock
from tests.emulators.telegram_limits import Fault, FaultPlan, _error_for, is_sending_method

PASS, REFUSE, BLACKHOLE, UNAVAILABLE = "pass", "refuse", "blackhole", "unavailable"
UNAVAILABLE_BODY = b'{"ok": false, "error": "service_unavailable"}'


class TcpProxy:
    def __init__(
        self, target_host: str, target_port: int, *, schedule: Callable[[], str | None] | None = None
    ) -> None:
        self.target_host = target_host
        self.schedule = schedule
        self.target_port = target_port
        self.port = 0
        self.accepted = 0  # connections accepted, whatever became of them
        self.refused = 0
        self._mode = PASS
        self._open = asyncio.Event()  # set while bytes may flow
        self._open.set()
        self._server: asyncio.Server | None = None
        self._links: set[asyncio.StreamWriter] = set()  # both ends of every forwarded connection
        self._held: set[asyncio.StreamWriter] = set()  # accepted into the black hole
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def mode(self) -> str:
        return self._mode

    async def start(self) -> TcpProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        self.sever()
        self._abort(self._held)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 1)

    async def __aenter__(self) -> TcpProxy:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def url_for(self, url: str) -> str:
        """`url` (a SQLAlchemy URL to the target) pointed at this proxy instead."""
        from sqlalchemy.engine import make_url

        return make_url(url).set(host="127.0.0.1", port=self.port).render_as_string(hide_password=False)

    # ---- switching ----------------------------------------------------------------------------
    def pass_through(self) -> None:
        self._mode = PASS
        self._abort(self._held)  # what the black hole swallowed never reaches the server
        self._open.set()

    def refuse(self, *, sever: bool = True) -> None:
        """Down: new connections are closed at once; with `sever`, open ones are cut too (a restart)."""
        self._mode = REFUSE
        self._abort(self._held)
        self._open.set()
        if sever:
            self.sever()

    def blackhole(self) -> None:
        """Partitioned: nothing answers, nothing hangs up."""
        self._mode = BLACKHOLE
        self._open.clear()

    def sever(self) -> None:
        """Cut every open connection, as a server restart does."""
        self._abort(self._links)

    @property
    def open_connections(self) -> int:
        return len(self._links) // 2

    # ---- plumbing -----------------------------------------------------------------------------
    @staticmethod
    def _abort(writers: set[asyncio.StreamWriter]) -> None:
        for writer in list(writers):
            with contextlib.suppress(Exception):
                writer.transport.abort()
        writers.clear()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        mode = (self.schedule() if self.schedule is not None else None) or self._mode
        if mode == UNAVAILABLE:
            self.refused += 1
            await self._unavailable(reader, writer)
            return
        if mode == REFUSE:
            self.refused += 1
            writer.transport.abort()
            return
        if mode == BLACKHOLE:
            self._held.add(writer)
            return  # the transport stays open; nothing reads or answers
        try:
            up_reader, up_writer = await asyncio.open_connection(self.target_host, self.target_port)
        except OSError:
            writer.transport.abort()
            return
        self._links.update((writer, up_writer))
        for source, sink in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.ensure_future(self._pump(source, sink, (writer, up_writer)))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _unavailable(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            length = 0
            for line in head.split(b"\r\n"):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip() or 0)
            if length:
                await asyncio.wait_for(reader.readexactly(length), 5)
            writer.write(
                b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json; charset=utf-8\r\n"
                b"Content-Length: %d\r\nConnection: close\r\n\r\n%s"
                % (len(UNAVAILABLE_BODY), UNAVAILABLE_BODY)
            )
            await writer.drain()
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
            pass
        finally:
            writer.close()

    async def _pump(
        self,
        source: asyncio.StreamReader,
        sink: asyncio.StreamWriter,
        pair: tuple[asyncio.StreamWriter, asyncio.StreamWriter],
    ) -> None:
        try:
            while True:
                data = await source.read(65536)
                if not data:
                    break
                await self._open.wait()  # a black hole holds the bytes (TCP would retransmit them)
                if sink.transport.is_closing():
                    break
                sink.write(data)
                await sink.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            for end in pair:
                self._links.discard(end)
                with contextlib.suppress(Exception):
                    end.transport.abort()


@dataclass
class TelegramOutage(FaultPlan):
    """Every sending call fails while `clock` reads inside `[down_from, down_until)`.

    `kind` is "5xx" (answered with `status`) or "drop" (the connection is closed unanswered: the
    message is not delivered). Count-based faults (`fail_next`, `server_error_next`) still work.
    """

    clock: FakeClock | None = None
    down_from: datetime | None = None
    down_until: datetime | None = None
    kind: str = "5xx"
    status: int = 502
    refused_calls: int = 0
    windows: list[tuple[datetime, datetime]] = field(default_factory=list)

    def go_down(self, seconds: float) -> None:
        """Down from the clock's now for `seconds`."""
        assert self.clock is not None
        self.down_from = self.clock.now()
        self.down_until = self.down_from + timedelta(seconds=seconds)
        self.windows.append((self.down_from, self.down_until))

    def is_down(self) -> bool:
        if self.clock is None or self.down_from is None or self.down_until is None:
            return False
        return self.down_from <= self.clock.now() < self.down_until

    def take(self, method: str) -> Fault | None:
        if is_sending_method(method) and self.is_down():
            self.refused_calls += 1
            if self.kind == "drop":
                return Fault("drop", 1, None)
            return Fault("error", 1, None, _error_for(self.status, None, None))
        return super().take(method)


def call_counter(predicate: Callable[[], bool], action: Callable[[], None]) -> Callable[[object], None]:
    """A call listener that runs `action` once, the first time `predicate()` holds after a call."""
    done = False

    def listen(_call: object) -> None:
        nonlocal done
        if not done and predicate():
            done = True
            action()

    return listen
