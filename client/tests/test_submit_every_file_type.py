"""§4: a file of every allowed extension submits, through the SDK and through
``ecb-files-submit``, to a real server, with the content type the client picks.

The extension lists below are a literal copy of §4, independent of the client's
generated table, so an extension dropped from the table fails here by name. The files
are a few dozen bytes: what is tested is the extension and its type, not the size.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from client_support import named, run_cli, stored_files
from ecb_files_client import (
    ClientCredentials,
    RetryPolicy,
    SubmitClient,
    TokenCache,
    guess_content_type,
)
from ecb_files_client import _filetypes as filetypes

SECTION_4 = {
    "Images": "webm bmp gif ico jpg jpeg jpe pic pict png rf rgb dwg svg svgz tif tiff",
    "Video": "mkv 3gp asf avi mpeg mpg mpa mpe m1v m2v m4u mp4 mp4v mpg4 mov qt ogv m4v rv",
    "Audio": (
        "mp2 mp3 mpga m2a m4a m4b m4p m4r flac ra ram wav ogg oga spx mid midi wma wax mka "
        "aac adt adts aif aifc aiff au m3u rmi rpm smd smx smz snd s3m qcp"
    ),
    "Web": "xhtml xht htmls shtml html htm mht",
    "Office": (
        "xl xld xlk xlv word doc rtf docm one ods ppz odt dot mso xml xsl xll ttf tex texi "
        "texinfo mpc xls xla xlb xlc xlm xlt xlw xlam xlsb xlsm xltm pot ppt pwz ppa pps "
        "ppam pptm ppsm potm dotm potx ppsx pptx xlsx xltx docx dotx"
    ),
    "Common": "eml msg pdf sig json p7s zip vcf vcs txt text vsd csv xps oxps heic avif",
    "Calculation documents": "frs sit nta",
    "Other": "xsd css emz wmz dat ics url vst vsw rtx rt vml rels",
}
SECTION_4_EXTENSIONS = [ext for exts in SECTION_4.values() for ext in exts.split()]

# Through the command: every extension without a type of its own, and a few with one.
CLI_EXTENSIONS = ["dat", "mso", "frs", "nta", "jpg", "pdf", "docx", "csv"]

# Retries would only hide a failure here; the server is local.
NO_RETRY = RetryPolicy(max_attempts=1)


def _sample_file(folder: Path, extension: str) -> Path:
    """A small file named uniquely, so its stored record can be told from the others;
    it starts as its format does, where the server checks that (§12.1)."""
    # The server's own table of first bytes: these tests run only beside the server.
    from tests.content_samples import sample_for

    path = folder / f"sample-{uuid.uuid4().hex[:8]}.{extension}"
    path.write_bytes(sample_for(path.name, f"§4 sample of a .{extension} file\n".encode()))
    return path


@pytest.fixture(scope="module")
def module_client(
    server: Any, world: Any, jwt_credentials: ClientCredentials
) -> Iterator[SubmitClient]:
    """One client for the module: one token and one connection for 162 submissions."""
    with SubmitClient(
        server.url,
        jwt_credentials,
        security_token=world.security_token,
        retry=NO_RETRY,
        token_cache=TokenCache(),
    ) as client:
        yield client


def test_the_client_table_has_exactly_the_section_4_extensions() -> None:
    """§4: guards the parametrization below, which is written from the contract."""
    assert len(SECTION_4_EXTENSIONS) == len(set(SECTION_4_EXTENSIONS)) == 162
    assert list(filetypes.CONTENT_TYPES) == SECTION_4_EXTENSIONS


@pytest.mark.parametrize("extension", SECTION_4_EXTENSIONS)
def test_the_sdk_submits_a_file_of_every_allowed_extension(
    module_client: SubmitClient, world: Any, tmp_path: Path, extension: str
) -> None:
    """§4: every allowed extension is accepted with the type the client picks for it."""
    path = _sample_file(tmp_path, extension)
    content = path.read_bytes()
    # A result at all means 200: every other answer raises.
    result = module_client.submit_to_case(
        world.open_case,
        insurance_company_alias="company",
        user_email=world.email,
        files=[path],
    )
    [stored] = result.files
    assert stored.file_name == path.name
    assert stored.size == len(content)
    assert stored.sha256 == hashlib.sha256(content).hexdigest()
    assert stored.sha256_matches


@pytest.mark.parametrize("extension", CLI_EXTENSIONS)
def test_the_command_submits_a_file_of_the_extension(
    server: Any, world: Any, cli_env: dict[str, str], tmp_path: Path, extension: str
) -> None:
    """§4: ``ecb-files-submit case … big.dat`` and the like exit 0 with the file stored
    under the extension's canonical type, or octet-stream where it has none."""
    path = _sample_file(tmp_path, extension)
    content = path.read_bytes()
    done = run_cli("case", "--id", world.open_case, "--json", str(path), env=cli_env)
    assert done.returncode == 0, done.stderr
    outcome = json.loads(done.stdout)
    assert outcome["success"] is True
    [stored] = outcome["files"]
    assert stored["size"] == len(content)
    assert stored["sha256"] == hashlib.sha256(content).hexdigest()
    assert stored["sha256Matches"] is True
    [record] = named(stored_files(server, case=world.open_case), {path.name})
    expected_type = (filetypes.CONTENT_TYPES[extension] or (filetypes.OCTET_STREAM,))[0]
    assert record["contentType"] == expected_type == guess_content_type(path.name)
