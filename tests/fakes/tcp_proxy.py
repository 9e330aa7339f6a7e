"""A loopback TCP proxy that can cut a server off and bring it back, for outage tests.

Put it in front of PostgreSQL (`TcpProxy("127.0.0.1", 5432)`), point the app's DATABASE_URL at
`proxy.port`, and the app's every connection goes through it. `await proxy.cut()` is the
database going away, as the app sees it: every open connection is closed at once (mid-query
ones included), and new ones are refused (mode "refuse": nothing listens on the port, as when
the server is stopped), accepted and dropped straight away (mode "drop": as when a server or a
pooler in front of it is failing), or accepted and never answered (mode "hang": as when the
server's host is unreachable, so only the client's connect timeout ends the wait). `await proxy.restore()` takes connections again on the
same port. The real server is never touched, so other tests sharing it are not disturbed.

Nothing here sleeps or waits without a bound.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Literal

CutMode = Literal["refuse", "drop", "hang"]
_CHUNK = 64 * 1024


class TcpProxy:
    def __init__(self, target_host: str, target_port: int, host: str = "127.0.0.1") -> None:
        self.target_host = target_host
        self.target_port = target_port
        self.host = host
        self.port = 0
        #: Connections forwarded to the server, and connections turned away during a cut.
        self.forwarded = 0
        self.dropped = 0
        self._server: asyncio.Server | None = None
        self._mode: CutMode | None = None
        self._pipes: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._hung: set[asyncio.StreamWriter] = set()

    @property
    def is_cut(self) -> bool:
        return self._mode is not None

    async def start(self) -> None:
        """Listen on a free loopback port (kept across cuts and restores)."""
        await self._listen()

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(
            self._accept, self.host, self.port, reuse_address=True
        )
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def _stop_listening(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 5)
            self._server = None

    async def cut(self, mode: CutMode = "refuse") -> None:
        """The server is gone: close every open connection and turn new ones away."""
        self._mode = mode
        if mode == "refuse":
            await self._stop_listening()
        await self._close_all()

    async def restore(self) -> None:
        """The server is back: new connections reach it again (open ones were lost)."""
        mode, self._mode = self._mode, None
        self._let_go_of_hung()
        if mode == "refuse" or self._server is None:
            await self._listen()

    async def close(self) -> None:
        await self._stop_listening()
        self._let_go_of_hung()
        await self._close_all()

    def _let_go_of_hung(self) -> None:
        for writer in self._hung:
            _abort(writer)
        self._hung.clear()

    async def _close_all(self) -> None:
        for writer in list(self._writers):
            _abort(writer)
        pipes = list(self._pipes)
        for task in pipes:
            task.cancel()
        if pipes:
            await asyncio.wait(pipes, timeout=5)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._mode is not None:
            self.dropped += 1
            if self._mode == "hang":
                self._hung.add(writer)  # accepted, never answered: closed at restore
            else:
                _abort(writer)
            return
        try:
            upstream_reader, upstream_writer = await asyncio.wait_for(
                asyncio.open_connection(self.target_host, self.target_port), 5
            )
        except (OSError, TimeoutError):
            _abort(writer)
            return
        if self._mode is not None:  # cut while connecting
            self.dropped += 1
            _abort(writer)
            _abort(upstream_writer)
            return
        self.forwarded += 1
        ends = (writer, upstream_writer)
        self._writers.update(ends)
        pipes = [
            asyncio.create_task(_pipe(reader, upstream_writer, ends)),
            asyncio.create_task(_pipe(upstream_reader, writer, ends)),
        ]
        for task in pipes:
            self._pipes.add(task)
            task.add_done_callback(self._pipes.discard)

        def forget(_: object) -> None:
            self._writers.difference_update(ends)

        # The connection's ends are forgotten once both directions have ended.
        asyncio.gather(*pipes, return_exceptions=True).add_done_callback(forget)


async def _pipe(
    source: asyncio.StreamReader,
    sink: asyncio.StreamWriter,
    both: tuple[asyncio.StreamWriter, asyncio.StreamWriter],
) -> None:
    """Copy bytes one way until either side ends; then close both ends of the connection."""
    try:
        while chunk := await source.read(_CHUNK):
            sink.write(chunk)
            await sink.drain()
    except (OSError, asyncio.IncompleteReadError):
        pass
    finally:
        for writer in both:
            _abort(writer)


def _abort(writer: asyncio.StreamWriter) -> None:
    """Close at once, without waiting for buffered data (a reset, as a dying server gives)."""
    transport = writer.transport
    if not transport.is_closing():
        transport.abort()
