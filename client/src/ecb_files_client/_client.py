"""The submit clients: :class:`SubmitClient` (blocking) and :class:`AsyncSubmitClient`.

Both are thin: they hold an HTTP client and drive the flows of ``_submission`` with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import Any

import httpx

from ecb_files_client._checks import Limits
from ecb_files_client._flow import arun, run
from ecb_files_client._progress import ProgressListener
from ecb_files_client._results import DamageNotificationResult, SubmitResult
from ecb_files_client._retry import RetryPolicy
from ecb_files_client._submission import (
    Endpoint,
    Files,
    NewDamageNotification,
    Plan,
    Submission,
    SubmissionFlows,
    Timestamp,
    Transfer,
)
from ecb_files_client._tokens import ClientCredentials, TokenCache

DEFAULT_TIMEOUT = httpx.Timeout(connect=15.0, read=300.0, write=120.0, pool=30.0)


class SubmitClient:
    """Submits files to cases and damage notifications, with a blocking HTTP client.

    ``base_url`` is the service's root (``https://files.example.com``). Tokens come from
    ``credentials`` (the issuer defaults to ``base_url``); ``security_token`` is the
    service partner's, used by every call that does not pass its own. Local checks use
    the limits the server reports (``limits`` overrides them); ``validate_locally=False``
    leaves every judgement to the server. Pass ``http`` to bring your own
    ``httpx.Client`` (proxies, TLS settings); it is then not closed here.

    ``transfer`` says how file bytes travel: ``"auto"`` sends them raw in
    ``multipart/form-data`` (§10.1) when the server's limits say ``"multipart": true``,
    else base64 in JSON (§3.1); ``"multipart"`` or ``"json"`` forces one. Each call may
    override it.
    """

    def __init__(
        self,
        base_url: str,
        credentials: ClientCredentials,
        *,
        security_token: str | None = None,
        retry: RetryPolicy | None = None,
        limits: Limits | None = None,
        validate_locally: bool = True,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        http: httpx.Client | None = None,
        token_cache: TokenCache | None = None,
        transfer: Transfer = "auto",
    ) -> None:
        self._core = SubmissionFlows(
            base_url,
            credentials,
            security_token=security_token,
            retry=retry,
            limits=limits,
            validate_locally=validate_locally,
            token_cache=token_cache,
            transfer=transfer,
        )
        self._owns_http = http is None
        self._http = http or httpx.Client(timeout=timeout)

    def submit_to_case(
        self,
        case_id: str,
        *,
        insurance_company_alias: str,
        user_email: str,
        files: Files,
        security_token: str | None = None,
        timestamp: Timestamp = None,
        idempotency_key: str | None = None,
        progress: ProgressListener | None = None,
        transfer: Transfer | None = None,
    ) -> SubmitResult:
        """Store ``files`` in the open case ``case_id`` (submitForCase).

        ``files`` holds :class:`Upload` objects, paths or binary file objects;
        ``transfer`` overrides the client's for this call. Raises a
        :class:`LocalValidationError` before sending anything the server would refuse,
        and the :class:`ApiError` subclass of the server's ``errorType`` otherwise.
        """
        return self._submit(
            Submission(
                Endpoint.CASE,
                case_id,
                insurance_company_alias,
                user_email,
                files,
                security_token,
                timestamp,
                idempotency_key,
                progress,
                transfer,
            )
        )

    def submit_to_damage_notification(
        self,
        damage_notification_id: str,
        *,
        insurance_company_alias: str,
        user_email: str,
        files: Files,
        security_token: str | None = None,
        timestamp: Timestamp = None,
        idempotency_key: str | None = None,
        progress: ProgressListener | None = None,
        transfer: Transfer | None = None,
    ) -> SubmitResult:
        """Store ``files`` in a damage notification not yet merged; see :meth:`submit_to_case`."""
        return self._submit(
            Submission(
                Endpoint.DAMAGE_NOTIFICATION,
                damage_notification_id,
                insurance_company_alias,
                user_email,
                files,
                security_token,
                timestamp,
                idempotency_key,
                progress,
                transfer,
            )
        )

    def create_damage_notification(
        self,
        damage_notification: Mapping[str, Any],
        *,
        insurance_company_alias: str,
        user_email: str,
        attachments: Files = (),
        security_token: str | None = None,
        idempotency_key: str | None = None,
        progress: ProgressListener | None = None,
    ) -> DamageNotificationResult:
        """Create a damage notification from a first notice of loss (§10.2).

        ``damage_notification`` is the tenant's FNoL payload (validated by its schema at
        the server, see :meth:`damage_notification_schema`); ``attachments`` are files
        as for :meth:`submit_to_case`, with ``description`` and ``is_damage_image``
        honoured. Returns the new damage notification's id and its stored files; a
        retry with the same ``idempotency_key`` returns the same damage notification.
        """
        return run(
            self._core.create_damage_notification(
                NewDamageNotification(
                    damage_notification,
                    insurance_company_alias,
                    user_email,
                    attachments,
                    security_token,
                    idempotency_key,
                    progress,
                )
            ),
            self._http,
        )

    def damage_notification_schema(self, insurance_company_alias: str) -> dict[str, Any]:
        """The JSON Schema a tenant's FNoL payloads must meet (raises
        :class:`InsuranceCompanyNotFound` for an unknown alias)."""
        return run(self._core.damage_notification_schema(insurance_company_alias), self._http)

    def limits(self) -> Limits:
        """The limits in force at the server (asked once, then remembered)."""
        return run(self._core.limits_flow(), self._http)

    def _submit(self, submission: Submission) -> SubmitResult:
        return run(self._core.submit(submission), self._http)

    def _plan(self, submission: Submission) -> Plan:
        return run(self._core.plan(submission), self._http)

    def _plan_damage_notification(self, request: NewDamageNotification) -> Plan:
        return run(self._core.plan_damage_notification(request), self._http)

    def _create_damage_notification(
        self, request: NewDamageNotification
    ) -> DamageNotificationResult:
        return run(self._core.create_damage_notification(request), self._http)

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> SubmitClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncSubmitClient:
    """The asyncio twin of :class:`SubmitClient`: the same arguments, awaitable calls.

    File reading, hashing and base64 run in worker threads, off the event loop.
    """

    def __init__(
        self,
        base_url: str,
        credentials: ClientCredentials,
        *,
        security_token: str | None = None,
        retry: RetryPolicy | None = None,
        limits: Limits | None = None,
        validate_locally: bool = True,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        http: httpx.AsyncClient | None = None,
        token_cache: TokenCache | None = None,
        transfer: Transfer = "auto",
    ) -> None:
        self._core = SubmissionFlows(
            base_url,
            credentials,
            security_token=security_token,
            retry=retry,
            limits=limits,
            validate_locally=validate_locally,
            token_cache=token_cache,
            transfer=transfer,
        )
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient(timeout=timeout)

    async def submit_to_case(
        self,
        case_id: str,
        *,
        insurance_company_alias: str,
        user_email: str,
        files: Files,
        security_token: str | None = None,
        timestamp: Timestamp = None,
        idempotency_key: str | None = None,
        progress: ProgressListener | None = None,
        transfer: Transfer | None = None,
    ) -> SubmitResult:
        """See :meth:`SubmitClient.submit_to_case`."""
        return await self._submit(
            Submission(
                Endpoint.CASE,
                case_id,
                insurance_company_alias,
                user_email,
                files,
                security_token,
                timestamp,
                idempotency_key,
                progress,
                transfer,
            )
        )

    async def submit_to_damage_notification(
        self,
        damage_notification_id: str,
        *,
        insurance_company_alias: str,
        user_email: str,
        files: Files,
        security_token: str | None = None,
        timestamp: Timestamp = None,
        idempotency_key: str | None = None,
        progress: ProgressListener | None = None,
        transfer: Transfer | None = None,
    ) -> SubmitResult:
        """See :meth:`SubmitClient.submit_to_damage_notification`."""
        return await self._submit(
            Submission(
                Endpoint.DAMAGE_NOTIFICATION,
                damage_notification_id,
                insurance_company_alias,
                user_email,
                files,
                security_token,
                timestamp,
                idempotency_key,
                progress,
                transfer,
            )
        )

    async def create_damage_notification(
        self,
        damage_notification: Mapping[str, Any],
        *,
        insurance_company_alias: str,
        user_email: str,
        attachments: Files = (),
        security_token: str | None = None,
        idempotency_key: str | None = None,
        progress: ProgressListener | None = None,
    ) -> DamageNotificationResult:
        """See :meth:`SubmitClient.create_damage_notification`."""
        return await arun(
            self._core.create_damage_notification(
                NewDamageNotification(
                    damage_notification,
                    insurance_company_alias,
                    user_email,
                    attachments,
                    security_token,
                    idempotency_key,
                    progress,
                )
            ),
            self._http,
        )

    async def damage_notification_schema(self, insurance_company_alias: str) -> dict[str, Any]:
        """See :meth:`SubmitClient.damage_notification_schema`."""
        return await arun(
            self._core.damage_notification_schema(insurance_company_alias), self._http
        )

    async def limits(self) -> Limits:
        return await arun(self._core.limits_flow(), self._http)

    async def _submit(self, submission: Submission) -> SubmitResult:
        return await arun(self._core.submit(submission), self._http)

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> AsyncSubmitClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
