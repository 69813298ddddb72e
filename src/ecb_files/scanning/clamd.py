"""A clamd client: each file's bytes streamed with ``zINSTREAM`` as they arrive (§12.1).

The protocol (clamd(8)): send ``zINSTREAM\\0``, then the bytes as chunks each behind its
length (4 bytes, big-endian), then a zero length; clamd answers one NUL-terminated line:
``stream: OK``, ``stream: <signature> FOUND``, or ``… ERROR`` (such as ``INSTREAM size
limit exceeded. ERROR`` once the stream passes its ``StreamMaxLength``).

One connection per file of a request that streams through worker threads. Its bytes
are sent from the thread that hashes and writes them, in the same pass; clamd scans
once the file has ended, while the request's next file streams in, and the answer is
read when the submission is checked. A request keeps at most :data:`PENDING_SCANS`
files waiting for their answers: opening one more first reads the oldest answer. Every
failure of the scanner — unreachable, timed out, an ``ERROR`` answer — is a
``ScannerUnavailable`` (503): no file is accepted unscanned.

The files of a request small enough to stay in memory go another way: through the
process's one session with clamd, on the event loop (``scanning.session``).
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from ecb_files.errors import ScannerUnavailable
from ecb_files.scanning.session import ClamdSession, HeldScanner
from ecb_files.scanning.verdict import ScanVerdict

# Files of one request whose answers may be outstanding at once.
PENDING_SCANS = 4
# Above this, a chunk is sent behind its length in a second call instead of being copied.
_COPY_BELOW = 64 * 1024
_TERMINATOR = b"\0\0\0\0"
_MAX_ANSWER = 4096

_UNAVAILABLE = "the malware scanner is unavailable; retry later"


@dataclass(frozen=True)
class ClamdAddress:
    """Where clamd listens: a TCP ``host``/``port``, or a Unix socket ``path``."""

    host: str = ""
    port: int = 0
    path: str = ""

    @classmethod
    def parse(cls, url: str) -> ClamdAddress:
        """``tcp://host:port`` or ``unix:///path``; ``ValueError`` for anything else."""
        parts = urlsplit(url.strip())
        if parts.scheme == "unix" and parts.path and not parts.netloc:
            return cls(path=parts.path)
        if parts.scheme == "tcp" and parts.hostname:
            try:
                port = parts.port
            except ValueError:
                port = None
            if port is not None and not parts.path.strip("/"):
                return cls(host=parts.hostname, port=port)
        raise ValueError(f"expected tcp://host:port or unix:///path, got {url!r}")

    def __str__(self) -> str:
        return f"unix://{self.path}" if self.path else f"tcp://{self.host}:{self.port}"


class Clamd:
    """A clamd daemon at ``address``; every socket operation waits ``timeout`` seconds
    at most (a scan's answer included)."""

    def __init__(self, address: ClamdAddress, *, timeout: float) -> None:
        self.address = address
        self._timeout = timeout
        self._session: ClamdSession | None = None

    def scanner(self) -> ClamdScanner:
        """The scans of one request whose files stream through worker threads
        (``ingest.Scanner``): a connection per file, its bytes sent as they come."""
        return ClamdScanner(self)

    def held_scanner(self) -> HeldScanner:
        """The scans of one request kept in memory and settled on the event loop
        (``ingest.HeldScanner``), through the process's session with clamd."""
        if self._session is None:
            self._session = ClamdSession(self, timeout=self._timeout)
        return HeldScanner(self, self._session)

    def close_session(self) -> None:
        """Close the session of the held scans, if one is open; call on its event loop
        (an application's shutdown) before the loop closes."""
        if self._session is not None:
            self._session.close()

    def ping(self) -> None:
        """Return if clamd answers ``PING``, else ``ScannerUnavailable``."""
        connection = self.connect()
        try:
            connection.sendall(b"zPING\0")
            answer = _read_answer(connection)
        except OSError as error:
            raise self.unavailable(f"PING failed: {_why(error)}") from None
        finally:
            connection.close()
        if answer != "PONG":
            raise self.unavailable(f"PING answered {answer!r}")

    def connect(self) -> socket.socket:
        address = self.address
        family = socket.AF_UNIX if address.path else socket.AF_INET
        try:
            if address.path:
                connection = socket.socket(family, socket.SOCK_STREAM)
                try:
                    connection.settimeout(self._timeout)
                    connection.connect(address.path)
                except BaseException:
                    connection.close()
                    raise
            else:
                connection = socket.create_connection(
                    (address.host, address.port), timeout=self._timeout
                )
                connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError as error:
            raise self.unavailable(f"cannot connect: {_why(error)}") from None
        return connection

    def unavailable(self, why: str, description: str = _UNAVAILABLE) -> ScannerUnavailable:
        return ScannerUnavailable(description, detail=f"clamd at {self.address}: {why}")

    def verdict_of(self, answer: str) -> str | None:
        """The signature in clamd's answer to an ``INSTREAM``, ``None`` for "OK";
        ``ScannerUnavailable`` for an error."""
        result = answer.removeprefix("stream: ")
        if result == "OK":
            return None
        if result.endswith(" FOUND"):
            return result.removesuffix(" FOUND")
        raise self.refusal(answer)

    def refusal(self, answer: str) -> ScannerUnavailable:
        if "size limit" in answer.lower():
            return self.unavailable(
                answer,
                "the malware scanner refused a file longer than its stream limit "
                "(clamd StreamMaxLength); the file cannot be accepted unscanned",
            )
        return self.unavailable(f"answered {answer!r}")


