"""A file record as the page shows it: its facts, and whether it has a thumbnail and a
preview."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from ecb_files.services.read_models import FileView
from ecb_files.services.thumbnails import has_thumbnail


@dataclass(frozen=True)
class FileCard:
    id: uuid.UUID
    name: str
    extension: str
    content_type: str
    size: int
    description: str | None
    is_restricted: bool
    is_damage_image: bool
    partner_name: str
    uploaded_by: str
    created_at: datetime

    @property
    def is_image(self) -> bool:
        return has_thumbnail(self.name)

    @property
    def is_pdf(self) -> bool:
        return self.extension == "pdf"

    @property
    def previewable(self) -> bool:
        return self.is_image or self.is_pdf


def file_card(file: FileView) -> FileCard:
    _, dot, extension = file.file_name.rpartition(".")
    return FileCard(
        id=file.id,
        name=file.file_name,
        extension=extension.lower() if dot else "",
        content_type=file.content_type,
        size=file.size,
        description=file.description,
        is_restricted=file.is_restricted,
        is_damage_image=file.is_damage_image,
        partner_name=file.uploaded_by_partner.name,
        uploaded_by=file.uploaded_by,
        created_at=file.created_at,
    )


def file_cards(files: Iterable[FileView]) -> list[FileCard]:
    return [file_card(file) for file in files]
