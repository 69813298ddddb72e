"""open_store(url): ECB_FILES_STORAGE_URL (CONTRACT §8)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecb_files.config import Settings
from ecb_files.storage import LocalBlobStore, StorageUnavailable, open_store


def test_a_file_url_opens_a_local_store_and_creates_it(tmp_path: Path) -> None:
    """§8: file:///abs/path → a local store there, created if missing."""
    root = tmp_path / "data" / "blobs"
    store = open_store(root.as_uri())
    assert isinstance(store, LocalBlobStore)
    assert store.root == root
    assert (root / "tmp").is_dir()
    store.check()


def test_the_default_setting_opens(tmp_path: Path) -> None:
    """§8: the embedded default (file://<data dir>/blobs) works with nothing set."""
    settings = Settings.from_env({"ECB_FILES_DATA_DIR": str(tmp_path / "data")})
    store = open_store(settings.storage_url)
    assert isinstance(store, LocalBlobStore)
    assert store.root == (tmp_path / "data" / "blobs").resolve()


def test_a_percent_encoded_file_url_is_decoded(tmp_path: Path) -> None:
    """§8: Path.as_uri() encodes spaces and non-ASCII; the store uses the real path."""
    root = tmp_path / "blob store æøå"
    store = open_store(root.as_uri())
    assert isinstance(store, LocalBlobStore)
    assert store.root == root


def test_localhost_is_this_host(tmp_path: Path) -> None:
    """RFC 8089: file://localhost/path is the same as file:///path."""
    store = open_store(f"file://localhost{tmp_path / 'blobs'}")
    assert isinstance(store, LocalBlobStore)


def test_an_s3_url_is_refused_clearly_for_now() -> None:
    """§8: s3:// is planned for production; this build says so plainly."""
    with pytest.raises(ValueError, match="S3 storage is not available in this build"):
        open_store("s3://bucket/prefix")


@pytest.mark.parametrize("scheme", ["http", "ftp", "gs", "c"])
def test_another_scheme_is_refused_by_name(scheme: str) -> None:
    """§8: a URL the service cannot use is a configuration error naming its scheme."""
    with pytest.raises(ValueError, match=f"'{scheme}'"):
        open_store(f"{scheme}://somewhere/blobs")


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("/var/lib/blobs", "scheme"),
        ("file:relative/blobs", "absolute"),
        ("file://fileserver/share/blobs", "fileserver"),
        ("file:///var/blobs?x=1", "query"),
        ("file:///", "root"),
    ],
)
def test_unusable_file_urls_are_refused(url: str, reason: str) -> None:
    """§8: every refusal says what is wrong with ECB_FILES_STORAGE_URL."""
    with pytest.raises(ValueError, match=reason) as caught:
        open_store(url)
    assert "ECB_FILES_STORAGE_URL" in str(caught.value)


def test_a_directory_that_cannot_be_created_is_unavailable(tmp_path: Path) -> None:
    """§8: storage that cannot be set up is reported as unavailable, not a crash."""
    blocker = tmp_path / "file"
    blocker.write_text("in the way")
    with pytest.raises(StorageUnavailable):
        open_store((blocker / "blobs").as_uri())
