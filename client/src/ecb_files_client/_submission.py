"""A submission as one flow, for the blocking and the asyncio client alike.

1. the limits in force (``GET …/file/limits``, once per client) and the local checks;
2. the body: binary ``multipart/form-data`` (§10.1) when the server says it takes it
   (``"multipart": true`` in its limits), else the base64 JSON of §3.1; or the form
   the caller forces with ``transfer``;
3. sent with retries (``_sending``); 200 → the result, each file's SHA-256 compared
   with what was sent.

Damage notifications created from scratch (§10.2) are planned in ``_fnol`` and share
the limits, the checks and the sending.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any, Literal, get_args

from ecb_files_client import _checks as checks
from ecb_files_client import _fnol as fnol
from ecb_files_client._body import Envelope, SubmissionBody
from ecb_files_client._checks import Limits
from ecb_files_client._flow import Flow, HttpCall, HttpReply
from ecb_files_client._multipart import MultipartSubmissionBody
from ecb_files_client._progress import ProgressListener
from ecb_files_client._results import DamageNotificationResult, SubmitResult, parse_success
from ecb_files_client._retry import RetryPolicy
from ecb_files_client._sending import PreparedRequest, send
from ecb_files_client._streamed import StreamedBody
from ecb_files_client._tokens import ClientCredentials, TokenCache, TokenSource, with_issuer
from ecb_files_client._uploads import Source, Upload, prepare
from ecb_files_client._version import USER_AGENT

API_ROOT = "/ecx/host/api/integration/v1"
API_PATH = f"{API_ROOT}/file"

Files = Iterable[Upload | Source]
Timestamp = str | date | datetime | None
# How file bytes travel: "multipart" (raw, §10.1), "json" (base64, §3.1), or "auto":
# multipart when the server's limits say it takes it, else JSON.
Transfer = Literal["auto", "multipart", "json"]
TRANSFERS: tuple[str, ...] = get_args(Transfer)

Plan = PreparedRequest


class Endpoint(Enum):
    """The two submit endpoints and the file flags each honours (§3.1)."""

    CASE = "submitForCase"
    DAMAGE_NOTIFICATION = "submitForDamageNotification"

    @property
    def honours_is_restricted(self) -> bool:
        return self is Endpoint.CASE

    @property
    def honours_is_damage_image(self) -> bool:
        return self is Endpoint.DAMAGE_NOTIFICATION


@dataclass(frozen=True)
class Submission:
    """One call's arguments."""

    endpoint: Endpoint
    target_id: str
    insurance_company_alias: str
    user_email: str
    files: Files
    security_token: str | None = None
    timestamp: Timestamp = None
    idempotency_key: str | None = None
    progress: ProgressListener | None = None
    transfer: Transfer | None = None  # None: the client's


@dataclass(frozen=True)
class NewDamageNotification:
    """One ``create_damage_notification`` call's arguments (§10.2)."""

    damage_notification: Mapping[str, Any]
    insurance_company_alias: str
    user_email: str
    attachments: Files = ()
    security_token: str | None = None
    idempotency_key: str | None = None
    progress: ProgressListener | None = None


