"""A first notice of loss (FNoL) that creates a damage notification (§10.2).

``POST …/damageNotification`` takes ``multipart/form-data``: one part of type
``application/vnd.casecreation+json`` (here always the first, named ``fnol``) holding::

    {"securityToken": …, "insuranceCompanyAlias": …, "userEmail": …,
     "damageNotification": {… the tenant's FNoL payload, as given …},
     "attachments": [{"part": "attachment-0", "description": …, "isDamageImage": true}]}

then one part per attachment (``attachment-0``, ``attachment-1``, …) with its raw bytes,
its file name in ``filename`` (``filename*`` for non-ASCII names) and its type in
``Content-Type``. The answer is 201 with the new damage notification's id and files;
an ``Idempotency-Key`` retry gets the same damage notification back.

The payload is judged by the tenant's FNoL schema at the server only (no schema library
here); :func:`schema_flow` fetches the schema in force, for a look before sending.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ecb_files_client import _checks as checks
from ecb_files_client._checks import Limits
from ecb_files_client._exceptions import GenericError, TransportError, api_error
from ecb_files_client._flow import Flow, HttpCall, HttpReply
from ecb_files_client._multipart import MultipartBody, json_bytes
from ecb_files_client._results import DamageNotificationResult, stored_files
from ecb_files_client._sending import Answer, PreparedRequest
from ecb_files_client._uploads import PreparedFile
from ecb_files_client._version import USER_AGENT

FNOL_PATH = "/ecx/host/api/integration/v1/damageNotification"
FNOL_CONTENT_TYPE = "application/vnd.casecreation+json"


@dataclass(frozen=True)
class FnolEnvelope:
    """What goes beside the attachments' descriptions in the FNoL part."""

    security_token: str
    alias: str
    user_email: str
    damage_notification: Mapping[str, Any]


class FnolBody(MultipartBody):
    """The FNoL part, then the attachments."""

    lead_name = "fnol"
    lead_content_type = FNOL_CONTENT_TYPE

    def __init__(
        self,
        envelope: FnolEnvelope,
        attachments: Sequence[PreparedFile],
        max_file_bytes: int | None,
        *,
        boundary: str | None = None,
    ) -> None:
        for file in attachments:
            if file.is_restricted:
                raise ValueError(
                    f"attachments[{file.index}]: is_restricted is honoured by submitForCase "
                    "only; a damage notification's files all become public when it is merged"
                )
        names = [f"attachment-{file.index}" for file in attachments]
        super().__init__(attachments, max_file_bytes, part_names=names, boundary=boundary)
        self.envelope = envelope
        # Rendered once: a payload that is not JSON fails here, before anything is sent,
        # and every attempt sends the same bytes.
        self._lead = json_bytes(self._document(envelope))

    def lead(self, digests: Sequence[str | None]) -> bytes:
        return self._lead

    def part_label(self, file: PreparedFile) -> str:
        # Parts are numbered from 0 in body order, the FNoL part first.
        return f"part {file.index + 1} ({self.part_names[file.index]!r})"

    def content_label(self, file: PreparedFile) -> str:
        return f"{self.part_label(file)} ({file.file_name!r})"

    def _document(self, envelope: FnolEnvelope) -> dict[str, Any]:
        if not isinstance(envelope.damage_notification, Mapping):
            raise TypeError("damage_notification must be a mapping (a JSON object)")
        document: dict[str, Any] = {
            "securityToken": envelope.security_token,
            "insuranceCompanyAlias": envelope.alias,
            "userEmail": envelope.user_email,
            "damageNotification": dict(envelope.damage_notification),
        }
        attachments = []
        for name, file in zip(self.part_names, self.files, strict=True):
            entry: dict[str, Any] = {"part": name}
            if file.description is not None:
                entry["description"] = file.description
            if file.is_damage_image:
                entry["isDamageImage"] = True
            attachments.append(entry)
        if attachments:
            document["attachments"] = attachments
        try:
            json_bytes(document)
        except (TypeError, ValueError) as error:
            raise ValueError(f"damage_notification cannot be sent as JSON: {error}") from None
        return document


def check(body: FnolBody, limits: Limits) -> None:
    """What the server would refuse in a new damage notification, in its order (§10.2)."""
    envelope = body.envelope
    parts = [body.part_label(file) for file in body.files]
    facts = [file.facts for file in body.files]
    # The FNoL part comes first in the body, so the server meets its faults first.
    checks.check_fnol_part(len(body.lead(())), f"part 0 ({body.lead_name!r})", limits)
    checks.check_envelope(
        security_token=envelope.security_token, alias=envelope.alias, user_email=envelope.user_email
    )
    checks.check_attachments(facts, parts, limits)
    checks.check_file_types(facts, parts)


def parse_created(answer: Answer, request: PreparedRequest) -> DamageNotificationResult:
    """The 201 body as a :class:`DamageNotificationResult`; anything else a GenericError."""
    document = answer.reply.json()
    payload = document.get("payload") if isinstance(document, dict) else None
    new_id = payload.get("id") if isinstance(payload, dict) else None
    if not isinstance(new_id, str):
        raise GenericError(
            f"unexpected answer to a new damage notification: {str(document)[:200]}",
            status=answer.reply.status,
            request_id=answer.request_id,
        )
    files = stored_files(
        document,
        request.body.digests,
        request_id=answer.request_id,
        status=answer.reply.status,
    )
    return DamageNotificationResult(
        id=new_id,
        location=answer.reply.headers.get("location"),
        files=files,
        attempts=answer.attempts,
        idempotency_key=request.idempotency_key,
        request_id=answer.request_id,
        replayed=answer.replayed,
    )


def schema_flow(base_url: str, alias: str) -> Flow[dict[str, Any]]:
    """``GET …/damageNotification/schema``: the tenant's FNoL schema in force."""
    query = urllib.parse.urlencode({"insuranceCompanyAlias": alias})
    url = f"{base_url}{FNOL_PATH}/schema?{query}"
    reply = yield HttpCall("GET", url, {"Accept": "application/json", "User-Agent": USER_AGENT})
    if not isinstance(reply, HttpReply):
        raise reply or TransportError(f"no answer from GET {url}")
    request_id = reply.headers.get("x-request-id")
    if reply.status != 200:
        raise api_error(reply.status, reply.content, request_id=request_id)
    schema = reply.json()
    if isinstance(schema, dict) and schema.get("success") is True:
        schema = schema.get("payload")  # the API's envelope, if the server wraps it
    if not isinstance(schema, dict):
        raise GenericError(
            f"unexpected answer (not a JSON schema): {reply.content[:200]!r}",
            status=reply.status,
            request_id=request_id,
        )
    return schema
