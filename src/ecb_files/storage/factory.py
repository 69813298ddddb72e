"""``open_store(url)``: the blob store named by ``ECB_FILES_STORAGE_URL`` (CONTRACT §8)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from ecb_files.config import ConfigError
from ecb_files.storage.base import BlobStore
from ecb_files.storage.local import LocalBlobStore

_SETTING = "ECB_FILES_STORAGE_URL"


def open_store(url: str, *, s3_endpoint_url: str | None = None) -> BlobStore:
    """The store for ``url``.

    ``file:///absolute/path`` is a ``LocalBlobStore`` there (the directory is created if
    missing). ``s3://bucket/prefix`` is refused for now: this build has no S3 backend.
    Anything else is a ``ConfigError`` (a ``ValueError``) naming the problem.
    ``StorageUnavailable`` if the local directory cannot be created.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "file":
        return LocalBlobStore(_local_path(url))
    if scheme == "s3":
        del s3_endpoint_url  # used by the S3 backend
        raise ConfigError(
            f"S3 storage is not available in this build ({_SETTING} names an s3:// URL); "
            f"use a file:///absolute/path URL"
        )
    if not scheme:
        raise ConfigError(f"{_SETTING} must be a URL with a scheme (file:// or s3://)")
    raise ConfigError(f"{_SETTING}: unsupported URL scheme {scheme!r}; expected file:// or s3://")


def _local_path(url: str) -> Path:
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        raise ConfigError(
            f"{_SETTING}: a file URL names a path on this host, not {parts.netloc!r} "
            f"(write file:///absolute/path)"
        )
    if parts.query or parts.fragment:
        raise ConfigError(f"{_SETTING}: a file URL takes no query or fragment")
    # Path.as_uri() percent-encodes (spaces, non-ASCII): undo it.
    path = Path(unquote(parts.path))
    if not path.is_absolute():
        raise ConfigError(f"{_SETTING}: a file URL needs an absolute path (file:///…)")
    if path == Path(path.anchor):
        raise ConfigError(f"{_SETTING}: the file system root cannot be the blob store")
    return path
