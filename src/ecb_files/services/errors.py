"""Refusals of the operator use cases (cases, files, fixtures), told apart by the CLI.

::

    LookupError
    └── NotFoundError      an id names nothing                          exit code 1
    ValueError
    ├── ConflictError      the change contradicts what is stored        exit code 1
    └── FixtureError       a fixture document is invalid (services.fixtures)  exit code 2
    RuntimeError
    └── BlobIntegrityError a stored blob differs from its row           exit code 1

The HTTP API has its own tree in ``ecb_files.errors``; these never reach a partner.
"""

from __future__ import annotations


class NotFoundError(LookupError):
    """An id given by the operator names no stored object; the message names it."""


class ConflictError(ValueError):
    """The requested change contradicts the stored state; the message says how."""


class BlobIntegrityError(RuntimeError):
    """A stored blob is not the bytes its file row describes (size or SHA-256 differ)."""
