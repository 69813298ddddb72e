"""The submit use case (§3): one request to a submit endpoint, from its headers to its answer.

The HTTP layer checks the headers of step 1, then asks for an attempt and drives it
with the body as it arrives::

    attempt = service.begin(principal, endpoint, idempotency_key_header)
    attempt.claim()                # blocking; the Idempotency-Key, if any, is now held
    attempt.feed(batch) ...        # blocking; step 2: parse, decode, hash, stage
    answer = attempt.finish(last)  # blocking; steps 3 and 4, or a remembered answer
    attempt.abandon()              # after any failure: blobs discarded, the key let go

An attempt that is ``in_memory`` (no key, and a body no longer than the small-file
size) never blocks before its commit: ``feed`` and the coroutine ``finish_in_memory``,
which returns once the commit has, run on the event loop, and the commit thread does
the rest.
Its files, when the service scans for malware, are held and sent to the scanner from
the event loop once the body has ended (``ingest.HeldScanner``).

The body is JSON (§3.1) or, with a multipart boundary from its ``Content-Type``, the
binary form of §10.1; both parse into the same submission, accepted the same way.

Every rule of idempotent retries is ``services.attempt``'s, shared with the FNoL
endpoint; a multipart body is hashed without its boundary, which senders choose anew
for every request.
"""

from __future__ import annotations

import asyncio
import hashlib

from ecb_files.config import Limits
from ecb_files.domain.endpoints import Endpoint
from ecb_files.ingest import (
    BoundaryFreeSha256,
    HeldScanner,
    MultipartSubmissionParser,
    Scanner,
    Scanners,
    SubmissionBody,
    SubmissionParser,
)
from ecb_files.services.acceptance import Acceptance, Accepted, Submission
from ecb_files.services.attempt import Answer, Attempt, BodyDigest
from ecb_files.services.bearer import Principal
from ecb_files.services.idempotency import (
    Idempotency,
    IdempotencyScope,
    parse_idempotency_key,
)
from ecb_files.storage import BlobStore
from ecb_files.storage.small_blobs import SmallBlobs, SmallOrSpilledBlob

# Small files held in memory by one request at most, before they spill to the store.
SMALL_FILES_REQUEST_BUDGET = 1024 * 1024


class SubmitService:
    def __init__(
        self,
        store: BlobStore,
        limits: Limits,
        idempotency: Idempotency,
        acceptance: Acceptance,
        *,
        small_file_bytes: int,
        scanners: Scanners | None = None,
    ) -> None:
        self._store = store
        self._scanners = scanners
        self._small_file_bytes = small_file_bytes
        self._limits = limits
        self._idempotency = idempotency
        self._acceptance = acceptance

    def begin(
        self,
        principal: Principal,
        endpoint: Endpoint,
        idempotency_key: str | None,
        content_length: int | None = None,
        *,
        multipart_boundary: str | None = None,
    ) -> SubmitAttempt:
        """An attempt for a request whose headers passed step 1: a JSON body, or the
        binary form (§10.1) with its ``multipart_boundary``. Does no I/O; raises
        ``InvalidRequest`` for a malformed ``Idempotency-Key`` header."""
        key = parse_idempotency_key(idempotency_key, self._limits.max_idempotency_key_chars)
        scope = None if key is None else IdempotencyScope(principal.client_id, endpoint.value, key)
        budget = min(SMALL_FILES_REQUEST_BUDGET, 16 * self._small_file_bytes)
        blobs = SmallBlobs(
            self._store, max_inline_bytes=self._small_file_bytes, request_budget=budget
        )
        # A body is no shorter than the files in it (base64 or raw): a body this short
        # keeps every file in memory, and has nothing to do that blocks before its commit;
        # its files, if scanned (§12.1), are held and sent to the scanner from the loop.
        in_memory = (
            scope is None
            and content_length is not None
            and content_length <= min(self._small_file_bytes, budget)
        )
        held: HeldScanner | None = None
        scanner: Scanner | None = None
        if self._scanners is not None and in_memory:
            scanner = held = self._scanners.held_scanner()
        elif self._scanners is not None:
            scanner = self._scanners.scanner()
        parser: SubmissionBody[SmallOrSpilledBlob]
        digest: BodyDigest
        if multipart_boundary is None:
            parser = SubmissionParser(self._limits, blobs.stage, scanner=scanner)
            digest = hashlib.sha256()
        else:
            parser = MultipartSubmissionParser(
                multipart_boundary, self._limits, blobs.stage, scanner=scanner
            )
            digest = BoundaryFreeSha256(multipart_boundary)
        return SubmitAttempt(
            self._idempotency,
            self._acceptance,
            principal,
            endpoint,
            scope,
            parser,
            in_memory,
            body_digest=digest if scope is not None else None,
            held_scanner=held,
        )

    def close(self) -> None:
        self._acceptance.close()


class SubmitAttempt(Attempt[Submission]):
    """One submit request's way through the use case (``services.attempt``), which may
    keep its whole body in memory (``in_memory``). Blocking: call it from a worker
    thread, ``finish_in_memory`` aside."""

    def __init__(
        self,
        idempotency: Idempotency,
        acceptance: Acceptance,
        principal: Principal,
        endpoint: Endpoint,
        scope: IdempotencyScope | None,
        parser: SubmissionBody[SmallOrSpilledBlob],
        in_memory: bool = False,
        *,
        body_digest: BodyDigest | None = None,
        held_scanner: HeldScanner | None = None,
    ) -> None:
        def accept(body: Submission, key: IdempotencyScope | None, body_sha256: str) -> Answer:
            accepted = acceptance.accept(
                principal, endpoint, body, idempotency=key, request_sha256=body_sha256
            )
            return _answer(accepted)

        super().__init__(idempotency, scope, parser, accept, body_digest=body_digest)
        self.in_memory = in_memory
        self._held_scanner = held_scanner
        self._acceptance = acceptance
        self._principal = principal
        self._endpoint = endpoint

    async def finish_in_memory(self, last: bytes = b"") -> Answer:
        """``finish`` for an attempt that is ``in_memory``, on the event loop (where its
        files' scans, if any, are sent from): it never blocks, and returns once the files
        are committed."""
        if not self.in_memory:
            raise RuntimeError("finish_in_memory is for attempts whose body stays in memory")
        self.feed(last)
        parser = self._take_parser()
        try:
            submission = parser.finish()
        except BaseException:
            parser.abort()
            raise
        if self._held_scanner is not None:
            await asyncio.wrap_future(self._held_scanner.settle())
        accepted = await self._acceptance.accept_in_memory(
            self._principal, self._endpoint, submission
        )
        return _answer(accepted)


def _answer(accepted: Accepted) -> Answer:
    return Answer(200, accepted.body, files=accepted.files, partner_id=accepted.partner_id)
