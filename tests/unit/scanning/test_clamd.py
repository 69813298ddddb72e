"""The clamd adapter against a real clamd: INSTREAM, its answers, its failures (§12.1)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from tests.clamd_support import EICAR, EICAR_SIGNATURE, STREAM_MAX_BYTES, ClamdProcess

from ecb_files.errors import ScannerUnavailable
from ecb_files.scanning import Clamd, ClamdAddress
from ecb_files.scanning.clamd import PENDING_SCANS


def _clamd(process: ClamdProcess, timeout: float = 10) -> Clamd:
    return Clamd(ClamdAddress.parse(process.url), timeout=timeout)


def test_the_eicar_file_is_found_whatever_its_chunks(clamd_process: ClamdProcess) -> None:
    """§12.1: the bytes are streamed as they come; clamd names the signature."""
    scan = _clamd(clamd_process).scanner().open()
    for start in range(0, len(EICAR), 5):
        scan.write(EICAR[start : start + 5])
    scan.seal()
    assert scan.verdict() == EICAR_SIGNATURE
    assert scan.verdict() == EICAR_SIGNATURE  # the same answer again, without clamd


def test_a_clean_file_has_no_verdict(clamd_process: ClamdProcess) -> None:
    """§12.1: a clean file gets clamd's "OK": no signature."""
    scan = _clamd(clamd_process).scanner().open()
    scan.write(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 400)
    scan.seal()
    assert scan.verdict() is None


def test_the_files_of_one_request_are_scanned_at_once(clamd_process: ClamdProcess) -> None:
    """Many sealed files wait for their answers; no more than PENDING_SCANS at a time."""
    scanner = _clamd(clamd_process).scanner()
    scans = []
    for number in range(PENDING_SCANS * 2 + 1):
        scan = scanner.open()
        scan.write(EICAR if number == 3 else b"clean %d" % number)
        scan.seal()
        scans.append(scan)
        assert sum(s.waiting for s in scans) <= PENDING_SCANS
    verdicts = [scan.verdict() for scan in scans]
    assert verdicts == [EICAR_SIGNATURE if n == 3 else None for n in range(len(scans))]


def test_a_stream_over_clamds_limit_is_503(clamd_process: ClamdProcess) -> None:
    """§12.1: over clamd's StreamMaxLength → the scanner is unavailable (fail closed)."""
    scan = _clamd(clamd_process).scanner().open()

    def send_too_much() -> None:
        for _ in range(STREAM_MAX_BYTES // 65536 + 8):
            scan.write(b"x" * 65536)
        scan.seal()
        scan.verdict()

    with pytest.raises(ScannerUnavailable) as caught:
        send_too_much()
    assert caught.value.status == 503
    assert "stream limit" in caught.value.description
    with pytest.raises(ScannerUnavailable):
        scan.verdict()  # never "clean" after a failure


def test_an_unreachable_clamd_is_503(tmp_path: Path) -> None:
    """§12.1: clamd unreachable → 503 with Retry-After."""
    clamd = Clamd(ClamdAddress(path=str(tmp_path / "nobody.sock")), timeout=2)
    with pytest.raises(ScannerUnavailable) as caught:
        clamd.scanner().open()
    assert caught.value.status == 503
    assert "Retry-After" in caught.value.headers()
    assert "nobody.sock" in caught.value.detail
    with pytest.raises(ScannerUnavailable):
        clamd.ping()


def test_a_clamd_that_does_not_answer_times_out(tmp_path: Path) -> None:
    """§12.1: a scanner that takes the bytes and never answers → 503 after the timeout."""
    path = str(tmp_path / "silent.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as silent:
        silent.bind(path)
        silent.listen()
        scan = Clamd(ClamdAddress(path=path), timeout=0.5).scanner().open()
        scan.write(b"hello")
        scan.seal()
        with pytest.raises(ScannerUnavailable) as caught:
            scan.verdict()
        assert "timed out" in caught.value.detail


def test_an_aborted_scan_is_never_clean(clamd_process: ClamdProcess) -> None:
    """§12.1 fails closed: a dropped scan never reads as a clean file."""
    scanner = _clamd(clamd_process).scanner()
    scan = scanner.open()
    scan.write(b"partial")
    scanner.abort()
    with pytest.raises(ScannerUnavailable):
        scan.verdict()


def test_a_clamd_over_tcp(tmp_path: Path) -> None:
    """ECB_FILES_CLAMD=tcp://host:port: the same INSTREAM over TCP."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = ClamdProcess(tmp_path, tcp_port=port)
    process.start()
    try:
        clamd = _clamd(process)
        clamd.ping()
        scan = clamd.scanner().open()
        scan.write(b"before " + EICAR)
        scan.seal()
        assert scan.verdict() == EICAR_SIGNATURE
    finally:
        process.stop()


def test_ping(clamd_process: ClamdProcess) -> None:
    """§12.1: /readyz asks clamd with PING."""
    _clamd(clamd_process).ping()


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("tcp://127.0.0.1:3310", ClamdAddress(host="127.0.0.1", port=3310)),
        ("tcp://clamd.internal:3310/", ClamdAddress(host="clamd.internal", port=3310)),
        ("unix:///run/clamav/clamd.ctl", ClamdAddress(path="/run/clamav/clamd.ctl")),
    ],
)
def test_addresses(url: str, address: ClamdAddress) -> None:
    """ECB_FILES_CLAMD: tcp://host:port or unix:///path."""
    assert ClamdAddress.parse(url) == address


@pytest.mark.parametrize(
    "url", ["clamd:3310", "tcp://host", "tcp://host:port", "unix://", "http://x:1", "tcp://h:1/x"]
)
def test_bad_addresses(url: str) -> None:
    """§8 ECB_FILES_CLAMD: anything but tcp://host:port or unix:///path is refused."""
    with pytest.raises(ValueError, match="tcp://host:port or unix:///path"):
        ClamdAddress.parse(url)
