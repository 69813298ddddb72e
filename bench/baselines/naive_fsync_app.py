"""The submit endpoint written plainly but durably: the fair naive baseline.

What a competent first version would be, with the same durability promise as ecb-files
(every blob fsync'd before the answer, the row committed with SQLite's fsync):

- FastAPI reads the whole body; a pydantic model of the whole submission holds every
  ``content`` string;
- ``base64.b64decode`` (stdlib) turns each into bytes, ``hashlib.sha256`` digests them;
- each file is written to its own new file and ``os.fsync``'d;
- then one row per file is inserted and committed through ONE shared ``sqlite3``
  connection per process (WAL journal, SQLite's default ``synchronous``, FULL here: the
  commit fsyncs the WAL), behind a ``threading.Lock``;
- the bearer check compares the header with one static token.

It checks no tenant, case or employee, keeps no idempotency record, never streams: a
request costs several times its size in memory. Run under uvicorn with uvloop and
httptools, as ecb-files is.

``NAIVE_ROUTE`` picks how the submit route runs: ``async`` (an ``async def`` route; the
whole request on the event loop, fsyncs included, one at a time) or ``sync`` (a ``def``
route; FastAPI runs it in its thread pool, so fsyncs of different requests overlap).
The default is the one that measured faster on the bench machine (bench/README.md).

Run: NAIVE_DATA_DIR=/tmp/nf python bench/baselines/naive_fsync_app.py --init
     NAIVE_DATA_DIR=/tmp/nf uvicorn naive_fsync_app:app --app-dir bench/baselines \
         --loop uvloop --http httptools --port 8091
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
import sqlite3
import sys
import threading
import uuid
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Header
from fastapi.responses import JSONResponse
from pydantic import BaseModel

DATA_DIR = Path(os.environ.get("NAIVE_DATA_DIR", "./naive-data"))
BLOB_DIR = DATA_DIR / "blobs"
DATABASE = DATA_DIR / "naive.sqlite3"
TOKEN = os.environ.get("NAIVE_TOKEN", "naive-fsync-static-token")
ROUTE = os.environ.get("NAIVE_ROUTE", "sync")
FILE_API = "/ecx/host/api/integration/v1/file"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    id TEXT PRIMARY KEY,
    submission_id TEXT NOT NULL,
    case_id TEXT NOT NULL,
    user_email TEXT NOT NULL,
    file_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    description TEXT,
    is_restricted INTEGER NOT NULL,
    is_damage_image INTEGER NOT NULL,
    created_at TEXT NOT NULL
)
"""
_INSERT = "INSERT INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"


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


def _connect() -> sqlite3.Connection:
    # One connection per process, shared by every thread (hence the lock); autocommit off,
    # so the INSERTs open a transaction and commit() ends it (one WAL fsync).
    connection = sqlite3.connect(DATABASE, timeout=60, check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    return connection


_db: sqlite3.Connection | None = None
_db_lock = threading.Lock()
_bearer = f"Bearer {TOKEN}"
app = FastAPI(title="naive baseline, durable")


def _database() -> sqlite3.Connection:
    global _db
    if _db is None:
        _db = _connect()
    return _db


def _error(status: int, description: str, error_type: str) -> JSONResponse:
    body = {"success": False, "errorDescription": description, "errorType": error_type}
    return JSONResponse(body, status_code=status)


def _write_durably(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)


def _store(body: SubmissionIn, authorization: str | None) -> Any:
    if authorization != _bearer:
        return _error(401, "missing or wrong bearer token", "Unauthorized")
    now = dt.datetime.now(dt.UTC).isoformat()
    submission_id = str(uuid.uuid4())
    case_id = str(body.payload.id)
    rows = []
    answered = []
    for file in body.payload.files:
        data = base64.b64decode(file.content, validate=True)
        digest = hashlib.sha256(data).hexdigest()
        file_id = str(uuid.uuid4())
        _write_durably(BLOB_DIR / file_id, data)
        rows.append(
            (
                file_id,
                submission_id,
                case_id,
                body.payload.userEmail,
                file.fileName,
                file.contentType,
                len(data),
                digest,
                file.description,
                file.isRestricted,
                file.isDamageImage,
                now,
            )
        )
        answered.append(
            {"id": file_id, "fileName": file.fileName, "size": len(data), "sha256": digest}
        )
    with _db_lock:
        database = _database()
        database.executemany(_INSERT, rows)
        database.commit()
    return {"success": True, "payload": {"files": answered}}


if ROUTE == "async":

    @app.post(f"{FILE_API}/submitForCase")
    async def submit_for_case(
        body: SubmissionIn, authorization: Annotated[str | None, Header()] = None
    ) -> Any:
        return _store(body, authorization)

elif ROUTE == "sync":

    @app.post(f"{FILE_API}/submitForCase")
    def submit_for_case_in_thread(
        body: SubmissionIn, authorization: Annotated[str | None, Header()] = None
    ) -> Any:
        return _store(body, authorization)

else:
    raise SystemExit(f"NAIVE_ROUTE must be async or sync, not {ROUTE!r}")


@app.get(f"{FILE_API}/limits")
async def limits() -> dict[str, int]:
    return {"maxFileBytes": 104857600}


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


def init() -> None:
    """Creates the blob directory and the table (WAL mode), once, before any worker."""
    BLOB_DIR.mkdir(parents=True, exist_ok=True)
    connection = _connect()
    try:
        connection.execute(_SCHEMA)
        connection.commit()
        synchronous = connection.execute("PRAGMA synchronous").fetchone()[0]
        print(f"journal_mode=wal synchronous={synchronous} (2 = FULL)")
    finally:
        connection.close()


if __name__ == "__main__" and sys.argv[1:] == ["--init"]:
    init()
