"""Steps 3 and 4 of §3.2, in their order: a parsed submission checked and stored.

The body has already been streamed through the ingest parser (step 2): every file's
bytes are sealed in staging, durable but invisible. This module checks the security
token, the employee, the target, its status and the file types — the first failure is
the answer — then publishes the blobs, inserts the rows and commits. Blobs are durable
before the commit; on any failure every blob of the request is discarded, so a refused
request leaves nothing behind (a crash in between leaves orphans for ``gc``).
"""

from __future__ import annotations

import hmac
import json
import uuid
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any, TypeVar

from ecb_files.db import Database, ReadConnection, Transaction
from ecb_files.db import submissions as intake
from ecb_files.db.group_commit import GroupCommitter
from ecb_files.db.models import email_key
from ecb_files.domain import filetypes
from ecb_files.domain.endpoints import Endpoint
from ecb_files.domain.ids import new_record_id
from ecb_files.errors import (
    ClaimIsClosed,
    ClaimNotFound,
    DamageNotificationMergedToClaim,
    DamageNotificationNotFound,
    EcbError,
    InvalidSecurityToken,
    MalwareDetected,
    ServiceUnavailable,
    Unauthorized,
    UnsupportedMediaType,
    UserNotFound,
)
from ecb_files.ingest import ParsedFile, ParsedSubmission
from ecb_files.services.bearer import Principal
from ecb_files.services.idempotency import Idempotency, IdempotencyScope, RememberedAnswer
from ecb_files.services.metrics import Metrics
from ecb_files.storage.small_blobs import SmallOrSpilledBlob

Submission = ParsedSubmission[SmallOrSpilledBlob]
T = TypeVar("T")

# What a write transaction has looked up already (a session's scratch space).
_LOOKUPS = "ecb_files.lookups"

# The refusals of steps 3.1–3.5: answers, not failures of the transaction.
_REFUSALS = (
    Unauthorized,
    InvalidSecurityToken,
    UserNotFound,
    ClaimNotFound,
    ClaimIsClosed,
    DamageNotificationNotFound,
    DamageNotificationMergedToClaim,
    UnsupportedMediaType,
    MalwareDetected,
)


class Lookups:
    """The lookups of steps 3.1–3.4 on one connection, each made once per ``cache``: a
    write transaction's rows cannot change under it, and the target lookups take the
    row lock that keeps them so until the commit."""

    def __init__(self, connection: ReadConnection, cache: dict[tuple[Any, ...], Any]) -> None:
        self._connection = connection
        self._cache = cache

    def caller(self, client_id: str, email: str) -> intake.Caller | None:
        key = ("caller", client_id, email_key(email))
        if key not in self._cache:
            self._cache[key] = intake.find_caller(self._connection, client_id, email)
        found: intake.Caller | None = self._cache[key]
        return found

    def case(
        self, case_id: uuid.UUID, alias: str, partner_id: uuid.UUID
    ) -> intake.CaseState | None:
        key = ("case", case_id, alias, partner_id)
        if key not in self._cache:
            self._cache[key] = intake.find_case_state(self._connection, case_id, alias, partner_id)
        found: intake.CaseState | None = self._cache[key]
        return found

    def damage_notification(
        self, dn_id: uuid.UUID, alias: str, partner_id: uuid.UUID
    ) -> intake.DamageNotificationState | None:
        key = ("dn", dn_id, alias, partner_id)
        if key not in self._cache:
            self._cache[key] = intake.find_dn_state(self._connection, dn_id, alias, partner_id)
        found: intake.DamageNotificationState | None = self._cache[key]
        return found


@dataclass(frozen=True)
class _Checked:
    """What steps 3.1–3.5 found, by id: all step 4 needs."""

    client_pk: int
    partner_id: uuid.UUID
    employee_id: int
    case_id: uuid.UUID | None
    dn_id: uuid.UUID | None


@dataclass(frozen=True)
class Accepted:
    """A committed submission: the 200 body, ready to send; the partner it came from
    and how many files it stored (for the request's log line, §12.3)."""

    submission_id: uuid.UUID
    body: bytes
    partner_id: uuid.UUID | None = None
    files: int = 0


