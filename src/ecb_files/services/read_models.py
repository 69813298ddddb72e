"""What the read side answers (§11.2): cases, damage notifications and file records as
a viewer sees them, each with its JSON form."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ecb_files.db import reading as rows
from ecb_files.services.files import iso_utc


@dataclass(frozen=True)
class CaseView:
    id: uuid.UUID
    number: str
    status: str
    insurance_company_alias: str
    created_at: datetime
    file_count: int | None  # the files this viewer sees; None in lists (not counted there)

    @classmethod
    def of(cls, row: rows.CaseRow, file_count: int | None = None) -> CaseView:
        return cls(row.id, row.number, row.status, row.company_alias, row.created_at, file_count)

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": str(self.id),
            "number": self.number,
            "status": self.status,
            "insuranceCompanyAlias": self.insurance_company_alias,
            "createdAt": iso_utc(self.created_at),
        }
        if self.file_count is not None:
            body["fileCount"] = self.file_count
        return body


@dataclass(frozen=True)
class PartnerRef:
    id: uuid.UUID
    name: str

    def as_json(self) -> dict[str, Any]:
        return {"id": str(self.id), "name": self.name}


@dataclass(frozen=True)
class DamageNotificationView:
    id: uuid.UUID
    insurance_company_alias: str
    merged_to_case_id: uuid.UUID | None
    created_at: datetime
    service_partner: PartnerRef
    fnol: Any  # the ``damageNotification`` object as sent, or None

    @property
    def status(self) -> str:
        return "open" if self.merged_to_case_id is None else "merged"

    @classmethod
    def of(cls, row: rows.DamageNotificationRow) -> DamageNotificationView:
        return cls(
            id=row.id,
            insurance_company_alias=row.company_alias,
            merged_to_case_id=row.merged_to_case_id,
            created_at=row.created_at,
            service_partner=PartnerRef(row.partner_id, row.partner_name),
            fnol=None if row.fnol is None else json.loads(row.fnol),
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "status": self.status,
            "mergedToCaseId": None
            if self.merged_to_case_id is None
            else str(self.merged_to_case_id),
            "createdAt": iso_utc(self.created_at),
            "insuranceCompanyAlias": self.insurance_company_alias,
            "servicePartner": self.service_partner.as_json(),
            "fnol": self.fnol,
        }


@dataclass(frozen=True)
class FileView:
    """A file record; ``blob_id`` is for the content layer and never shown."""

    id: uuid.UUID
    case_id: uuid.UUID | None
    damage_notification_id: uuid.UUID | None
    file_name: str
    content_type: str
    size: int
    sha256: str
    description: str | None
    is_restricted: bool
    is_damage_image: bool
    uploaded_by: str
    uploaded_by_partner: PartnerRef
    created_at: datetime
    blob_id: str

    @classmethod
    def of(cls, row: rows.FileRow) -> FileView:
        return cls(
            id=row.id,
            case_id=row.case_id,
            damage_notification_id=row.dn_id,
            file_name=row.file_name,
            content_type=row.content_type,
            size=row.size,
            sha256=row.sha256,
            description=row.description,
            is_restricted=row.is_restricted,
            is_damage_image=row.is_damage_image,
            uploaded_by=row.uploaded_by,
            uploaded_by_partner=PartnerRef(row.partner_id, row.partner_name),
            created_at=row.created_at,
            blob_id=row.blob_id,
        )

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": str(self.id),
            "fileName": self.file_name,
            "contentType": self.content_type,
            "size": self.size,
            "sha256": self.sha256,
            "description": self.description,
            "isRestricted": self.is_restricted,
            "isDamageImage": self.is_damage_image,
            "uploadedBy": self.uploaded_by,
            "uploadedByPartner": self.uploaded_by_partner.as_json(),
            "createdAt": iso_utc(self.created_at),
        }
        # A file has one parent (§1): the case, or the DN not yet merged.
        if self.case_id is not None:
            body["caseId"] = str(self.case_id)
        else:
            body["damageNotificationId"] = str(self.damage_notification_id)
        return body
