"""Blob storage: the ``BlobStore`` protocol, its backends, and ``open_store(url)``."""

from ecb_files.errors import StorageError, StorageFull, StorageUnavailable
from ecb_files.storage.base import (
    BlobInfo,
    BlobRange,
    BlobStore,
    InvalidBlobId,
    StagedBlob,
    is_valid_blob_id,
    new_blob_id,
    validate_blob_id,
)
from ecb_files.storage.factory import open_store
from ecb_files.storage.local import LocalBlobStore

__all__ = [
    "BlobInfo",
    "BlobRange",
    "BlobStore",
    "InvalidBlobId",
    "LocalBlobStore",
    "StagedBlob",
    "StorageError",
    "StorageFull",
    "StorageUnavailable",
    "is_valid_blob_id",
    "new_blob_id",
    "open_store",
    "validate_blob_id",
]
