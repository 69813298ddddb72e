"""The content type the client picks for a file (§4), without a server.

Some allowed extensions (``.dat``, ``.mso``, ``.frs``, ``.nta``) have no content type of
their own: §4 accepts ``application/octet-stream`` for every allowed extension, so that
is what they go as.
"""

from __future__ import annotations

import pytest

from ecb_files_client import Upload, guess_content_type
from ecb_files_client import _filetypes as filetypes
from ecb_files_client._uploads import PreparedFile

TYPELESS_EXTENSIONS = ["dat", "mso", "frs", "nta"]


@pytest.mark.parametrize("extension", TYPELESS_EXTENSIONS)
def test_an_extension_without_a_type_of_its_own_goes_as_octet_stream(extension: str) -> None:
    """§4: octet-stream is accepted for every allowed extension, so it is the fallback."""
    assert filetypes.CONTENT_TYPES[extension] == ()  # guards the premise of this test
    assert guess_content_type(f"big.{extension}") == filetypes.OCTET_STREAM
    assert guess_content_type(f"BIG.{extension.upper()}") == filetypes.OCTET_STREAM


@pytest.mark.parametrize("extension", list(filetypes.CONTENT_TYPES))
def test_every_allowed_extension_gets_a_type_the_server_accepts(extension: str) -> None:
    """§4: the guessed type is the canonical one, or octet-stream when there is none."""
    guessed = guess_content_type(f"file.{extension}")
    assert guessed is not None
    assert filetypes.is_accepted(extension, guessed)
    assert guessed == (filetypes.CONTENT_TYPES[extension] or (filetypes.OCTET_STREAM,))[0]


def test_an_upload_of_a_dat_file_is_prepared_as_octet_stream() -> None:
    """§4: what ``ecb-files-submit case … big.dat`` does first, before any request."""
    prepared = PreparedFile(0, Upload(b"measurements", file_name="big.dat"))
    assert prepared.content_type == filetypes.OCTET_STREAM