class Acceptance:
    def __init__(
        self, database: Database, idempotency: Idempotency, metrics: Metrics | None = None
    ) -> None:
        self._database = database
        self._idempotency = idempotency
        self._metrics = metrics or Metrics()
        self._commits = GroupCommitter(database, before_commit=intake.insert_queued)

    def accept(
        self,
        principal: Principal,
        endpoint: Endpoint,
        submission: Submission,
        *,
        idempotency: IdempotencyScope | None = None,
        request_sha256: str = "",
    ) -> Accepted:
        """Steps 3 and 4 of §3.2. Blocking: call it from a worker thread.

        The checks and the rows share one short write transaction, so the target cannot
        close or be merged in between, and that transaction is shared with the
        submissions of other requests ready at the same moment (group commit): one
        commit, one log flush, and one lookup of each caller and target for all of them.
        A submission with files in the blob store is checked once before its blobs are
        published too, so that a refusal never waits for, or is hidden by, the storage.
        """
        blobs = [f.blob for f in submission.files]
        try:
            settle_scans(submission.files, self._metrics)
            if any(blob.inline_content is None for blob in blobs):
                with self._database.read_connection() as connection:
                    self._check(Lookups(connection, {}), principal, endpoint, submission)
                for blob in blobs:
                    blob.publish()
            accepted = committed(
                self._commits,
                partial(self._write, principal, endpoint, submission, idempotency, request_sha256),
            )
        except BaseException:
            discard(blobs)
            raise
        self._count(endpoint, submission)
        return accepted

    async def accept_in_memory(
        self, principal: Principal, endpoint: Endpoint, submission: Submission
    ) -> Accepted:
        """``accept`` for a submission without an ``Idempotency-Key`` whose files are all
        kept with their rows, and scanned already if scanned at all (held scans, settled),
        on the event loop: nothing here blocks, and it returns once the commit has (or
        raises the refusal). A scanner failure raises here."""
        if any(parsed.blob.inline_content is None for parsed in submission.files):
            raise ValueError("accept_in_memory takes submissions of small files only")
        settle_scans(submission.files, self._metrics)
        unit = partial(self._write, principal, endpoint, submission, None, "")
        result = await self._commits.submit_on_loop(unit)
        if isinstance(result, EcbError):
            raise result
        self._count(endpoint, submission)
        return result

    def _count(self, endpoint: Endpoint, submission: Submission) -> None:
        files = submission.files
        self._metrics.stored(endpoint.value, len(files), sum(parsed.size for parsed in files))

    @property
    def commits(self) -> GroupCommitter:
        """The process's group committer, for other use cases' write units to share."""
        return self._commits

    def close(self) -> None:
        self._commits.close()

    def _write(
        self,
        principal: Principal,
        endpoint: Endpoint,
        submission: Submission,
        idempotency: IdempotencyScope | None,
        request_sha256: str,
        unit: Transaction,
    ) -> Accepted | EcbError:
        """The group-commit unit: the checks of steps 3.1–3.5, then the rows of step 4."""
        lookups = Lookups(unit.connection(), unit.info.setdefault(_LOOKUPS, {}))
        try:
            checked = self._check(lookups, principal, endpoint, submission)
        except _REFUSALS as refusal:
            return refusal  # a refusal leaves the other submissions of the batch be
        accepted = self._record(unit, checked, endpoint, submission, idempotency)
        if idempotency is not None:
            answer = RememberedAnswer(200, accepted.body, request_sha256)
            self._idempotency.remember_in(unit, idempotency, answer)
        return accepted

    def _check(
        self, lookups: Lookups, principal: Principal, endpoint: Endpoint, body: Submission
    ) -> _Checked:
        # 3.1 and 3.2
        caller = check_caller(
            lookups, principal, body.security_token, body.user_email, "payload.userEmail"
        )
        # 3.3 and 3.4
        case_id, dn_id = self._open_target(lookups, endpoint, body, caller.partner_id)
        # 3.5, then what is inside the files (§12.1, §9)
        labels = [_label(parsed) for parsed in body.files]
        check_file_types(body.files, labels)
        check_contents(body.files, labels)
        assert caller.employee_id is not None
        return _Checked(
            client_pk=caller.client_pk,
            partner_id=caller.partner_id,
            employee_id=caller.employee_id,
            case_id=case_id,
            dn_id=dn_id,
        )

    def _record(
        self,
        session: Transaction,
        checked: _Checked,
        endpoint: Endpoint,
        body: Submission,
        idempotency: IdempotencyScope | None,
    ) -> Accepted:
        """Step 4: the rows of a submission whose blobs are durable and published."""
        now = datetime.now(UTC)
        submission = intake.submission_row(
            endpoint=endpoint.value,
            client_pk=checked.client_pk,
            partner_id=checked.partner_id,
            employee_id=checked.employee_id,
            case_id=checked.case_id,
            dn_id=checked.dn_id,
            timestamp=body.timestamp,
            idempotency_key=idempotency.key if idempotency is not None else None,
            created_at=now,
        )
        files = [
            file_row(
                parsed,
                submission,
                is_restricted=parsed.is_restricted and endpoint.honours_is_restricted,
                is_damage_image=parsed.is_damage_image and endpoint.honours_is_damage_image,
            )
            for parsed in body.files
        ]
        intake.queue_submission(session, submission, files, small_contents(body.files))
        answer = {"success": True, "payload": {"files": file_entries(files)}}
        body_bytes = json.dumps(answer, ensure_ascii=False).encode()
        return Accepted(submission["id"], body_bytes, checked.partner_id, len(files))

    def _open_target(
        self,
        lookups: Lookups,
        endpoint: Endpoint,
        body: Submission,
        partner_id: uuid.UUID,
    ) -> tuple[uuid.UUID | None, uuid.UUID | None]:
        """The open target as ``(case_id, dn_id)``, one of them set; else the refusal."""
        alias = body.insurance_company_alias
        if endpoint is Endpoint.CASE:
            case = lookups.case(body.target_id, alias, partner_id)
            if case is None:
                raise ClaimNotFound(
                    f"payload.id: no case with id {body.target_id} for this service partner "
                    f"at insurance company '{alias}'"
                )
            if not case.is_open:
                raise ClaimIsClosed(
                    f"payload.id with value '{body.target_id}' is not ok. "
                    f"Reason: Case with id {body.target_id} is closed"
                )
            return case.id, None
        dn = lookups.damage_notification(body.target_id, alias, partner_id)
        if dn is None:
            raise DamageNotificationNotFound(
                f"payload.id: no damage notification with id {body.target_id} created by this "
                f"service partner at insurance company '{alias}'"
            )
        if dn.merged_to_case_id is not None:
            raise DamageNotificationMergedToClaim(
                f"payload.id with value '{body.target_id}' is not ok. "
                f"Reason: Damage notification with id {body.target_id} is already merged "
                f"to claim with id {dn.merged_to_case_id}"
            )
        return None, dn.id


