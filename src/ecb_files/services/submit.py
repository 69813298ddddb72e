"""The submit use case (§3): one request to a submit endpoint, from its headers to its answer.

The HTTP layer checks the headers of step 1, then asks for an attempt and drives it
with the body as it arrives::

    attempt = service.begin(principal, endpoint, idempotency_key_header)
    attempt.claim()                # blocking; the Idempotency-Key, if any, is now held
    attempt.feed(batch) ...        # blocking; step 2: parse, decode, hash, stage
    answer = attempt.finish(last)  # blocking; steps 3 and 4, or a remembered answer
    attempt.abandon()              # after any failure: blobs discarded, the key let go

An attempt that is ``in_memory`` (no key, and a body no longer than the small-file
size) never blocks before its commit: ``feed`` and ``finish_in_memory``, whose future
ends with the commit, may run on the event loop, and the commit thread does the rest.

The body is JSON (§3.1) or, with a multipart boundary from its ``Content-Type``, the
binary form of §10.1; both parse into the same submission, accepted the same way.

Every rule of idempotent retries is decided here: a retry's body is only hashed and
compared (a multipart body without its boundary, which senders choose anew for every
request); a refusal that is remembered (``idempotency.is_remembered``) found in the
middle of the body is kept while the rest is read, so a retry of the same body can be
recognised; everything else lets the key go.
"""

from __future__ import annotations

import hashlib
import hmac
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Protocol

from ecb_files.config import Limits
from ecb_files.domain.endpoints import Endpoint
from ecb_files.errors import EcbError, IdempotencyKeyReused
from ecb_files.ingest import (
    BoundaryFreeSha256,
    MultipartSubmissionParser,
    SubmissionBody,
    SubmissionParser,
)
from ecb_files.services.acceptance import Acceptance, Accepted
from ecb_files.services.bearer import Principal
from ecb_files.services.idempotency import (
    Idempotency,
    IdempotencyScope,
    RememberedAnswer,
    is_remembered,
    parse_idempotency_key,
)
from ecb_files.storage import BlobStore
from ecb_files.storage.small_blobs import SmallBlobs, SmallOrSpilledBlob

# Small files held in memory by one request at most, before they spill to the store.
SMALL_FILES_REQUEST_BUDGET = 1024 * 1024


class BodyDigest(Protocol):
    """What identifies a request body for idempotent retries (a hashlib object)."""

    def update(self, data: bytes, /) -> None: ...
    def hexdigest(self) -> str: ...


@dataclass(frozen=True)
class Answer:
    """What to send: a status and a JSON body; ``replayed`` when it is a remembered one."""

    status: int
    body: bytes
    replayed: bool = False


class SubmitService:
    def __init__(
        self,
        store: BlobStore,
        limits: Limits,
        idempotency: Idempotency,
        acceptance: Acceptance,
        *,
        small_file_bytes: int,
    ) -> None:
        self._store = store
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
        parser: SubmissionBody[SmallOrSpilledBlob]
        digest: BodyDigest
        if multipart_boundary is None:
            parser = SubmissionParser(self._limits, blobs.stage)
            digest = hashlib.sha256()
        else:
            parser = MultipartSubmissionParser(multipart_boundary, self._limits, blobs.stage)
            digest = BoundaryFreeSha256(multipart_boundary)
        # A body is no shorter than the files in it (base64 or raw): a body this short
        # keeps every file in memory, and has nothing to do that blocks before its commit.
        in_memory = (
            scope is None
            and content_length is not None
            and content_length <= min(self._small_file_bytes, budget)
        )
        return SubmitAttempt(
            self._idempotency,
            self._acceptance,
            principal,
            endpoint,
            scope,
            parser,
            in_memory,
            body_digest=digest if scope is not None else None,
        )

    def close(self) -> None:
        self._acceptance.close()


