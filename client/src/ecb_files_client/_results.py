"""What an accepted submission (§3.3) or a new damage notification (§10.2) returns,
checked against what was sent."""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ecb_files_client._exceptions import GenericError


@dataclass(frozen=True)
class StoredFile:
    """One stored file as the server reports it, beside the SHA-256 the client sent."""

    id: str
    file_name: str
    size: int
    sha256: str
    local_sha256: str | None

    @property
    def sha256_matches(self) -> bool:
        """The server stored exactly the bytes this client read and sent."""
        return self.local_sha256 is not None and hmac.compare_digest(
            self.local_sha256, self.sha256.lower()
        )


@dataclass(frozen=True)
class SubmitResult:
    """An accepted submission: its files in request order, and how it got there."""

    files: tuple[StoredFile, ...]
    attempts: int
    idempotency_key: str
    request_id: str | None
    replayed: bool

    @property
    def all_sha256_match(self) -> bool:
        return all(f.sha256_matches for f in self.files)

    def as_dict(self) -> dict[str, Any]:
        """camelCase, like the API; what ``ecb-files-submit --json`` prints."""
        return {
            "success": True,
            "files": [
                {
                    "id": f.id,
                    "fileName": f.file_name,
                    "size": f.size,
                    "sha256": f.sha256,
                    "sha256Matches": f.sha256_matches,
                }
                for f in self.files
            ],
            "attempts": self.attempts,
            "idempotencyKey": self.idempotency_key,
            "requestId": self.request_id,
            "replayed": self.replayed,
        }


@dataclass(frozen=True)
class DamageNotificationResult(SubmitResult):
    """A damage notification created from an FNoL (§10.2): what a submission reports of
    its attachments, and the new damage notification's ``id`` and ``location``."""

    id: str
    location: str | None

    def as_dict(self) -> dict[str, Any]:
        """camelCase, like the API; what ``ecb-files-submit fnol --json`` prints."""
        return {"success": True, "id": self.id, "location": self.location} | super().as_dict()


def parse_success(
    document: object,
    *,
    local_sha256: Sequence[str | None],
    attempts: int,
    idempotency_key: str,
    request_id: str | None,
    replayed: bool,
) -> SubmitResult:
    """The 200 body as a :class:`SubmitResult`; anything else is a GenericError."""
    files = stored_files(document, local_sha256, request_id=request_id, status=200)
    return SubmitResult(files, attempts, idempotency_key, request_id, replayed)


def stored_files(
    document: object, local_sha256: Sequence[str | None], *, request_id: str | None, status: int
) -> tuple[StoredFile, ...]:
    """``payload.files`` of a success, beside the SHA-256 of each file as sent."""
    entries = _entries(document)
    if entries is None or len(entries) != len(local_sha256):
        raise GenericError(
            f"unexpected answer to a successful request: {str(document)[:200]}",
            status=status,
            request_id=request_id,
        )
    return tuple(
        StoredFile(
            id=str(entry["id"]),
            file_name=str(entry["fileName"]),
            size=int(entry["size"]),
            sha256=str(entry["sha256"]),
            local_sha256=local,
        )
        for entry, local in zip(entries, local_sha256, strict=True)
    )


def _entries(document: object) -> list[dict[str, Any]] | None:
    if not isinstance(document, dict) or document.get("success") is not True:
        return None
    payload = document.get("payload")
    files = payload.get("files") if isinstance(payload, dict) else None
    if not isinstance(files, list):
        return None
    required = ("id", "fileName", "size", "sha256")
    if not all(isinstance(f, dict) and all(k in f for k in required) for f in files):
        return None
    return files
