"""Where a staged blob is in its life cycle (see ``StagedBlob``), for every backend.

::

    WRITING ──seal──▶ SEALED ──publish──▶ PUBLISHED
       │                 │                    │
       └─────────────────┴──────abort─────────┴──▶ ABORTED   (from anywhere, any number of times)

A backend checks the phase before a step does any work (``require``) and moves on once
the step has succeeded (``sealed``, ``published``); a step that fails discards the blob
(``aborted``). Any other order is a bug in the caller and raises ``RuntimeError`` with
one message, whatever the backend: ``cannot <action> blob <id>: it is <phase>``.
"""

from __future__ import annotations

from enum import Enum


class Phase(Enum):
    """A staged blob's phase; the value is how the error message names it."""

    WRITING = "being written"
    SEALED = "sealed"
    PUBLISHED = "published"
    ABORTED = "aborted"


class Lifecycle:
    """The phase of one staged blob. Not thread-safe: the staged blob's lock guards it."""

    __slots__ = ("_blob_id", "_phase")

    def __init__(self, blob_id: str) -> None:
        self._blob_id = blob_id
        self._phase = Phase.WRITING

    @property
    def phase(self) -> Phase:
        return self._phase

    def require(self, phase: Phase, action: str) -> None:
        """Refuse ``action`` unless the blob is in ``phase``."""
        if self._phase is not phase:
            raise RuntimeError(f"cannot {action} blob {self._blob_id}: it is {self._phase.value}")

    def sealed(self) -> None:
        """Every byte is written and durable in staging: WRITING → SEALED."""
        self.require(Phase.WRITING, "seal")
        self._phase = Phase.SEALED

    def published(self) -> None:
        """The blob is visible: SEALED → PUBLISHED."""
        self.require(Phase.SEALED, "publish")
        self._phase = Phase.PUBLISHED

    def aborted(self) -> None:
        """The blob is discarded, or being discarded: from any phase, for good."""
        self._phase = Phase.ABORTED