class SubmitAttempt:
    """One request's way through the use case. Blocking: call it from a worker thread."""

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
    ) -> None:
        self._idempotency = idempotency
        self.in_memory = in_memory
        self._acceptance = acceptance
        self._principal = principal
        self._endpoint = endpoint
        self._scope = scope
        self._parser: SubmissionBody[SmallOrSpilledBlob] | None = parser
        # The body's digest only serves idempotent retries: begin() makes one for a key.
        self._body_sha256 = body_digest
        self._remembered: RememberedAnswer | None = None
        self._refusal: EcbError | None = None
        # True once the key needs nothing more: its answer is stored, or it was let go.
        self._settled = scope is None

    @property
    def holds_a_key(self) -> bool:
        """Whether ``claim`` has anything to do (it takes a database round trip)."""
        return self._scope is not None

    def claim(self) -> None:
        """Hold the ``Idempotency-Key``, or learn the answer remembered for it.

        Raises ``RequestInProgress`` while another live request holds it.
        """
        if self._scope is None:
            return
        try:
            self._remembered = self._idempotency.claim(self._scope)
        except BaseException:
            self._settled = True  # the key is not this request's: never let it go
            raise
        if self._remembered is not None:
            self._settled = True  # the key was never ours to let go
            self._drop_parser()  # a retry's body is hashed and compared, never parsed

    def feed(self, data: bytes) -> None:
        """Step 2 for the next bytes of the body."""
        if self._body_sha256 is not None:
            self._body_sha256.update(data)  # first: a refused batch still counts
        if self._parser is None:
            return
        try:
            self._parser.feed(data)
        except EcbError as error:
            self._keep_or_raise(error)

    def finish(self, last: bytes = b"") -> Answer:
        """The last bytes of the body, then the answer (or the refusal, raised)."""
        self.feed(last)
        body_sha256 = self._body_sha256.hexdigest() if self._body_sha256 is not None else ""
        if self._remembered is not None:
            return self._replay(body_sha256)
        parser, self._parser = self._parser, None
        try:
            if parser is None:
                assert self._refusal is not None
                raise self._refusal
            submission = parser.finish()
            accepted = self._acceptance.accept(
                self._principal,
                self._endpoint,
                submission,
                idempotency=self._scope,
                request_sha256=body_sha256,
            )
        except EcbError as error:
            if parser is not None:
                parser.abort()
            if self._scope is not None and is_remembered(error):
                self._remember(error, body_sha256)
            raise
        self._settled = True  # the answer was committed with the files
        return Answer(200, accepted.body)

    def finish_in_memory(self, last: bytes = b"") -> Future[Answer]:
        """``finish`` for an attempt that is ``in_memory``: it does not block, and may run
        on an event loop; the future ends once the files are committed."""
        if not self.in_memory:
            raise RuntimeError("finish_in_memory is for attempts whose body stays in memory")
        self.feed(last)
        parser, self._parser = self._parser, None
        assert parser is not None
        try:
            submission = parser.finish()
        except BaseException:
            parser.abort()
            raise
        answer: Future[Answer] = Future()

        def settle(accepted: Future[Accepted]) -> None:
            try:
                answer.set_result(Answer(200, accepted.result().body))
            except BaseException as error:
                answer.set_exception(error)

        accepted = self._acceptance.accept_in_memory(self._principal, self._endpoint, submission)
        accepted.add_done_callback(settle)
        return answer

    def abandon(self) -> None:
        """After any failure: nothing of the request stays, and the key is let go unless
        its answer was remembered. Safe to call more than once."""
        self._drop_parser()
        if not self._settled and self._scope is not None:
            self._settled = True
            self._idempotency.release(self._scope)

    def _keep_or_raise(self, error: EcbError) -> None:
        """A fault met mid-body: answered at once, unless a retry must get it again —
        then it waits until the whole body has been read and hashed."""
        if self._scope is None or not is_remembered(error):
            raise error
        self._refusal = error
        self._drop_parser()

    def _replay(self, body_sha256: str) -> Answer:
        remembered = self._remembered
        assert remembered is not None
        assert self._scope is not None
        if not hmac.compare_digest(body_sha256, remembered.request_sha256):
            raise IdempotencyKeyReused(
                f"Idempotency-Key '{self._scope.key}' was already used with a different "
                "request body"
            )
        return Answer(remembered.status, remembered.body, replayed=True)

    def _remember(self, error: EcbError, body_sha256: str) -> None:
        assert self._scope is not None
        try:
            self._idempotency.remember(
                self._scope, RememberedAnswer(error.status, error.envelope(), body_sha256)
            )
        except Exception:
            self._idempotency.release(self._scope)  # a retry is then served as new
        self._settled = True

    def _drop_parser(self) -> None:
        if self._parser is not None:
            self._parser.abort()
            self._parser = None
