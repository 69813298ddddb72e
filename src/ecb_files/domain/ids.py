"""Ids of the records the service makes: submissions, files, and file contents kept in
the database.

They are time-ordered GUIDs (UUID version 7, RFC 9562): a new record's id sorts after
those made before it, so a commit's inserts land on the last page of each index on the
id instead of on a random page per row. A batch of small submissions then rewrites a
few index pages instead of several per submission, and writes about half the bytes to
the database's log (bench/README.md, eleventh round). The first 48 bits are the
millisecond the id was made, which the record's own ``created_at`` says anyway; the
remaining 74 bits are random.
"""

from __future__ import annotations

import uuid

from uuid_utils.compat import uuid7


def new_record_id() -> uuid.UUID:
    """A fresh id, later in order than any this process made before (a clock that steps
    back only costs the ordering, never the uniqueness)."""
    return uuid7()
