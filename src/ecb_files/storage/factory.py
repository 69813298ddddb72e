"""``open_store(url)``: the blob store named by ``ECB_FILES_STORAGE_URL`` (§8)."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import SplitResult, unquote, urlsplit

from ecb_files.config import ConfigError
from ecb_files.storage.base import BlobStore
from ecb_files.storage.local import LocalBlobStore

_SETTING = "ECB_FILES_STORAGE_URL"
_ENDPOINT_SETTING = "ECB_FILES_S3_ENDPOINT_URL"
# S3's bucket naming rules: 3-63 lower-case letters, digits, dots and hyphens, starting
# and ending with a letter or digit.
_BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
# Keys are at most 1024 bytes; a blob's own part of the key is 36.
_MAX_PREFIX_BYTES = 900
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")


def open_store(url: str, *, s3_endpoint_url: str | None = None) -> BlobStore:
    """The store for ``url``.

    ``file:///absolute/path`` is a ``LocalBlobStore`` there (the directory is created if
    missing). ``s3://bucket`` or ``s3://bucket/key/prefix`` is an ``S3BlobStore``, at
    ``s3_endpoint_url`` (``ECB_FILES_S3_ENDPOINT_URL``) when given, else AWS; its
    credentials and region come from the usual AWS environment variables, and nothing
    is contacted until it is used. Anything else is a ``ConfigError`` (a ``ValueError``)
    naming the problem. ``StorageUnavailable`` if the local directory cannot be created.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "file":
        return LocalBlobStore(_local_path(url))
    if scheme == "s3":
        bucket, prefix = _s3_location(parts)
        endpoint_url = _s3_endpoint(s3_endpoint_url)
        # Imported here: importing boto3 (and botocore with it) is slow, every CLI command
        # would pay for it, and a local-only deployment does not need it.
        from ecb_files.storage.s3 import S3BlobStore

        return S3BlobStore(bucket, prefix, endpoint_url)
    if not scheme:
        raise ConfigError(f"{_SETTING} must be a URL with a scheme (file:// or s3://)")
    raise ConfigError(f"{_SETTING}: unsupported URL scheme {scheme!r}; expected file:// or s3://")


def _s3_location(parts: SplitResult) -> tuple[str, str]:
    """``(bucket, prefix)`` of an ``s3://bucket/prefix`` URL; the prefix has no slash
    at either end and may be empty."""
    if "@" in parts.netloc:
        # Never echo it: it may hold a secret.
        raise ConfigError(
            f"{_SETTING}: an s3:// URL carries no credentials; "
            f"use the AWS environment variables (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)"
        )
    bucket = parts.netloc
    if not _BUCKET_NAME.fullmatch(bucket) or ".." in bucket:
        raise ConfigError(
            f"{_SETTING}: {bucket!r} is not a valid S3 bucket name (3-63 lower-case "
            f"letters, digits, dots and hyphens; write s3://bucket/prefix)"
        )
    if parts.query or parts.fragment:
        raise ConfigError(f"{_SETTING}: an s3:// URL takes no query or fragment")
    prefix = unquote(parts.path).strip("/")
    if prefix:
        segments = prefix.split("/")
        if any(segment in ("", ".", "..") for segment in segments):
            raise ConfigError(f"{_SETTING}: the key prefix {prefix!r} has an empty, . or .. part")
        if _CONTROL_CHARS.search(prefix):
            raise ConfigError(f"{_SETTING}: the key prefix contains a control character")
        if len(prefix.encode()) > _MAX_PREFIX_BYTES:
            raise ConfigError(
                f"{_SETTING}: the key prefix is longer than {_MAX_PREFIX_BYTES} bytes"
            )
    return bucket, prefix


def _s3_endpoint(endpoint_url: str | None) -> str | None:
    """The S3 endpoint URL if one is set (an S3-compatible store), else ``None`` (AWS)."""
    if not endpoint_url:
        return None
    parts = urlsplit(endpoint_url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{_ENDPOINT_SETTING} must be an http:// or https:// URL with a host")
    if parts.username is not None or parts.password is not None:
        raise ConfigError(
            f"{_ENDPOINT_SETTING} carries no credentials; use the AWS environment variables"
        )
    if parts.query or parts.fragment:
        raise ConfigError(f"{_ENDPOINT_SETTING} takes no query or fragment")
    try:
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        raise ConfigError(f"{_ENDPOINT_SETTING} has an invalid port") from None
    return endpoint_url


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
