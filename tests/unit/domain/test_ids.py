"""The ids the service gives its records (§3.3 Success: "the id the server gave it";
docs/behaviour.md): time-ordered GUIDs, version 7 of RFC 9562."""

from __future__ import annotations

import time
import uuid

from ecb_files.domain import rules
from ecb_files.domain.ids import new_record_id


def test_a_record_id_is_a_version_7_guid() -> None:
    """§3.3: a GUID of RFC 9562's variant and version 7, as the contract's GUIDs are written."""
    made = new_record_id()
    assert (made.variant, made.version) == (uuid.RFC_4122, 7)
    assert rules.is_guid(str(made))


def test_record_ids_sort_in_the_order_they_were_made() -> None:
    """§3.3, docs/behaviour.md: an id made later sorts after one made earlier, within the
    same millisecond too, so the indexes on them grow at their end."""
    made = [new_record_id() for _ in range(10_000)]
    assert made == sorted(made)
    assert len(set(made)) == len(made)


def test_a_record_ids_first_48_bits_are_the_millisecond_it_was_made() -> None:
    """docs/behaviour.md: the first 48 bits are the millisecond the id was made."""
    before = time.time_ns() // 1_000_000
    made = new_record_id()
    after = time.time_ns() // 1_000_000
    assert before <= made.int >> 80 <= after