def committed(commits: GroupCommitter, unit: Callable[[Transaction], T | EcbError]) -> T:
    """``unit`` run and committed by the group commit; the refusal it returned, raised.

    A unit returns its refusal instead of raising it, so that the other units of its
    batch commit undisturbed (a raise rolls the whole batch back and runs each alone).
    """
    outcome = commits.run(unit)
    if isinstance(outcome, EcbError):
        raise outcome
    return outcome


def check_caller(
    lookups: Lookups,
    principal: Principal,
    security_token: uuid.UUID,
    user_email: str,
    email_field: str,
) -> intake.Caller:
    """Steps 3.1 and 3.2: the token's client, its partner's security token, and an active
    employee ``user_email`` there (named ``email_field`` in the refusal)."""
    caller = lookups.caller(principal.client_id, user_email)
    if caller is None:
        # The token is genuine but its client was removed since it was issued.
        raise Unauthorized("the access token's client no longer exists")
    # 3.1 — constant time, so the token cannot be guessed byte by byte.
    if not hmac.compare_digest(security_token.bytes, caller.security_token.bytes):
        raise InvalidSecurityToken(
            "securityToken: does not match the service partner of this client",
            reason="security_token_mismatch",
        )
    # 3.2
    if caller.employee_id is None:
        raise UserNotFound(
            f"{email_field}: no active employee '{user_email}' at this service partner"
        )
    return caller