class ClamdScanner:
    """One request's scans: opened one per file, dropped together by :meth:`abort`."""

    def __init__(self, clamd: Clamd) -> None:
        self._clamd = clamd
        self._scans: list[ClamdScan] = []

    def open(self) -> ClamdScan:
        waiting = [scan for scan in self._scans if scan.waiting]
        if len(waiting) >= PENDING_SCANS:
            waiting[0].verdict()
        scan = ClamdScan(self._clamd)
        self._scans.append(scan)
        return scan

    def abort(self) -> None:
        for scan in self._scans:
            scan.abort()


class ClamdScan(ScanVerdict):
    """One file's ``INSTREAM`` on a connection of its own (``ingest.ContentScan``)."""

    def __init__(self, clamd: Clamd) -> None:
        super().__init__(clamd)
        self._started = time.monotonic()
        self._connection: socket.socket | None = clamd.connect()
        self._sealed = False
        self._send(b"zINSTREAM\0")

    @property
    def waiting(self) -> bool:
        """Sealed, its answer not read yet."""
        return self._sealed and not self._answered

    def write(self, data: bytes) -> None:
        header = len(data).to_bytes(4, "big")
        if len(data) < _COPY_BELOW:
            self._send(header + data)
        else:
            self._send(header)
            self._send(data)

    def seal(self) -> None:
        self._send(_TERMINATOR)
        self._sealed = True

    def abort(self) -> None:
        self._fail("the scan was dropped")
        self._close()

    def _await_answer(self) -> None:
        connection = self._connection
        try:
            if connection is None:
                self._failure = self._clamd.unavailable("the scan was dropped")
                return
            try:
                answer = _read_answer(connection)
            except OSError as error:
                self._failure = self._clamd.unavailable(f"no answer: {_why(error)}")
                return
            finally:
                self._close()
            self._judge(answer)
        finally:
            self._seconds = time.monotonic() - self._started

    def _send(self, data: bytes) -> None:
        connection = self._connection
        if connection is None:
            raise self._clamd.unavailable("the scan was dropped")
        try:
            connection.sendall(data)
        except OSError as error:
            # clamd closes the connection when a stream passes its limit: its answer
            # says so, if it can still be read.
            answer = _last_words(connection)
            self._close()
            if answer:
                failure = self._clamd.refusal(answer)
            else:
                failure = self._clamd.unavailable(f"sending failed: {_why(error)}")
            self._answered, self._failure = True, failure
            raise failure from None

    def _close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def _read_answer(connection: socket.socket) -> str:
    """clamd's NUL-terminated answer (``OSError`` if it does not come whole)."""
    answer = b""
    while not answer.endswith(b"\0"):
        data = connection.recv(_MAX_ANSWER)
        if not data:
            raise ConnectionAbortedError("clamd closed the connection without an answer")
        answer += data
        if len(answer) > _MAX_ANSWER:
            raise ConnectionAbortedError("clamd's answer is too long")
    return answer.rstrip(b"\0").decode("utf-8", "replace").strip()


def _last_words(connection: socket.socket) -> str:
    """Whatever clamd said before it closed the connection, or ``""``."""
    try:
        connection.settimeout(1.0)
        return _read_answer(connection)
    except OSError:
        return ""


def _why(error: OSError) -> str:
    if isinstance(error, TimeoutError):
        return "timed out"
    return error.strerror or type(error).__name__
