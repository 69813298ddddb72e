"""Ids of the records the service makes: submissions, files, and file contents kept in
the database.

They are time-ordered GUIDs (UUID version 7, RFC 9562): a new record's id sorts after
those made before it, so a commit's inserts land on the last page of each index on the
id instead of on a random page per row. A batch of small submissions then rewrites a
few index pages instead of several per submission, and writes about half the bytes to
the database's log (bench/README.md, eleventh round). The first 48 bits are the
millisecond the id was made, which the record's own ``created_at`` says anyway; the
rest is random, apart from what keeps the ids of one millisecond in order.
"""

from __future__ import annotations

import uuid

from uuid_utils.compat import uuid7


def new_record_id() -> uuid.UUID:
    """A fresh id, in order after those this process made before (a clock that steps
    back could cost the order, never the uniqueness: the random part sees to that)."""
    return uuid7()
