"""A staged blob's life cycle, shared by every backend (§3.4, all or nothing).

The backends' behaviour is checked by ``test_storage_contract.py``; these tests pin the
rules themselves: write* → seal → publish, abort from anywhere, and one message for a
step out of order.
"""

from __future__ import annotations

import re

import pytest

from ecb_files.storage.lifecycle import Lifecycle, Phase

BLOB_ID = "0123456789abcdef0123456789abcdef"


def refusal(action: str, phase: str) -> str:
    """The whole message of an out-of-order step, as a pattern for ``pytest.raises``."""
    return f"^{re.escape(f'cannot {action} blob {BLOB_ID}: it is {phase}')}$"


def test_a_new_blob_is_being_written() -> None:
    """§3.4 all or nothing: a blob starts out staged, not visible."""
    lifecycle = Lifecycle(BLOB_ID)
    assert lifecycle.phase is Phase.WRITING
    lifecycle.require(Phase.WRITING, "write")


def test_write_seal_publish_in_order() -> None:
    """§3.4 all or nothing: a blob becomes visible only after it is sealed."""
    lifecycle = Lifecycle(BLOB_ID)
    lifecycle.sealed()
    assert lifecycle.phase is Phase.SEALED
    lifecycle.require(Phase.SEALED, "publish")
    lifecycle.published()
    assert lifecycle.phase is Phase.PUBLISHED


def test_a_step_out_of_order_names_the_action_the_blob_and_its_phase() -> None:
    """§3.4 all or nothing: an out-of-order step is a bug, refused before it does anything."""
    lifecycle = Lifecycle(BLOB_ID)
    with pytest.raises(RuntimeError) as refused:
        lifecycle.require(Phase.SEALED, "publish")
    assert str(refused.value) == f"cannot publish blob {BLOB_ID}: it is being written"
    assert lifecycle.phase is Phase.WRITING


def test_publish_before_seal_is_refused() -> None:
    """§3.4 all or nothing: nothing unsealed becomes visible."""
    lifecycle = Lifecycle(BLOB_ID)
    with pytest.raises(RuntimeError, match=refusal("publish", "being written")):
        lifecycle.published()
    assert lifecycle.phase is Phase.WRITING


def test_seal_twice_is_refused() -> None:
    """§3.4 all or nothing: a sealed blob takes no more steps but publish or abort."""
    lifecycle = Lifecycle(BLOB_ID)
    lifecycle.sealed()
    with pytest.raises(RuntimeError, match=refusal("seal", "sealed")):
        lifecycle.sealed()
    with pytest.raises(RuntimeError, match=refusal("write", "sealed")):
        lifecycle.require(Phase.WRITING, "write")


def test_publish_twice_is_refused() -> None:
    """§3.4 all or nothing: a published blob is published once."""
    lifecycle = Lifecycle(BLOB_ID)
    lifecycle.sealed()
    lifecycle.published()
    with pytest.raises(RuntimeError, match=refusal("publish", "published")):
        lifecycle.published()


@pytest.mark.parametrize("steps", [(), ("seal",), ("seal", "publish")])
def test_abort_is_allowed_from_any_phase_and_is_final(steps: tuple[str, ...]) -> None:
    """§3.4 all or nothing: a refused request discards its blobs, staged or published."""
    lifecycle = Lifecycle(BLOB_ID)
    for step in steps:
        getattr(lifecycle, {"seal": "sealed", "publish": "published"}[step])()
    lifecycle.aborted()
    assert lifecycle.phase is Phase.ABORTED
    for action, phase in (("write", Phase.WRITING), ("publish", Phase.SEALED)):
        with pytest.raises(RuntimeError, match=refusal(action, "aborted")):
            lifecycle.require(phase, action)
    with pytest.raises(RuntimeError, match=refusal("seal", "aborted")):
        lifecycle.sealed()


def test_abort_twice_is_allowed() -> None:
    """§3.4 all or nothing: cleanup paths may abort more than once."""
    lifecycle = Lifecycle(BLOB_ID)
    lifecycle.aborted()
    lifecycle.aborted()
    assert lifecycle.phase is Phase.ABORTED
