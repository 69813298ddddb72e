"""A real clamd for tests (§12.1): the Debian ``clamav-daemon`` binary, started by the
tests with a configuration and a signature database of their own.

The database holds one signature, for the EICAR test file, so clamd starts in a moment
and needs no network (no freshclam). The EICAR string is put together from two halves
here, so that this file is not itself the test file a scanner on a developer's machine
would report. ``StreamMaxLength`` is small (:data:`STREAM_MAX_BYTES`) so the refusal of a
longer stream can be tested.

Without a clamd binary the tests fail; they are never skipped (CI installs it).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR" + b"-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
# clamd reports a signature from an unsigned database with this suffix.
EICAR_SIGNATURE = "Eicar-Test-Signature.UNOFFICIAL"
STREAM_MAX_BYTES = 1024 * 1024


def clamd_binary() -> str:
    found = shutil.which("clamd") or shutil.which("clamd", path="/usr/sbin:/usr/local/sbin")
    if found is None:
        raise AssertionError(
            "clamd is not installed (Debian: apt-get install clamav-daemon); the §12.1 "
            "tests run a real clamd"
        )
    return found


class ClamdProcess:
    """One clamd on a Unix socket in ``directory`` (or, with ``tcp_port``, on that port of
    127.0.0.1); :meth:`start` and :meth:`stop` it."""

    def __init__(
        self,
        directory: Path,
        *,
        stream_max_bytes: int = STREAM_MAX_BYTES,
        tcp_port: int | None = None,
    ) -> None:
        self.directory = directory
        self.socket_path = directory / "clamd.sock"
        self.tcp_port = tcp_port
        if tcp_port is None:
            self.url = f"unix://{self.socket_path}"
            listen = f"LocalSocket {self.socket_path}\n"
        else:
            self.url = f"tcp://127.0.0.1:{tcp_port}"
            listen = f"TCPSocket {tcp_port}\nTCPAddr 127.0.0.1\n"
        self.log_path = directory / "clamd.log"
        self._process: subprocess.Popen[bytes] | None = None
        database = directory / "db"
        database.mkdir(parents=True, exist_ok=True)
        (database / "eicar.ndb").write_text(f"Eicar-Test-Signature:0:*:{EICAR.hex()}\n")
        (directory / "tmp").mkdir(exist_ok=True)
        self.config = directory / "clamd.conf"
        self.config.write_text(
            "Foreground yes\n"
            f"{listen}"
            f"DatabaseDirectory {database}\n"
            f"TemporaryDirectory {directory / 'tmp'}\n"
            f"StreamMaxLength {stream_max_bytes}\n"
            f"LogFile {self.log_path}\n"
        )

    def start(self) -> None:
        self.socket_path.unlink(missing_ok=True)
        with (self.directory / "clamd.out").open("ab") as out:
            self._process = subprocess.Popen(
                [clamd_binary(), "-c", str(self.config)], stdout=out, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise AssertionError(f"clamd exited: {self._log_tail()}")
            if self._pong():
                return
            time.sleep(0.05)
        raise AssertionError(f"clamd did not answer PING in 60 s: {self._log_tail()}")

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None
        self.socket_path.unlink(missing_ok=True)

    def _pong(self) -> bool:
        family = socket.AF_UNIX if self.tcp_port is None else socket.AF_INET
        address: str | tuple[str, int] = (
            str(self.socket_path) if self.tcp_port is None else ("127.0.0.1", self.tcp_port)
        )
        try:
            with socket.socket(family, socket.SOCK_STREAM) as connection:
                connection.settimeout(1)
                connection.connect(address)
                connection.sendall(b"zPING\0")
                return connection.recv(16) == b"PONG\0"
        except OSError:
            return False

    def _log_tail(self) -> str:
        return "\n".join(
            path.read_text(errors="replace")[-2000:]
            for path in (self.log_path, self.directory / "clamd.out")
            if path.exists()
        )
