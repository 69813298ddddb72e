"""open_store(url): ECB_FILES_STORAGE_URL and ECB_FILES_S3_ENDPOINT_URL (§8)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.s3_support import ACCESS_KEY, SECRET_KEY, S3Sandbox

from ecb_files.config import Settings
from ecb_files.storage import LocalBlobStore, StorageUnavailable, open_store
from ecb_files.storage.s3 import S3BlobStore


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


@pytest.mark.parametrize(
    ("url", "bucket", "prefix"),
    [
        ("s3://ecb-files", "ecb-files", ""),
        ("s3://ecb-files/", "ecb-files", ""),
        ("s3://ecb-files/prod/blobs", "ecb-files", "prod/blobs"),
        ("s3://ecb-files/prod/blobs/", "ecb-files", "prod/blobs"),
        ("s3://my.bucket-1/a%20b", "my.bucket-1", "a b"),
    ],
)
def test_an_s3_url_names_the_bucket_and_key_prefix(url: str, bucket: str, prefix: str) -> None:
    """§8: s3://bucket/prefix → an S3 store there; nothing is contacted yet."""
    store = open_store(url, s3_endpoint_url="http://127.0.0.1:1")
    assert isinstance(store, S3BlobStore)
    assert (store.bucket, store.prefix) == (bucket, prefix)


def test_an_s3_store_takes_credentials_from_the_aws_environment(
    s3: S3Sandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """§8: the usual AWS variables, and us-east-1 when no region is set."""
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    store = open_store(f"s3://{s3.bucket}/blobs", s3_endpoint_url=s3.endpoint_url)
    assert isinstance(store, S3BlobStore)
    assert store.region == "us-east-1"
    store.check()


def test_an_s3_store_uses_the_region_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """§8: AWS_DEFAULT_REGION is honoured."""
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-north-1")
    store = open_store("s3://ecb-files", s3_endpoint_url="http://127.0.0.1:1")
    assert isinstance(store, S3BlobStore)
    assert store.region == "eu-north-1"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("s3://", "bucket name"),
        ("s3://ab", "bucket name"),
        ("s3://Upper", "bucket name"),
        ("s3://bucket:9000/x", "bucket name"),
        ("s3://-bucket", "bucket name"),
        ("s3://bucket/a//b", "empty"),
        ("s3://bucket/a/../b", "empty, . or .."),
        ("s3://bucket/a%0Ab", "control character"),
        ("s3://bucket/x?region=eu", "query"),
        ("s3://bucket/" + "p" * 901, "longer than"),
    ],
)
def test_unusable_s3_urls_are_refused(url: str, reason: str) -> None:
    """§8: every refusal says what is wrong with ECB_FILES_STORAGE_URL."""
    with pytest.raises(ValueError, match=reason) as caught:
        open_store(url)
    assert "ECB_FILES_STORAGE_URL" in str(caught.value)


def test_credentials_in_an_s3_url_are_refused_without_being_echoed() -> None:
    """§8: secrets belong in the AWS variables; an error message never repeats one."""
    with pytest.raises(ValueError, match="no credentials") as caught:
        open_store("s3://AKIAEXAMPLE:topsecret@bucket/blobs")
    assert "topsecret" not in str(caught.value)
    assert "AKIAEXAMPLE" not in str(caught.value)


@pytest.mark.parametrize(
    ("endpoint", "reason"),
    [
        ("minio:9000", "http:// or https://"),
        ("ftp://minio:9000", "http:// or https://"),
        ("http://", "http:// or https://"),
        ("http://user:topsecret@minio:9000", "no credentials"),
        ("http://minio:99999", "port"),
        ("http://minio:9000/?x=1", "query"),
    ],
)
def test_unusable_s3_endpoints_are_refused(endpoint: str, reason: str) -> None:
    """§8: ECB_FILES_S3_ENDPOINT_URL is checked when the store is opened."""
    with pytest.raises(ValueError, match=reason) as caught:
        open_store("s3://bucket/blobs", s3_endpoint_url=endpoint)
    assert "ECB_FILES_S3_ENDPOINT_URL" in str(caught.value)
    assert "topsecret" not in str(caught.value)


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


def test_an_unusable_aws_profile_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """§8: a broken AWS setup is reported when the store is opened, by name."""
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile")
    with pytest.raises(ValueError, match="ProfileNotFound"):
        open_store("s3://ecb-files/blobs")
