"""``ecb-files gc [--min-age SECONDS]`` (§3.4, §5)."""

from __future__ import annotations

import os
import time

import pytest
from tests.functional.cli.conftest import OPEN_CASE, Cli, assert_clean_failure
from tests.functional.stack import STACK

from ecb_files.storage import LocalBlobStore

# Ageing a blob means setting a file's mtime; the S3 backend's ages are covered by its
# own tests (tests/unit/storage) with an injected clock.
local_disk_only = pytest.mark.skipif(
    STACK.name != "embedded", reason="ages blobs through local file mtimes"
)


def _orphan(cli: Cli, *, age_seconds: float) -> str:
    store = LocalBlobStore(cli.data_dir / "blobs")
    staged = store.stage()
    staged.write(b"left behind by a crash")
    staged.seal()
    staged.publish()
    then = time.time() - age_seconds
    os.utime(store.blob_path(staged.blob_id), (then, then))
    return staged.blob_id


def _exists(cli: Cli, blob_id: str) -> bool:
    return LocalBlobStore(cli.data_dir / "blobs").blob_path(blob_id).exists()


@local_disk_only
def test_gc_removes_old_orphans_and_keeps_files(demo_cli: Cli) -> None:
    kept = demo_cli.add_file(case_id=OPEN_CASE).blob_id
    old = _orphan(demo_cli, age_seconds=7200)
    young = _orphan(demo_cli, age_seconds=60)
    result = demo_cli.ok("gc")
    assert result.stdout.startswith("removed 1 orphaned blob(s)")
    assert (_exists(demo_cli, old), _exists(demo_cli, young), _exists(demo_cli, kept)) == (
        False,
        True,
        True,
    )


@local_disk_only
def test_min_age_zero_removes_every_orphan(demo_cli: Cli) -> None:
    young = _orphan(demo_cli, age_seconds=5)
    demo_cli.ok("gc", "--min-age", "0")
    assert not _exists(demo_cli, young)


def test_gc_on_a_fresh_data_dir(cli: Cli) -> None:
    assert cli.ok("gc").stdout.startswith("removed 0 orphaned blob(s)")


def test_negative_min_age_is_a_usage_error(cli: Cli) -> None:
    assert_clean_failure(cli("gc", "--min-age", "-1"), 2, "--min-age")
