"""Listing a case with many files page by page (§11.2 keyset pages), on SQLite.

Builds a fresh database in a temporary directory with one case holding N files (default
10,000; a tenth of them restricted and uploaded by another partner), then walks the
case's files through the read side's use case (``Reader.case_files``, visibility rules
included) from the first page to the last, for an insurer and for a partner, and
reports milliseconds per page (p50, p99, max). The figures are recorded in
bench/README.md ("Listing").

    .venv/bin/python bench/listing.py [--files 10000] [--limit 100 --limit 500]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from ecb_files.db import Database, models
from ecb_files.services.pagination import PageRequest
from ecb_files.services.reading import Reader
from ecb_files.services.visibility import Viewer

CASE = uuid.UUID(int=0xC1)
PARTNER = uuid.UUID(int=0xA1)
OTHER_PARTNER = uuid.UUID(int=0xB1)


def seed(database: Database, files: int) -> int:
    """One tenant, two partners on one case, ``files`` files; returns the tenant's id."""
    with database.write() as unit:
        company = models.InsuranceCompany(alias="company", name="Company")
        partners = [
            models.ServicePartner(
                id=p, name=str(p), security_token=uuid.uuid4(), companies=[company]
            )
            for p in (PARTNER, OTHER_PARTNER)
        ]
        unit.add_all([company, *partners])
        unit.flush()
        unit.add(
            models.Case(
                id=CASE, company_id=company.id, number="CN-1", status="open", partners=partners
            )
        )
        staff = []
        for partner in partners:
            employee = models.Employee(
                partner_id=partner.id, email=f"{partner.id}@x.example", active=True
            )
            client = models.OAuthClient(client_id=str(partner.id), partner_id=partner.id, scopes="")
            unit.add_all([employee, client])
            unit.flush()
            submission = models.Submission(
                id=uuid.uuid4(),
                endpoint="submitForCase",
                client_pk=client.id,
                partner_id=partner.id,
                employee_id=employee.id,
                case_id=CASE,
                created_at=datetime.now(UTC),
            )
            unit.add(submission)
            unit.flush()
            staff.append((employee.id, client.id, submission.id))
        start = datetime(2026, 1, 1, tzinfo=UTC)
        rows = []
        for index in range(files):
            other = index % 10 == 0
            employee_id, client_pk, submission_id = staff[1 if other else 0]
            rows.append(
                {
                    "id": uuid.uuid4(),
                    "case_id": CASE,
                    "dn_id": None,
                    "submission_id": submission_id,
                    "employee_id": employee_id,
                    "client_pk": client_pk,
                    "file_name": f"photo-{index}.jpg",
                    "content_type": "image/jpeg",
                    "size": 1000,
                    "sha256": "0" * 64,
                    "description": None,
                    "is_restricted": other,
                    "is_damage_image": False,
                    "blob_id": uuid.uuid4().hex,
                    # Several files per second, as a busy upload leaves them.
                    "created_at": start + timedelta(milliseconds=250 * index),
                }
            )
        for offset in range(0, len(rows), 1000):
            unit.execute(insert(models.StoredFile), rows[offset : offset + 1000])
        return company.id


def walk(reader: Reader, viewer: Viewer, limit: int) -> tuple[list[float], int]:
    """Milliseconds per page from the first page to the last, and the files seen."""
    timings: list[float] = []
    seen = 0
    cursor: str | None = None
    while True:
        began = time.perf_counter()
        page = reader.case_files(viewer, CASE, PageRequest.parse(limit, cursor))
        timings.append((time.perf_counter() - began) * 1000)
        seen += len(page.items)
        cursor = page.next_cursor
        if cursor is None:
            return timings, seen


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--limit", type=int, action="append")
    args = parser.parse_args(argv)
    limits = args.limit or [100, 500]
    with tempfile.TemporaryDirectory() as tmp:
        database = Database.open(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")
        try:
            tenant = seed(database, args.files)
            reader = Reader(database)
            viewers = {
                "insurer": Viewer.insurer(tenant, "bench", can_write=False),
                "partner": Viewer.partner(PARTNER, "bench"),
            }
            print(f"{args.files} files in one case, SQLite, Reader.case_files, ms per page")
            columns = ("p50", "p99", "max", "first", "last")
            print(
                f"{'viewer':8} {'limit':>5} {'pages':>5} {'files':>6}",
                *(f"{c:>7}" for c in columns),
            )
            for name, viewer in viewers.items():
                for limit in limits:
                    walk(reader, viewer, limit)  # warm the page cache and the statements
                    timings, seen = walk(reader, viewer, limit)
                    figures = (
                        statistics.median(timings),
                        percentile(timings, 0.99),
                        max(timings),
                        timings[0],
                        timings[-1],
                    )
                    print(
                        f"{name:8} {limit:>5} {len(timings):>5} {seen:>6}",
                        *(f"{value:>7.2f}" for value in figures),
                    )
        finally:
            database.close()


if __name__ == "__main__":
    main(sys.argv[1:])
