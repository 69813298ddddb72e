"""Small files kept with their database row instead of in the blob store.

A small file costs the blob store a file created, written, fsync'd, renamed and its
directory fsync'd (or an object uploaded), which is most of the work of a small
submission. Its bytes are kept in memory instead, and the database stores them in the
same transaction as the file's row: the commit makes them durable together, and the
commit's one log flush serves every submission of a group commit.

``SmallBlobs`` is made per request. Its staged blobs hold up to ``max_inline_bytes``
each, and up to ``request_budget`` together, in memory; a blob that grows past either
spills into the store as it streams (what it held is written first), so memory stays
bounded whatever the request's size. After ``seal``, ``inline_content`` is the bytes
of a blob that stayed small, ``None`` for one that spilled.
"""

from __future__ import annotations

from ecb_files.domain.ids import new_record_id
from ecb_files.storage.base import BlobStore, StagedBlob


class SmallBlobs:
    """Stages the blobs of one request (see the module doc). Not thread-safe: one
    request's blobs are written by one thread at a time."""

    def __init__(self, store: BlobStore, *, max_inline_bytes: int, request_budget: int) -> None:
        self._store = store
        self._max_inline = max_inline_bytes
        self._budget = request_budget

    def stage(self) -> SmallOrSpilledBlob:
        return SmallOrSpilledBlob(self)

    def _reserve(self, size: int) -> bool:
        """Take ``size`` bytes of the request's in-memory budget, if that much is left."""
        if size > self._budget:
            return False
        self._budget -= size
        return True

    def _give_back(self, size: int) -> None:
        self._budget += size


class SmallOrSpilledBlob:
    """A ``StagedBlob`` that stays in memory while small, else is one of the store's."""

    def __init__(self, owner: SmallBlobs) -> None:
        self._owner = owner
        # Time-ordered, like the file rows: the content table's index on it grows at its end.
        self._blob_id = new_record_id().hex
        self._held: list[bytes] = []
        self._size = 0
        self._spilled: StagedBlob | None = None
        self._sealed = False

    @property
    def blob_id(self) -> str:
        return self._spilled.blob_id if self._spilled is not None else self._blob_id

    @property
    def inline_content(self) -> bytes | None:
        """The whole content of a sealed blob that stayed small; ``None`` otherwise."""
        if self._spilled is not None or not self._sealed:
            return None
        return b"".join(self._held)

    def write(self, data: bytes) -> None:
        if self._sealed:
            raise RuntimeError(f"cannot write blob {self.blob_id}: it is sealed")
        if self._spilled is not None:
            self._spilled.write(data)
            return
        grown = self._size + len(data)
        if grown <= self._owner._max_inline and self._owner._reserve(len(data)):
            self._held.append(data)
            self._size = grown
            return
        self._spill()
        assert self._spilled is not None
        self._spilled.write(data)

    def seal(self) -> None:
        if self._spilled is not None:
            self._spilled.seal()
        self._sealed = True

    def publish(self) -> None:
        """A spilled blob is published in the store; a small one is stored by the
        database with its row, so there is nothing to do here."""
        if not self._sealed:
            raise RuntimeError(f"cannot publish blob {self.blob_id}: it is not sealed")
        if self._spilled is not None:
            self._spilled.publish()

    def abort(self) -> None:
        if self._spilled is not None:
            self._spilled.abort()
        self._release()

    def _spill(self) -> None:
        spilled = self._owner._store.stage()
        try:
            for held in self._held:
                spilled.write(held)
        except BaseException:
            spilled.abort()
            raise
        self._spilled = spilled
        self._release()

    def _release(self) -> None:
        self._owner._give_back(self._size)
        self._held = []
        self._size = 0
