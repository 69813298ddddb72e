"""One request to a write endpoint, from its headers to its answer, and every rule of
idempotent retries (§3.4, §9) — the same for the submit endpoints (§3, §10.1) and the
FNoL endpoint (§10.2).

The HTTP layer checks the headers of step 1, then asks its use case for an attempt and
drives it with the body as it arrives::

    attempt.claim()                # blocking; the Idempotency-Key, if any, is now held
    attempt.feed(batch) ...        # blocking; step 2: parse, decode, hash, stage
    answer = attempt.finish(last)  # blocking; the checks and the commit, or a remembered answer
    attempt.abandon()              # after any failure: blobs discarded, the key let go

An attempt reads its body with a :class:`BodyParser` and hands the parsed body to its
use case's ``accept``, which checks it, commits it and remembers the answer in the same
transaction. The rules of retries are decided here: a retry's body is only hashed and
compared (with the use case's :class:`BodyDigest`); a refusal that is remembered
(``idempotency.is_remembered``) found in the middle of the body is kept while the rest
is read, so a retry of the same body can be recognised; everything else lets the key go.
"""

from __future__ import annotations

import hmac
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from ecb_files.errors import EcbError, IdempotencyKeyReused
from ecb_files.services.idempotency import (
    Idempotency,
    IdempotencyScope,
    RememberedAnswer,
    is_remembered,
)

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class BodyParser(Protocol[T_co]):
    """Reads a request body pushed in chunks (step 2); ``abort`` discards what it staged."""

    def feed(self, chunk: bytes) -> None: ...
    def finish(self) -> T_co: ...
    def abort(self) -> None: ...


class BodyDigest(Protocol):
    """What identifies a request body for idempotent retries (a hashlib object)."""

    def update(self, data: bytes, /) -> None: ...
    def hexdigest(self) -> str: ...


@dataclass(frozen=True)
class Answer:
    """What to send: a status and a JSON body; ``replayed`` when it is a remembered one.
    ``files`` and ``partner_id``: what was stored, and for whom — notes for the request's
    log line (§12.3), no part of the answer (a replay has none)."""

    status: int
    body: bytes
    replayed: bool = False
    files: int = field(default=0, compare=False)
    partner_id: uuid.UUID | None = field(default=None, compare=False)


# The use case's last step: the parsed body, the key it must remember its answer under
# (in the transaction that commits what the answer reports), and the body's digest.
Accept = Callable[[T, IdempotencyScope | None, str], Answer]


class Attempt(Generic[T]):
    """One request's way through its use case. Blocking: call it from a worker thread."""

    def __init__(
        self,
        idempotency: Idempotency,
        scope: IdempotencyScope | None,
        parser: BodyParser[T],
        accept: Accept[T],
        *,
        body_digest: BodyDigest | None,
    ) -> None:
        self._idempotency = idempotency
        self._scope = scope
        self._parser: BodyParser[T] | None = parser
        self._accept = accept
        # The body's digest only serves idempotent retries: made only with a key.
        self._body_digest = body_digest if scope is not None else None
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
        if self._body_digest is not None:
            self._body_digest.update(data)  # first: a refused batch still counts
        if self._parser is None:
            return
        try:
            self._parser.feed(data)
        except EcbError as error:
            self._keep_or_raise(error)

    def finish(self, last: bytes = b"") -> Answer:
        """The last bytes of the body, then the answer (or the refusal, raised)."""
        self.feed(last)
        body_sha256 = self._body_digest.hexdigest() if self._body_digest is not None else ""
        if self._remembered is not None:
            return self._replay(body_sha256)
        parser, self._parser = self._parser, None
        try:
            if parser is None:
                assert self._refusal is not None
                raise self._refusal
            answer = self._accept(parser.finish(), self._scope, body_sha256)
        except EcbError as error:
            if parser is not None:
                parser.abort()
            if self._scope is not None and is_remembered(error):
                self._remember(error, body_sha256)
            raise
        self._settled = True  # the answer was committed with what it reports
        return answer

    def abandon(self) -> None:
        """After any failure: nothing of the request stays, and the key is let go unless
        its answer was remembered. Safe to call more than once."""
        self._drop_parser()
        if not self._settled and self._scope is not None:
            self._settled = True
            self._idempotency.release(self._scope)

    def _take_parser(self) -> BodyParser[T]:
        """The parser, for a subclass that finishes the body its own way."""
        parser, self._parser = self._parser, None
        assert parser is not None
        return parser

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