class SubmissionFlows:
    """The state and flows that the blocking and the asyncio client share."""

    def __init__(
        self,
        base_url: str,
        credentials: ClientCredentials,
        *,
        security_token: str | None,
        retry: RetryPolicy | None,
        limits: Limits | None,
        validate_locally: bool,
        token_cache: TokenCache | None,
        transfer: Transfer = "auto",
    ) -> None:
        self.base_url = base_url.rstrip("/")
        if not self.base_url.startswith(("https://", "http://")):
            raise ValueError(f"base_url must be an http(s) URL, not {base_url!r}")
        self.tokens = TokenSource(with_issuer(credentials, self.base_url), token_cache)
        self.security_token = security_token
        self.retry = retry or RetryPolicy()
        self.limits = limits
        self.validate_locally = validate_locally
        self.transfer = check_transfer(transfer)

    # -- limits ---------------------------------------------------------------------------

    def limits_flow(self) -> Flow[Limits]:
        """The server's limits, asked once; the contract's defaults if it cannot say."""
        if self.limits is not None:
            return self.limits
        url = f"{self.base_url}{API_PATH}/limits"
        reply = yield HttpCall("GET", url, {"Accept": "application/json", "User-Agent": USER_AGENT})
        if isinstance(reply, HttpReply) and reply.status == 200:
            self.limits = Limits.from_document(reply.json())
            return self.limits
        # Unreachable now: the submission will meet the same failure and retry. Not
        # cached, so the next call asks again; meanwhile "auto" sends JSON, which every
        # server takes.
        return Limits()

    # -- submissions ----------------------------------------------------------------------

    def plan(self, submission: Submission) -> Flow[Plan]:
        """Check ``submission`` (unless local checks are off) and build its body."""
        endpoint = submission.endpoint
        files = tuple(prepare(submission.files))
        for file in files:
            if file.is_restricted and not endpoint.honours_is_restricted:
                raise ValueError(
                    f"files[{file.index}]: is_restricted is honoured by submitForCase only; "
                    "a damage notification's files all become public when it is merged"
                )
            if file.is_damage_image and not endpoint.honours_is_damage_image:
                raise ValueError(
                    f"files[{file.index}]: is_damage_image is honoured by "
                    "submitForDamageNotification only"
                )
        security_token = self._security_token(submission.security_token)
        key = submission.idempotency_key or str(uuid.uuid4())
        envelope = Envelope(
            security_token=security_token,
            timestamp=_timestamp(submission.timestamp),
            target_id=submission.target_id,
            alias=submission.insurance_company_alias,
            user_email=submission.user_email,
            honours_is_restricted=endpoint.honours_is_restricted,
            honours_is_damage_image=endpoint.honours_is_damage_image,
        )
        transfer = check_transfer(submission.transfer or self.transfer)
        limits: Limits | None = None
        if self.validate_locally or transfer == "auto":
            limits = yield from self.limits_flow()
        multipart = transfer == "multipart" or (
            transfer == "auto" and bool(limits and limits.multipart)
        )
        max_file_bytes = limits.max_file_bytes if self.validate_locally and limits else None
        body: StreamedBody
        if multipart:
            body = MultipartSubmissionBody(envelope, files, max_file_bytes)
        else:
            body = SubmissionBody(envelope, files, max_file_bytes)
        if self.validate_locally:
            assert limits is not None
            checks.check_idempotency_key(key)
            facts = [f.facts for f in files]
            checks.check_request_length(body.content_length, limits)
            checks.check_fields(
                security_token=envelope.security_token,
                timestamp=envelope.timestamp,
                target_id=envelope.target_id,
                alias=envelope.alias,
                user_email=envelope.user_email,
                files=facts,
                limits=limits,
                part_labels=None if body.base64 else [body.content_label(f) for f in files],
            )
            checks.check_file_types(facts)
        url = f"{self.base_url}{API_PATH}/{endpoint.value}"
        return Plan(url, files, body, key, self.validate_locally)

    def submit(self, submission: Submission) -> Flow[SubmitResult]:
        plan = yield from self.plan(submission)
        answer = yield from send(
            plan, tokens=self.tokens, retry=self.retry, progress=submission.progress, success=200
        )
        return parse_success(
            answer.reply.json(),
            local_sha256=plan.body.digests,
            attempts=answer.attempts,
            idempotency_key=plan.idempotency_key,
            request_id=answer.request_id,
            replayed=answer.replayed,
        )

    # -- damage notifications (§10.2) -----------------------------------------------------

    def plan_damage_notification(self, request: NewDamageNotification) -> Flow[Plan]:
        """Check a new damage notification (unless local checks are off), build its body."""
        files = tuple(prepare(request.attachments))
        security_token = self._security_token(request.security_token)
        key = request.idempotency_key or str(uuid.uuid4())
        limits = (yield from self.limits_flow()) if self.validate_locally else None
        body = fnol.FnolBody(
            fnol.FnolEnvelope(
                security_token=security_token,
                alias=request.insurance_company_alias,
                user_email=request.user_email,
                damage_notification=request.damage_notification,
            ),
            files,
            limits.max_file_bytes if limits else None,
        )
        if limits is not None:
            checks.check_idempotency_key(key)
            checks.check_request_length(body.content_length, limits)
            fnol.check(body, limits)
        url = f"{self.base_url}{fnol.FNOL_PATH}"
        return Plan(url, files, body, key, limits is not None)

    def create_damage_notification(
        self, request: NewDamageNotification
    ) -> Flow[DamageNotificationResult]:
        plan = yield from self.plan_damage_notification(request)
        answer = yield from send(
            plan, tokens=self.tokens, retry=self.retry, progress=request.progress, success=201
        )
        return fnol.parse_created(answer, plan)

    def damage_notification_schema(self, insurance_company_alias: str) -> Flow[dict[str, Any]]:
        """The FNoL schema in force for a tenant (public; no token needed)."""
        return (yield from fnol.schema_flow(self.base_url, insurance_company_alias))

    def _security_token(self, given: str | None) -> str:
        security_token = given or self.security_token
        if not security_token:
            raise ValueError("a security_token is needed (on the client or the call)")
        return security_token


def check_transfer(value: str) -> Transfer:
    if value not in TRANSFERS:
        raise ValueError(f"transfer must be one of {', '.join(TRANSFERS)}, not {value!r}")
    return value  # type: ignore[return-value]


def _timestamp(value: Timestamp) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return value.isoformat()
