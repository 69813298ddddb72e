"""The shared stores a deployment under test runs on, chosen for the whole test run.

``ECB_FILES_TEST_STACK`` picks them:

- ``embedded`` (default): SQLite and local disk in the server's data dir — the defaults;
- ``production``: a fresh PostgreSQL database per deployment (on the server named by
  ``ECB_FILES_TEST_POSTGRES_URL``, default the local one) and a fresh bucket per
  deployment on a real S3 API over HTTP (moto's standalone server, started here).

Every functional test runs unchanged on either, so the suite proves that PostgreSQL and
S3 are a configuration change.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import uuid
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from tests.db_support import fresh_postgres_database

STACK_ENV = "ECB_FILES_TEST_STACK"
POSTGRES_ENV = "ECB_FILES_TEST_POSTGRES_URL"
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
S3_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "ecb-files-test",
    "AWS_SECRET_ACCESS_KEY": "ecb-files-test-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def stack_name() -> str:
    name = os.environ.get(STACK_ENV, "embedded")
    if name not in ("embedded", "production"):
        raise ValueError(f"{STACK_ENV} must be 'embedded' or 'production', not {name!r}")
    return name


class S3Server:
    """moto's standalone S3 server in a subprocess: a real S3 REST API on loopback."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, **S3_CREDENTIALS},
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.TransportError):
                httpx.get(self.url, timeout=1)
                return
            time.sleep(0.1)
        raise AssertionError("the S3 test server did not start in 30 s")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def client(self):  # type: ignore[no-untyped-def]
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.url,
            region_name="us-east-1",
            **{
                "aws_access_key_id": S3_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                "aws_secret_access_key": S3_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            },
        )


@dataclass
class Deployment:
    """The stores of one deployment: what its server processes share."""

    data_dir: Path
    env: dict[str, str] = field(default_factory=dict)
    s3: S3Server | None = None
    bucket: str = ""
    _cleanup: ExitStack = field(default_factory=ExitStack)

    @property
    def database_url(self) -> str:
        return self.env.get(
            "ECB_FILES_DATABASE_URL", f"sqlite:///{self.data_dir / 'ecb-files.sqlite3'}"
        )

    def stored_blobs(self) -> list[str]:
        """Everything in the storage area: blobs, temp files, incomplete uploads."""
        if self.s3 is None:
            root = self.data_dir / "blobs"
            files = root.rglob("*") if root.exists() else []
            return sorted(str(p.relative_to(root)) for p in files if p.is_file())
        client = self.s3.client()
        objects = client.list_objects_v2(Bucket=self.bucket).get("Contents", [])
        uploads = client.list_multipart_uploads(Bucket=self.bucket).get("Uploads", [])
        return sorted([o["Key"] for o in objects] + [f"upload:{u['Key']}" for u in uploads])

    def signing_key(self) -> tuple[str, str]:
        """The current token-signing key, read from the database (to forge test tokens)."""
        engine = create_engine(self.database_url.replace("postgresql://", "postgresql+psycopg://"))
        try:
            with engine.connect() as connection:
                row = connection.execute(
                    text(
                        "SELECT kid, private_pem FROM signing_keys ORDER BY created_at DESC LIMIT 1"
                    )
                ).one()
        finally:
            engine.dispose()
        return str(row[0]), str(row[1])

    def close(self) -> None:
        self._cleanup.close()


class Stack:
    """Makes deployments on the stores of this test run; closes them all at the end."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.s3: S3Server | None = None
        self._deployments: list[Deployment] = []

    def deployment(self, data_dir: Path) -> Deployment:
        deployment = Deployment(data_dir)
        self._deployments.append(deployment)
        if self.name == "production":
            server_url = os.environ.get(POSTGRES_ENV, DEFAULT_POSTGRES)
            url = deployment._cleanup.enter_context(fresh_postgres_database(server_url))
            deployment.env["ECB_FILES_DATABASE_URL"] = url
            s3 = self._s3()
            deployment.s3 = s3
            deployment.bucket = f"ecb-{uuid.uuid4().hex[:16]}"
            s3.client().create_bucket(Bucket=deployment.bucket)
            deployment.env.update(S3_CREDENTIALS)
            # The tests' own process reads and checks the bucket too.
            os.environ.update(S3_CREDENTIALS)
            deployment.env["ECB_FILES_STORAGE_URL"] = f"s3://{deployment.bucket}/files"
            deployment.env["ECB_FILES_S3_ENDPOINT_URL"] = s3.url
        return deployment

    def _s3(self) -> S3Server:
        if self.s3 is None:
            from tests.functional.server import free_port

            self.s3 = S3Server(free_port())
            self.s3.start()
        return self.s3

    def close(self) -> None:
        for deployment in self._deployments:
            deployment.close()
        self._deployments.clear()
        if self.s3 is not None:
            self.s3.stop()


STACK = Stack(stack_name())
