"""Small files scanned on the event loop through one clamd session per process (§12.1).

A submission small enough to stay in memory is parsed on the event loop; its files'
bytes are held (they are in memory anyway) and sent to clamd once the body has ended.
Opening a connection and waiting in a worker thread for each file would cost such a
request more than everything else it does, so the process keeps one ``IDSESSION`` with
clamd open and sends every small file's ``INSTREAM`` down it as it comes, without
waiting for earlier answers: clamd tags each answer with its command's number
(``<n>: stream: OK``), in whatever order its threads finish them.

clamd closes a session after ``IdleTimeout`` without commands, and after some errors.
A command whose answer the closing took away is sent again, once, on a new session;
one that fails twice, or that gets no answer within the timeout, is a
``ScannerUnavailable`` (503): nothing is accepted unscanned.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from concurrent.futures import Future
from typing import TYPE_CHECKING, cast

from ecb_files.errors import ScannerUnavailable
from ecb_files.scanning.verdict import ScanVerdict

if TYPE_CHECKING:
    from ecb_files.scanning.clamd import Clamd

_TERMINATOR = b"\0\0\0\0"
_MAX_ANSWER = 4096


class _SessionLost(ConnectionError):
    """The session closed before this command's answer came."""


class _Session(asyncio.Protocol):
    """One open ``IDSESSION``: commands numbered from 1, answers matched by number."""

    def __init__(self) -> None:
        self._transport: asyncio.Transport | None = None
        self._commands = 0
        self._waiting: dict[int, asyncio.Future[str]] = {}
        self._received = b""
        self.closed = False
        # uvloop calls connection_made after the connection's awaitable has returned.
        self.made: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not subclasses of asyncio's: no isinstance check.
        self._transport = cast(asyncio.Transport, transport)
        self._transport.write(b"zIDSESSION\0")
        if not self.made.done():
            self.made.set_result(None)

    def instream(self, data: bytes) -> asyncio.Future[str]:
        """Send one file; the future ends with clamd's answer (``stream: …``)."""
        if self.closed or self._transport is None:
            raise _SessionLost("the session is closed")
        self._commands += 1
        answer: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._waiting[self._commands] = answer
        self._transport.write(
            b"zINSTREAM\0" + len(data).to_bytes(4, "big") + data + _TERMINATOR
            if data
            else b"zINSTREAM\0" + _TERMINATOR
        )
        return answer

    def data_received(self, data: bytes) -> None:
        self._received += data
        *answers, self._received = self._received.split(b"\0")
        for answer in answers:
            self._answered(answer.decode("utf-8", "replace").strip())
        if len(self._received) > _MAX_ANSWER:
            self.close()

    def _answered(self, line: str) -> None:
        number, separator, answer = line.partition(": ")
        waiting = self._waiting.pop(int(number), None) if number.isdigit() else None
        if not separator or waiting is None:
            # Not an answer to a command of ours: clamd gave up on the session.
            self.close()
            return
        if not waiting.done():
            waiting.set_result(answer.strip())

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not self.made.done():
            self.made.set_exception(_SessionLost("the session closed as it opened"))
        waiting, self._waiting = self._waiting, {}
        for answer in waiting.values():
            if not answer.done():
                answer.set_exception(_SessionLost("the session closed before the answer"))

    def close(self) -> None:
        self.closed = True
        if self._transport is not None:
            self._transport.abort()


