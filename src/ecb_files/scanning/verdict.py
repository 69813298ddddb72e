"""What one file's scan comes to, the same for every way a file reaches clamd."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

from ecb_files.errors import ScannerUnavailable

if TYPE_CHECKING:
    from ecb_files.scanning.clamd import Clamd


class ScanVerdict(ABC):
    """A signature, clean (``None``), or the scanner's failure: settled once, then the
    same answer on every call. A scan dropped before its answer is never clean."""

    def __init__(self, clamd: Clamd) -> None:
        self._clamd = clamd
        self._answered = False
        self._signature: str | None = None
        self._failure: ScannerUnavailable | None = None
        self._seconds = 0.0

    @property
    def seconds(self) -> float:
        """From the scan's start to its verdict."""
        return self._seconds

    def verdict(self) -> str | None:
        if not self._answered:
            self._answered = True
            self._await_answer()
        if self._failure is not None:
            raise self._failure
        return self._signature

    @abstractmethod
    def _await_answer(self) -> None:
        """Settle the verdict from clamd's answer (``_judge``) or a failure."""

    def _judge(self, answer: str) -> None:
        try:
            self._signature = self._clamd.verdict_of(answer)
        except ScannerUnavailable as failure:
            self._failure = failure

    def _fail(self, why: str) -> None:
        """Settle as a failure, unless already settled."""
        if not self._answered:
            self._answered = True
            self._failure = self._clamd.unavailable(why)
