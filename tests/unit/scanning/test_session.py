"""Small files scanned from the event loop through one clamd session (§12.1), against a
real clamd, on asyncio's loop and on uvloop (the server's)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest
import uvloop
from tests.clamd_support import EICAR, EICAR_SIGNATURE, ClamdProcess

from ecb_files.errors import ScannerUnavailable
from ecb_files.scanning import Clamd, ClamdAddress
from ecb_files.scanning.session import HeldScan, HeldScanner

Run = Callable[[Coroutine[Any, Any, Any]], Any]


@pytest.fixture(params=["asyncio", "uvloop"])
def run(request: pytest.FixtureRequest) -> Run:
    return asyncio.run if request.param == "asyncio" else uvloop.run


def _clamd(url: str, timeout: float = 10) -> Clamd:
    return Clamd(ClamdAddress.parse(url), timeout=timeout)


def _held(scanner: HeldScanner, *contents: bytes) -> list[HeldScan]:
    scans = []
    for content in contents:
        scan = scanner.open()
        for start in range(0, len(content), 7):
            scan.write(content[start : start + 7])
        scan.seal()
        scans.append(scan)
    return scans


async def _settle(scanner: HeldScanner) -> None:
    await asyncio.wrap_future(scanner.settle())


def _on_loop(run: Run, clamd: Clamd, work: Coroutine[Any, Any, Any]) -> Any:
    """``work`` on a new loop, then ``clamd``'s session closed on it, as the
    application's shutdown does (a loop must not close with the session open)."""

    async def then_close() -> Any:
        try:
            return await work
        finally:
            clamd.close_session()

    return run(then_close())


def _verdict(scan: HeldScan) -> str | ScannerUnavailable | None:
    try:
        return scan.verdict()
    except ScannerUnavailable as failure:
        return failure


def test_a_requests_files_get_their_own_verdicts(clamd_process: ClamdProcess, run: Run) -> None:
    """§12.1: each held file is sent whole once the request's files are sealed; each
    answer is matched to its file, whatever order clamd answers in."""
    clamd = _clamd(clamd_process.url)

    async def scan() -> list[HeldScan]:
        scanner = clamd.held_scanner()
        scans = _held(scanner, b"clean one", EICAR, b"", b"before " + EICAR, b"clean two")
        await _settle(scanner)
        return scans

    scans = _on_loop(run, clamd, scan())
    assert [scan.verdict() for scan in scans] == [
        None,
        EICAR_SIGNATURE,
        None,
        EICAR_SIGNATURE,
        None,
    ]
    assert all(scan.seconds > 0 for scan in scans)


def test_requests_share_one_session(clamd_process: ClamdProcess, run: Run) -> None:
    """The process's small scans go down one session: no connection per file, many
    requests' files in flight at once."""
    clamd = _clamd(clamd_process.url)

    async def scan_many() -> list[list[HeldScan]]:
        scanners = [clamd.held_scanner() for _ in range(20)]
        requests = [_held(s, b"file %d" % n, EICAR) for n, s in enumerate(scanners)]
        await asyncio.gather(*(_settle(s) for s in scanners))
        return requests

    requests = _on_loop(run, clamd, scan_many())
    assert [[scan.verdict() for scan in scans] for scans in requests] == [
        [None, EICAR_SIGNATURE]
    ] * 20
    assert clamd.held_scanner()._session.sessions_opened == 1


def test_a_new_session_after_clamd_restarts(tmp_path: Path, run: Run) -> None:
    """clamd gone and back (or a session it closed as idle): the next scan opens a new
    session instead of failing."""
    process = ClamdProcess(tmp_path)
    process.start()
    clamd = _clamd(process.url)

    async def scan_twice() -> tuple[str | None, str | None]:
        first = clamd.held_scanner()
        (before,) = _held(first, EICAR)
        await _settle(first)
        process.stop()
        process.start()
        second = clamd.held_scanner()
        (after,) = _held(second, EICAR)
        await _settle(second)
        return before.verdict(), after.verdict()

    try:
        assert _on_loop(run, clamd, scan_twice()) == (EICAR_SIGNATURE, EICAR_SIGNATURE)
    finally:
        process.stop()
    assert clamd.held_scanner()._session.sessions_opened == 2


def test_an_unreachable_clamd_is_503(tmp_path: Path, run: Run) -> None:
    """§12.1 fails closed: no clamd → every held scan's verdict is a 503."""
    clamd = Clamd(ClamdAddress(path=str(tmp_path / "nobody.sock")), timeout=2)

    async def scan_both() -> list[HeldScan]:
        scanner = clamd.held_scanner()
        scans = _held(scanner, b"one", b"two")
        await _settle(scanner)
        return scans

    for scan in _on_loop(run, clamd, scan_both()):
        failure = _verdict(scan)
        assert isinstance(failure, ScannerUnavailable)
        assert failure.status == 503
        assert "nobody.sock" in failure.detail


def test_a_clamd_that_does_not_answer_times_out(tmp_path: Path, run: Run) -> None:
    """§12.1: a session that takes the bytes and never answers → 503 after the timeout."""
    path = str(tmp_path / "silent.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as silent:
        silent.bind(path)
        silent.listen()
        clamd = Clamd(ClamdAddress(path=path), timeout=0.5)

        async def scan() -> HeldScan:
            scanner = clamd.held_scanner()
            (held,) = _held(scanner, b"hello")
            await _settle(scanner)
            return held

        failure = _verdict(_on_loop(run, clamd, scan()))
    assert isinstance(failure, ScannerUnavailable)
    assert "timed out" in failure.detail


def test_a_held_scan_is_never_clean_unless_settled(clamd_process: ClamdProcess) -> None:
    """§12.1 fails closed: asked before it was sent, or after it was dropped, a held
    scan's verdict is a 503 — never "clean", and never a wait."""
    scanner = _clamd(clamd_process.url).held_scanner()
    unsent, dropped = _held(scanner, b"never sent", b"dropped")
    dropped.abort()
    assert isinstance(_verdict(unsent), ScannerUnavailable)
    assert isinstance(_verdict(dropped), ScannerUnavailable)
