"""The submit endpoint written the straightforward way: the benchmark's naive baseline.

FastAPI reads the whole body, pydantic validates it into a model holding every
``content`` string, ``base64.b64decode`` turns each into bytes, each file is written with
a plain write (no fsync), and the rows go into SQLite through SQLAlchemy in one commit.
The bearer check only asks that a Bearer header be present; there is no OAuth. Nothing
streams: a request costs several times its size in memory. It is here only to give the
product's figures a reference point; it is not part of the product.

Run: NAIVE_DATA_DIR=/tmp/naive python bench/baselines/naive_app.py --init
     NAIVE_DATA_DIR=/tmp/naive uvicorn naive_app:app --app-dir bench/baselines --port 8090
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
import sys
import uuid
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Header
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import ForeignKey, String, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

DATA_DIR = Path(os.environ.get("NAIVE_DATA_DIR", "./naive-data"))
BLOB_DIR = DATA_DIR / "blobs"
FILE_API = "/ecx/host/api/integration/v1/file"

# The bench fixture's case and partner (bench/servers.py).
SEED_CASE_ID = "5d3c2b1a-0000-4000-8000-00000000be01"
SEED_SECURITY_TOKEN = "9e8d7c6b-0000-4000-8000-00000000be01"


class Base(DeclarativeBase):
    pass


class Case(Base):
    __tablename__ = "cases"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    security_token: Mapped[str] = mapped_column(String(36))
    status: Mapped[str] = mapped_column(String(10))


class Submission(Base):
    __tablename__ = "submissions"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"))
    user_email: Mapped[str] = mapped_column(String(320))
    timestamp: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[dt.datetime]


class StoredFile(Base):
    __tablename__ = "files"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"))
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"))
    file_name: Mapped[str] = mapped_column(String(500))
    content_type: Mapped[str] = mapped_column(String(255))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    description: Mapped[str | None] = mapped_column(String(4000))
    is_restricted: Mapped[bool]
    is_damage_image: Mapped[bool]
    created_at: Mapped[dt.datetime]


class FileIn(BaseModel):
    fileName: str
    contentType: str
    content: str
    description: str | None = None
    isRestricted: bool = False
    isDamageImage: bool = False
    sha256: str | None = None


class PayloadIn(BaseModel):
    id: uuid.UUID
    insuranceCompanyAlias: str
    userEmail: str
    files: list[FileIn]


class SubmissionIn(BaseModel):
    securityToken: uuid.UUID
    timestamp: str | None = None
    payload: PayloadIn


# A generous busy timeout: concurrent writers wait for SQLite's lock instead of failing.
engine = create_engine(f"sqlite:///{DATA_DIR / 'naive.sqlite3'}", connect_args={"timeout": 60})
app = FastAPI(title="naive baseline")


def _error(status: int, description: str, error_type: str) -> JSONResponse:
    body = {"success": False, "errorDescription": description, "errorType": error_type}
    return JSONResponse(body, status_code=status)


def _store(body: SubmissionIn, authorization: str | None) -> Any:
    if not authorization or not authorization.lower().startswith("bearer "):
        return _error(401, "missing bearer token", "Unauthorized")
    now = dt.datetime.now(dt.UTC)
    with Session(engine) as session:
        case = session.get(Case, str(body.payload.id))
        if case is None or case.status != "open":
            return _error(404, "case not found", "ClaimNotFound")
        if case.security_token != str(body.securityToken):
            return _error(401, "wrong securityToken", "InvalidSecurityToken")
        submission = Submission(
            id=str(uuid.uuid4()),
            case_id=case.id,
            user_email=body.payload.userEmail,
            timestamp=body.timestamp,
            created_at=now,
        )
        session.add(submission)
        answered = []
        for file in body.payload.files:
            data = base64.b64decode(file.content, validate=True)
            file_id = str(uuid.uuid4())
            (BLOB_DIR / file_id).write_bytes(data)
            digest = hashlib.sha256(data).hexdigest()
            session.add(
                StoredFile(
                    id=file_id,
                    submission_id=submission.id,
                    case_id=case.id,
                    file_name=file.fileName,
                    content_type=file.contentType,
                    size=len(data),
                    sha256=digest,
                    description=file.description,
                    is_restricted=file.isRestricted,
                    is_damage_image=file.isDamageImage,
                    created_at=now,
                )
            )
            answered.append(
                {"id": file_id, "fileName": file.fileName, "size": len(data), "sha256": digest}
            )
        session.commit()
    return {"success": True, "payload": {"files": answered}}


@app.post(f"{FILE_API}/submitForCase")
def submit_for_case(
    body: SubmissionIn, authorization: Annotated[str | None, Header()] = None
) -> Any:
    return _store(body, authorization)


@app.post(f"{FILE_API}/submitForDamageNotification")
def submit_for_damage_notification(
    body: SubmissionIn, authorization: Annotated[str | None, Header()] = None
) -> Any:
    return _store(body, authorization)


@app.get(f"{FILE_API}/limits")
def limits() -> dict[str, int]:
    return {"maxFileBytes": 104857600}


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


def init() -> None:
    """Creates the tables and the bench case, once, before any worker starts."""
    BLOB_DIR.mkdir(parents=True, exist_ok=True)
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        if session.get(Case, SEED_CASE_ID) is None:
            session.add(Case(id=SEED_CASE_ID, security_token=SEED_SECURITY_TOKEN, status="open"))
            session.commit()


if __name__ == "__main__" and sys.argv[1:] == ["--init"]:
    init()
