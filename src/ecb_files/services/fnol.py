"""The FNoL use case (§10.2): a service partner creates a damage notification, with its
attachments, from one multipart request.

The route drives an :class:`~ecb_files.services.attempt.Attempt` (the idempotency rules
of §3.4, as on the submit endpoints) whose body parser is
:class:`~ecb_files.ingest.fnol.FnolParser` and whose last step is :meth:`FnolService.accept`:

1. the caller: 401 ``InvalidSecurityToken``, 404 ``UserNotFound`` (as §3.2 steps 3.1, 3.2);
2. the tenant: the alias unknown or not served by the partner → 404 ``InsuranceCompanyNotFound``;
3. the FNoL under the tenant's schema → 400 naming the failing path;
4. the attachments' types (§4) → 415, then what is inside them (§12.1): first bytes
   not as named → 415, malware → 422;
5. blobs published, then one transaction: the DN keeping its FNoL as sent, the
   submission (endpoint ``damageNotification``), the files, the remembered answer.

Steps 1–4 run first on a read connection (the schema is validated there, off the commit
thread), and again, without the schema unless it changed, inside the write unit shared
by the group commit. The answer is 201 with the new DN's id; its ``Location`` is made
from the body, so a replayed answer carries it too.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

from ecb_files.config import Limits
from ecb_files.db import Database, ReadConnection, Transaction
from ecb_files.db import fnol as tenants
from ecb_files.db import submissions as intake
from ecb_files.db.group_commit import GroupCommitter
from ecb_files.domain.endpoints import FNOL_ENDPOINT, damage_notification_location
from ecb_files.domain.fnol_schema import validate_fnol
from ecb_files.errors import (
    EcbError,
    InsuranceCompanyNotFound,
    InvalidRequest,
    InvalidSecurityToken,
    MalwareDetected,
    Unauthorized,
    UnsupportedMediaType,
    UserNotFound,
)
from ecb_files.ingest import Scanner
from ecb_files.ingest.fnol import FnolParser, ParsedFnol
from ecb_files.ingest.multipart import BoundaryFreeSha256
from ecb_files.services.acceptance import (
    Lookups,
    check_caller,
    check_contents,
    check_file_types,
    committed,
    discard,
    file_entries,
    file_row,
    settle_scans,
    small_contents,
)
from ecb_files.services.attempt import Answer, Attempt
from ecb_files.services.bearer import Principal
from ecb_files.services.errors import NotFoundError
from ecb_files.services.idempotency import (
    Idempotency,
    IdempotencyScope,
    RememberedAnswer,
    parse_idempotency_key,
)
from ecb_files.services.metrics import Metrics
from ecb_files.services.submit import SMALL_FILES_REQUEST_BUDGET
from ecb_files.services.tenants import fnol_schema_in_force
from ecb_files.storage import BlobStore
from ecb_files.storage.small_blobs import SmallBlobs, SmallOrSpilledBlob

Fnol = ParsedFnol[SmallOrSpilledBlob]
CREATED = 201

# The refusals of steps 1–4: answers, not failures of the shared transaction.
_REFUSALS = (
    Unauthorized,
    InvalidSecurityToken,
    UserNotFound,
    InsuranceCompanyNotFound,
    InvalidRequest,
    UnsupportedMediaType,
    MalwareDetected,
)


@dataclass(frozen=True)
class _Checked:
    """What steps 1–4 found: all step 5 needs."""

    client_pk: int
    partner_id: uuid.UUID
    employee_id: int
    company_id: int
    schema: str | None  # the schema the FNoL was validated under (None: the default)


class FnolService:
    def __init__(
        self,
        database: Database,
        store: BlobStore,
        limits: Limits,
        idempotency: Idempotency,
        commits: GroupCommitter,
        *,
        small_file_bytes: int,
        scanners: Callable[[], Scanner] | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self._scanners = scanners
        self._metrics = metrics or Metrics()
        self._database = database
        self._store = store
        self._limits = limits
        self._idempotency = idempotency
        self._commits = commits
        self._small_file_bytes = small_file_bytes

    def begin(
        self, principal: Principal, idempotency_key: str | None, boundary: str
    ) -> Attempt[Fnol]:
        """An attempt for a request whose headers passed (token, Content-Type with its
        ``boundary``). Does no I/O; ``InvalidRequest`` for a malformed Idempotency-Key."""
        key = parse_idempotency_key(idempotency_key, self._limits.max_idempotency_key_chars)
        scope = None if key is None else IdempotencyScope(principal.client_id, FNOL_ENDPOINT, key)
        budget = min(SMALL_FILES_REQUEST_BUDGET, 16 * self._small_file_bytes)
        blobs = SmallBlobs(
            self._store, max_inline_bytes=self._small_file_bytes, request_budget=budget
        )
        scanner = self._scanners() if self._scanners is not None else None
        parser = FnolParser(boundary, self._limits, blobs.stage, scanner=scanner)
        return Attempt(
            self._idempotency,
            scope,
            parser,
            partial(self.accept, principal),
            body_digest=BoundaryFreeSha256(boundary),
        )

    def accept(
        self,
        principal: Principal,
        fnol: Fnol,
        idempotency: IdempotencyScope | None,
        request_sha256: str,
    ) -> Answer:
        """Steps 1–5 (module doc); the 201 answer, or the refusal raised. Blocking."""
        blobs = [parsed.blob for parsed in fnol.attachments]
        try:
            settle_scans(fnol.attachments, self._metrics)
            with self._database.read_connection() as connection:
                checked = self._check(Lookups(connection, {}), connection, principal, fnol)
            for blob in blobs:
                blob.publish()
            unit = partial(self._write, principal, fnol, checked, idempotency, request_sha256)
            answer = committed(self._commits, unit)
        except BaseException:
            discard(blobs)
            raise
        sizes = [parsed.size for parsed in fnol.attachments]
        self._metrics.stored(FNOL_ENDPOINT, len(sizes), sum(sizes))
        return answer

    def schema_in_force(self, alias: str) -> dict[str, Any]:
        """The tenant's FNoL schema, or the built-in default; 404 for no such tenant."""
        try:
            return fnol_schema_in_force(self._database, alias)[0]
        except NotFoundError:
            raise InsuranceCompanyNotFound(
                f"insuranceCompanyAlias: no insurance company '{alias}'",
                reason="unknown_insurance_company",
            ) from None

    def _check(
        self,
        lookups: Lookups,
        connection: ReadConnection,
        principal: Principal,
        fnol: Fnol,
        *,
        earlier: _Checked | None = None,
    ) -> _Checked:
        """Steps 1–4. With ``earlier`` checks, the FNoL is validated again only if its
        tenant's schema changed since."""
        caller = check_caller(lookups, principal, fnol.security_token, fnol.user_email, "userEmail")
        alias = fnol.insurance_company_alias
        tenant = tenants.find_tenant_served_by(connection, alias, caller.partner_id)
        if tenant is None:
            # An alias the partner does not serve is answered as an unknown one.
            raise InsuranceCompanyNotFound(
                f"insuranceCompanyAlias: no insurance company '{alias}' served by this "
                "service partner",
                reason="unknown_insurance_company",
            )
        if earlier is None or earlier.schema != tenant.fnol_schema:
            validate_fnol(tenant.fnol_schema, fnol.damage_notification)
        check_file_types(fnol.attachments, fnol.attachment_labels)
        check_contents(fnol.attachments, fnol.attachment_labels)
        assert caller.employee_id is not None
        return _Checked(
            client_pk=caller.client_pk,
            partner_id=caller.partner_id,
            employee_id=caller.employee_id,
            company_id=tenant.id,
            schema=tenant.fnol_schema,
        )

    def _write(
        self,
        principal: Principal,
        fnol: Fnol,
        checked_before: _Checked,
        idempotency: IdempotencyScope | None,
        request_sha256: str,
        unit: Transaction,
    ) -> Answer | EcbError:
        """The group-commit unit: steps 1–4 again, then the rows of step 5."""
        connection = unit.connection()
        try:
            checked = self._check(
                Lookups(connection, {}),
                connection,
                principal,
                fnol,
                earlier=checked_before,
            )
        except _REFUSALS as refusal:
            return refusal  # a refusal leaves the other units of the batch be
        now = datetime.now(UTC)
        dn_id = uuid.uuid4()
        tenants.insert_damage_notification(
            connection,
            dn_id=dn_id,
            company_id=checked.company_id,
            partner_id=checked.partner_id,
            fnol=fnol.damage_notification_json,
            created_at=now,
        )
        submission = intake.submission_row(
            endpoint=FNOL_ENDPOINT,
            client_pk=checked.client_pk,
            partner_id=checked.partner_id,
            employee_id=checked.employee_id,
            case_id=None,
            dn_id=dn_id,
            timestamp=None,
            idempotency_key=idempotency.key if idempotency is not None else None,
            created_at=now,
        )
        files = [
            file_row(
                parsed, submission, is_restricted=False, is_damage_image=parsed.is_damage_image
            )
            for parsed in fnol.attachments
        ]
        intake.queue_submission(unit, submission, files, small_contents(fnol.attachments))
        body = {"success": True, "payload": {"id": str(dn_id), "files": file_entries(files)}}
        answer = Answer(
            CREATED,
            json.dumps(body, ensure_ascii=False).encode(),
            files=len(files),
            partner_id=checked.partner_id,
        )
        if idempotency is not None:
            remembered = RememberedAnswer(answer.status, answer.body, request_sha256)
            self._idempotency.remember_in(unit, idempotency, remembered)
        return answer


def location_of(answer: Answer) -> str | None:
    """The ``Location`` of a 201 answer: the DN it created (fresh or replayed alike)."""
    if answer.status != CREATED:
        return None
    dn_id = json.loads(answer.body)["payload"]["id"]
    return damage_notification_location(str(dn_id))