def check_file_types(
    files: Sequence[ParsedFile[SmallOrSpilledBlob]], labels: Sequence[str]
) -> None:
    """Step 3.5: each file's extension allowed and its contentType accepted for it (§4);
    ``labels`` name the files in the refusal."""
    for parsed, where in zip(files, labels, strict=True):
        extension = filetypes.extension_of(parsed.file_name)
        if extension is None or not filetypes.is_allowed_extension(extension):
            shown = f"'.{extension}'" if extension else "no extension"
            raise UnsupportedMediaType(
                f"{where}: file extension {shown} is not allowed; "
                "see GET /ecx/host/api/integration/v1/file/contentTypes",
                reason="extension_not_allowed",
            )
        if not filetypes.is_accepted(extension, parsed.content_type):
            accepted = ", ".join(filetypes.accepted_types(extension) or ())
            raise UnsupportedMediaType(
                f"{where}.contentType: '{parsed.content_type}' is not accepted for "
                f"'.{extension}' files (accepted: {accepted})",
                reason="content_type_not_accepted",
            )


def settle_scans(files: Sequence[ParsedFile[SmallOrSpilledBlob]], metrics: Metrics) -> None:
    """Wait for every file's malware verdict (§12.1), so that the checks, which may run
    in a shared transaction, never wait on the scanner; each verdict is counted in the
    metrics (§12.3). A scanner failure (503) drops every scan of the request."""
    try:
        for parsed in files:
            scan = parsed.findings.scan
            if scan is None:
                continue
            try:
                signature = scan.verdict()
            except ServiceUnavailable:
                metrics.scanned("error", scan.seconds)
                raise
            metrics.scanned("clean" if signature is None else "malware", scan.seconds)
    except BaseException:
        for parsed in files:
            if parsed.findings.scan is not None:
                parsed.findings.scan.abort()
        raise


def check_contents(files: Sequence[ParsedFile[SmallOrSpilledBlob]], labels: Sequence[str]) -> None:
    """§12.1, reported after step 3.5 in this order (§9): first bytes that are not what
    the name says, or an executable (415), then malware (422). Blocks only for a scan
    not yet settled (``settle_scans``)."""
    for parsed, where in zip(files, labels, strict=True):
        if parsed.findings.problem is not None:
            raise UnsupportedMediaType(
                f"{where}: {parsed.findings.problem}", reason="content_not_as_named"
            )
    for parsed, where in zip(files, labels, strict=True):
        signature = parsed.findings.malware()
        if signature is not None:
            raise MalwareDetected(
                f"{where}: the malware scanner found {signature!r} in the file",
                signature=signature,
            )


def _label(parsed: ParsedFile[SmallOrSpilledBlob]) -> str:
    return f"payload.files[{parsed.index}] ('{parsed.file_name}')"


def file_row(
    parsed: ParsedFile[SmallOrSpilledBlob],
    submission: dict[str, Any],
    *,
    is_restricted: bool,
    is_damage_image: bool,
) -> dict[str, Any]:
    """A ``files`` row for ``parsed``, under the ``submissions`` row ``submission``."""
    return {
        "id": new_record_id(),
        "case_id": submission["case_id"],
        "dn_id": submission["dn_id"],
        "submission_id": submission["id"],
        "employee_id": submission["employee_id"],
        "client_pk": submission["client_pk"],
        "file_name": parsed.file_name,
        "content_type": parsed.content_type,
        "size": parsed.size,
        "sha256": parsed.sha256,
        "description": parsed.description,
        "is_restricted": is_restricted,
        "is_damage_image": is_damage_image,
        "blob_id": parsed.blob.blob_id,
        "created_at": submission["created_at"],
    }


def small_contents(files: Sequence[ParsedFile[SmallOrSpilledBlob]]) -> list[dict[str, Any]]:
    """The ``small_file_contents`` rows of the files kept with their rows."""
    return [
        {"blob_id": parsed.blob.blob_id, "content": content}
        for parsed in files
        if (content := parsed.blob.inline_content) is not None
    ]


def file_entries(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The files of a success answer (§3.3): ``id``, ``fileName``, ``size``, ``sha256``."""
    return [
        {
            "id": str(row["id"]),
            "fileName": row["file_name"],
            "size": row["size"],
            "sha256": row["sha256"],
        }
        for row in rows
    ]


def discard(blobs: Sequence[SmallOrSpilledBlob]) -> None:
    for blob in blobs:
        # Best effort: gc removes whatever stays behind.
        with suppress(Exception):
            blob.abort()
