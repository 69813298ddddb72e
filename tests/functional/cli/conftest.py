"""Run ``ecb-files`` as a real subprocess on a fresh data dir; put stored files in place."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from tests.db_support import World, add_file
from tests.functional.stack import STACK

from ecb_files.config import Settings
from ecb_files.db import Database, models
from ecb_files.storage import open_store

ROOT = Path(__file__).parents[3]
DEMO_FIXTURE = ROOT / "examples" / "demo-fixtures.json"
DEMO = json.loads(DEMO_FIXTURE.read_text(encoding="utf-8"))
DEMO_PARTNER = uuid.UUID(DEMO["servicePartners"][0]["id"])
OPEN_CASE = DEMO["cases"][0]["id"]
CLOSED_CASE = DEMO["cases"][1]["id"]
OPEN_DN = DEMO["damageNotifications"][0]["id"]
MERGED_DN = DEMO["damageNotifications"][1]["id"]
EMPLOYEE_EMAIL = DEMO["servicePartners"][0]["employees"][0]["email"]


@dataclass
class Cli:
    """``ecb-files`` with ``ECB_FILES_DATA_DIR`` pointing at a temporary directory."""

    data_dir: Path
    env: dict[str, str]

    def __call__(
        self, *args: str, env: dict[str, str] | None = None, input_text: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "ecb_files.cli.main", *args],
            env={**self.env, **(env or {})},
            input=input_text,
            capture_output=True,
            text=True,
            timeout=120,
            cwd=self.data_dir.parent,
        )

    def ok(self, *args: str) -> subprocess.CompletedProcess[str]:
        result = self(*args)
        assert result.returncode == 0, result.stderr
        return result

    def add_file(
        self, *, case_id: str | None = None, dn_id: str | None = None, **extra: Any
    ) -> models.StoredFile:
        """A stored file of the demo employee, as a submission would leave it."""
        settings = Settings.from_env(self.env)
        database = Database.open(settings.database_url, migrate=False)
        try:
            with database.read() as session:
                employee = session.scalars(select(models.Employee)).one()
                client = session.scalars(
                    select(models.OAuthClient).where(models.OAuthClient.partner_id.is_not(None))
                ).one()
            world = World(0, 0, employee.id, client.id, partner_id=DEMO_PARTNER)
            return add_file(
                database,
                open_store(settings.storage_url, s3_endpoint_url=settings.s3_endpoint_url),
                world,
                case_id=uuid.UUID(case_id) if case_id else None,
                dn_id=uuid.UUID(dn_id) if dn_id else None,
                **extra,
            )
        finally:
            database.close()


def assert_clean_failure(
    result: subprocess.CompletedProcess[str], code: int, *needles: str
) -> None:
    """Exit ``code``, the message on stderr naming what was wrong, no stack trace."""
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in result.stderr


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECB_FILES_")}
    data_dir = tmp_path / "data"
    env["ECB_FILES_DATA_DIR"] = str(data_dir)
    # The stores of this test run's stack: SQLite + disk, or PostgreSQL + S3.
    env.update(STACK.deployment(data_dir).env)
    return Cli(data_dir, env)


@pytest.fixture
def demo_cli(cli: Cli) -> Cli:
    """The CLI on a data dir holding the demo fixture."""
    cli.ok("load", str(DEMO_FIXTURE))
    return cli