class ClamdSession:
    """The process's session with clamd, opened when first needed and again after clamd
    closed it. Used from one event loop; a new loop gets a new session."""

    def __init__(self, clamd: Clamd, *, timeout: float) -> None:
        self._clamd = clamd
        self._timeout = timeout
        self._session: _Session | None = None
        self._opening: asyncio.Future[_Session] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.sessions_opened = 0

    async def answer(self, data: bytes) -> str:
        """clamd's answer to an ``INSTREAM`` of ``data`` (``stream: …``);
        ``ScannerUnavailable`` when clamd cannot be reached or does not answer in time."""
        try:
            async with asyncio.timeout(self._timeout):
                try:
                    answer = await (await self._open()).instream(data)
                except _SessionLost:
                    answer = await (await self._open()).instream(data)
        except TimeoutError:
            self.close()
            raise self._clamd.unavailable("no answer: timed out") from None
        except _SessionLost as error:
            raise self._clamd.unavailable(str(error)) from None
        return answer

    async def _open(self) -> _Session:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._session, self._opening, self._loop = None, None, loop
        if self._session is not None and not self._session.closed:
            return self._session
        if self._opening is None:
            self._opening = loop.create_future()
            try:
                self._session = await self._connect(loop)
                self.sessions_opened += 1
                self._opening.set_result(self._session)
            except BaseException as error:
                self._opening.set_exception(error)
                self._opening.exception()  # retrieved: the waiters, if any, raise it
                raise
            finally:
                self._opening = None
            return self._session
        return await asyncio.shield(self._opening)

    async def _connect(self, loop: asyncio.AbstractEventLoop) -> _Session:
        address = self._clamd.address
        try:
            if address.path:
                _, session = await loop.create_unix_connection(_Session, address.path)
            else:
                _, session = await loop.create_connection(_Session, address.host, address.port)
        except OSError as error:
            raise self._clamd.unavailable(
                f"cannot connect: {error.strerror or type(error).__name__}"
            ) from None
        await session.made
        return session

    def close(self) -> None:
        """Close the session; call on its event loop before that loop closes. A later
        scan opens a new one."""
        if self._session is not None:
            self._session.close()
            self._session = None


class HeldScanner:
    """The scans of one in-memory request (``ingest.HeldScanner``): each file's bytes
    held until :meth:`settle` sends them all down the session at once."""

    def __init__(self, clamd: Clamd, session: ClamdSession) -> None:
        self._clamd = clamd
        self._session = session
        self._scans: list[HeldScan] = []

    def open(self) -> HeldScan:
        scan = HeldScan(self._clamd)
        self._scans.append(scan)
        return scan

    def abort(self) -> None:
        for scan in self._scans:
            scan.abort()

    def settle(self) -> Future[None]:
        """Call on the event loop: the future ends once every sealed file has its
        verdict (or its failure), readable without waiting from then on."""
        done: Future[None] = Future()
        task = asyncio.get_running_loop().create_task(self._settle_all(self._scans))

        def finished(task: asyncio.Task[None]) -> None:
            error = None if task.cancelled() else task.exception()
            if task.cancelled():
                done.cancel()
            elif error is not None:
                done.set_exception(error)
            else:
                done.set_result(None)

        task.add_done_callback(finished)
        return done

    async def _settle_all(self, scans: Iterable[HeldScan]) -> None:
        await asyncio.gather(*(scan.settle(self._session) for scan in scans))


class HeldScan(ScanVerdict):
    """One small file's scan (``ingest.ContentScan``): bytes held, sent by ``settle``."""

    def __init__(self, clamd: Clamd) -> None:
        super().__init__(clamd)
        self._pieces: list[bytes] = []
        self._sealed = False

    def write(self, data: bytes) -> None:
        self._pieces.append(bytes(data))

    def seal(self) -> None:
        self._sealed = True

    def abort(self) -> None:
        self._fail("the scan was dropped")
        self._pieces = []

    def _await_answer(self) -> None:
        # Never waits: a held scan not settled (or dropped) is never clean.
        self._failure = self._clamd.unavailable("the scan was not settled")

    async def settle(self, session: ClamdSession) -> None:
        if self._answered or not self._sealed:
            return
        started = time.monotonic()
        data, self._pieces = b"".join(self._pieces), []
        try:
            answer = await session.answer(data)
        except ScannerUnavailable as failure:
            self._failure = failure
        else:
            self._judge(answer)
        finally:
            self._answered = True
            self._seconds = time.monotonic() - started
