"""File content, thumbnails and a case's ZIP over HTTP (§11.2): bytes, ETags, ranges,
names, active types, visibility, memory, thumbnails decoded and measured, kept."""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
import struct
import zipfile
import zlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from PIL import Image

from tests.functional.api.read_world import API, ReadWorld, start_read_world
from tests.functional.api.test_large import with_peak_growth
from tests.functional.conftest import Api, assert_error, file_entry, submission

MIB = 1024 * 1024
READER = "insurer-read"
# Files named .jpg start as a JPEG (§12.1); the rest of their bytes is anything.
JPEG = b"\xff\xd8\xff\xe0"
RANGED = JPEG + random.Random(7).randbytes(200_000 - len(JPEG))


@pytest.fixture(scope="module")
def read(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReadWorld]:
    world = start_read_world(tmp_path_factory.mktemp("content"))
    yield world
    world.server.stop()


def put(read: ReadWorld, name: str, data: bytes, content_type: str = "image/jpeg") -> str:
    """Submit one file to the open case as the first partner; its id."""
    api = Api(read.server, read.token("secret-client"))
    body = submission(
        read.world, read.world.open_case, [file_entry(name, data, contentType=content_type)]
    )
    response = api.case(body)
    assert response.status_code == 200, response.text
    return str(response.json()["payload"]["files"][0]["id"])


def content(
    read: ReadWorld, file_id: str, client_id: str = READER, **headers: str
) -> httpx.Response:
    return httpx.get(
        f"{read.server.url}{API}/file/{file_id}/content",
        headers={"Authorization": f"Bearer {read.token(client_id)}", **headers},
        timeout=60,
    )


def thumbnail(read: ReadWorld, file_id: str, **params: Any) -> httpx.Response:
    return read.get(READER, f"/file/{file_id}/thumbnail", **params)


# The bytes and their headers.


@pytest.mark.parametrize("size", [10, 64 * 1024, 64 * 1024 + 1, 3 * MIB + 5])
def test_the_bytes_come_back_exactly_with_their_headers(read: ReadWorld, size: int) -> None:
    """Small files (kept with their rows) and blobs in the store alike."""
    data = JPEG + os.urandom(size - len(JPEG))
    file_id = put(read, f"photo-{size}.jpg", data)
    response = content(read, file_id)
    assert response.status_code == 200
    assert response.content == data
    assert response.headers["content-length"] == str(size)
    assert response.headers["etag"] == f'"{hashlib.sha256(data).hexdigest()}"'
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-type"] == "image/jpeg"
    assert response.headers["content-disposition"] == (
        f"attachment; filename=\"photo-{size}.jpg\"; filename*=UTF-8''photo-{size}.jpg"
    )
    assert "content-security-policy" not in response.headers


def test_a_known_etag_is_304_without_a_body(read: ReadWorld) -> None:
    file_id = put(read, "etag.jpg", JPEG + b"some bytes")
    etag = content(read, file_id).headers["etag"]
    again = content(read, file_id, **{"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert content(read, file_id, **{"If-None-Match": '"other"'}).status_code == 200


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [("bytes=0-99", 0, 99), ("bytes=1000-1999", 1000, 1999), ("bytes=-100", 199_900, 199_999),
     ("bytes=199990-", 199_990, 199_999), ("bytes=199990-300000", 199_990, 199_999)],
)  # fmt: skip
def test_a_single_range_is_206(read: ReadWorld, header: str, start: int, end: int) -> None:
    if "ranged.jpg" not in read.files:
        read.files["ranged.jpg"] = put(read, "ranged.jpg", RANGED)
    response = content(read, read.files["ranged.jpg"], Range=header)
    assert response.status_code == 206
    assert response.content == RANGED[start : end + 1]
    assert response.headers["content-range"] == f"bytes {start}-{end}/200000"
    assert response.headers["content-length"] == str(end - start + 1)


def test_ranges_from_a_large_blob_on_either_store(read: ReadWorld) -> None:
    data = JPEG + os.urandom(5 * MIB)
    file_id = put(read, "large-range.jpg", data)
    response = content(read, file_id, Range=f"bytes={2 * MIB - 7}-{4 * MIB + 3}")
    assert response.status_code == 206
    assert response.content == data[2 * MIB - 7 : 4 * MIB + 4]


@pytest.mark.parametrize("header", ["bytes=100-", "bytes=5000-6000", "bytes=-0"])
def test_a_range_past_the_end_is_416(read: ReadWorld, header: str) -> None:
    file_id = put(read, f"short-{header}.jpg", JPEG + b"x" * 96)
    response = content(read, file_id, Range=header)
    assert_error(response, 416, "GenericError", "range")
    assert response.headers["content-range"] == "bytes */100"


def test_several_ranges_are_answered_with_the_whole_file(read: ReadWorld) -> None:
    file_id = put(read, "multi.txt", b"0123456789", "text/plain")
    response = content(read, file_id, Range="bytes=0-1,5-6")
    assert (response.status_code, response.content) == (200, b"0123456789")


def test_if_range_with_another_tag_sends_the_whole_file(read: ReadWorld) -> None:
    file_id = put(read, "if-range.txt", b"0123456789", "text/plain")
    etag = content(read, file_id).headers["etag"]
    kept = content(read, file_id, Range="bytes=0-1", **{"If-Range": etag})
    changed = content(read, file_id, Range="bytes=0-1", **{"If-Range": '"old"'})
    assert (kept.status_code, kept.content) == (206, b"01")
    assert (changed.status_code, changed.content) == (200, b"0123456789")


@pytest.mark.parametrize(
    ("name", "fallback", "encoded"),
    [
        ("Skade på køkken.jpg", "Skade pa k_kken.jpg", "Skade%20p%C3%A5%20k%C3%B8kken.jpg"),
        ('He said "hi".jpg', "He said _hi_.jpg", "He%20said%20%22hi%22.jpg"),
        ("a;b=c, d.jpg", "a_b=c_ d.jpg", "a%3Bb%3Dc%2C%20d.jpg"),
        ("100% 照片.jpg", "100_ __.jpg", "100%25%20%E7%85%A7%E7%89%87.jpg"),
        ("back\\slash.jpg", "back_slash.jpg", None),
    ],
)
def test_content_disposition_is_safe_for_any_name(
    read: ReadWorld, name: str, fallback: str, encoded: str | None
) -> None:
    """Names with control characters (a newline) never get in: §3.1 refuses them."""
    api = Api(read.server, read.token("secret-client"))
    response = api.case(submission(read.world, read.world.open_case, [file_entry(name, JPEG)]))
    if "\\" in name:
        assert response.status_code == 400
        return
    file_id = response.json()["payload"]["files"][0]["id"]
    header = content(read, file_id).headers["content-disposition"]
    assert header == f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("page.html", "text/html"),
        ("page.xhtml", "application/xhtml+xml"),
        ("drawing.svg", "image/svg+xml"),
        ("data.xml", "application/xml"),
        ("blob.dat", "application/octet-stream"),
    ],
)
def test_active_types_are_sandboxed_attachments(
    read: ReadWorld, name: str, content_type: str
) -> None:
    file_id = put(read, name, b"<html><script>alert(1)</script></html>", content_type)
    response = content(read, file_id)
    assert response.status_code == 200
    assert response.headers["content-security-policy"] == "sandbox"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-disposition"].startswith("attachment;")


def test_what_a_reader_may_not_see_is_file_not_found(read: ReadWorld) -> None:
    """§11.1: the other partner's restricted file is missing for this partner's reader."""
    hidden = read.files["b-restricted.jpg"]
    for path in (f"/file/{hidden}/content", f"/file/{hidden}/thumbnail"):
        assert_error(read.get("read-only-client", path), 404, "FileNotFound")
    assert read.get("other-reader", f"/file/{hidden}/content").content.endswith(b"b-restricted.jpg")
    assert_error(read.get(None, f"/file/{hidden}/content"), 401, "Unauthorized")
    assert_error(read.get(READER, "/file/not-a-guid/content"), 400, "InvalidRequest", "fileId")


def test_a_client_that_goes_away_mid_download_leaves_the_server_serving(read: ReadWorld) -> None:
    file_id = put(read, "abandoned.jpg", JPEG + os.urandom(8 * MIB))
    url = f"{read.server.url}{API}/file/{file_id}/content"
    headers = {"Authorization": f"Bearer {read.token(READER)}"}
    with httpx.stream("GET", url, headers=headers) as response:
        next(response.iter_raw(MIB))
    assert content(read, file_id, Range="bytes=0-9").status_code == 206


def test_a_100_mib_download_keeps_server_memory_flat(read: ReadWorld) -> None:
    """§6, §11.2: streamed in O(1) memory, whatever the store."""
    digest = hashlib.sha256()
    seed = random.Random(100)
    size = 100 * MIB
    boundary = "content-test-boundary"
    submission_part = submission(
        read.world,
        read.world.open_case,
        [{"part": "big", "fileName": "big.zip", "contentType": "application/zip"}],
    )

    def body() -> Iterator[bytes]:
        yield (
            f'--{boundary}\r\nContent-Disposition: form-data; name="submission"\r\n'
            f"Content-Type: application/json\r\n\r\n{json.dumps(submission_part)}\r\n"
            f'--{boundary}\r\nContent-Disposition: form-data; name="big"; '
            f'filename="big.zip"\r\nContent-Type: application/zip\r\n\r\nPK\x03\x04'
        ).encode()
        digest.update(b"PK\x03\x04")
        for _ in range(100):
            chunk = seed.randbytes(MIB - 4 if _ == 0 else MIB)
            digest.update(chunk)
            yield chunk
        yield f"\r\n--{boundary}--\r\n".encode()

    answer = httpx.post(
        f"{read.server.url}/ecx/host/api/integration/v1/file/submitForCase",
        content=body(),
        headers={
            "Authorization": f"Bearer {read.token('secret-client')}",
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        },
        timeout=300,
    )
    assert answer.status_code == 200, answer.text
    file_id = answer.json()["payload"]["files"][0]["id"]
    received = hashlib.sha256()
    count = 0

    def download() -> httpx.Response:
        nonlocal count
        url = f"{read.server.url}{API}/file/{file_id}/content"
        headers = {"Authorization": f"Bearer {read.token(READER)}"}
        with httpx.stream("GET", url, headers=headers, timeout=300) as response:
            for chunk in response.iter_raw(MIB):
                received.update(chunk)
                count += len(chunk)
            return response

    response, growth = with_peak_growth(read.server.pid, download)
    assert response.status_code == 200
    assert (count, received.hexdigest()) == (size, digest.hexdigest())
    assert growth < 32, f"server RSS grew by {growth:.1f} MiB while sending 100 MiB"


# Thumbnails.


def jpeg(width: int, height: int, orientation: int | None = None) -> bytes:
    """Left half red, right half blue; EXIF orientation if given."""
    image = Image.new("RGB", (width, height), (0, 0, 255))
    image.paste((255, 0, 0), (0, 0, width // 2, height))
    out = io.BytesIO()
    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    image.save(out, "JPEG", exif=exif, quality=95)
    return out.getvalue()


def decoded(response: httpx.Response) -> Image.Image:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/jpeg"
    image = Image.open(io.BytesIO(response.content))
    assert image.format == "JPEG"
    return image.convert("RGB")


def test_a_thumbnail_is_upright_and_measured(read: ReadWorld) -> None:
    """A portrait phone photo: stored 800 × 400, EXIF orientation 6 (turn clockwise)."""
    file_id = put(read, "portrait.jpg", jpeg(800, 400, orientation=6))
    image = decoded(thumbnail(read, file_id))
    assert image.size == (128, 256)  # default size 256, portrait
    red, blue = image.getpixel((64, 8)), image.getpixel((64, 248))
    assert isinstance(red, tuple)
    assert isinstance(blue, tuple)
    assert (red[0] > 200, red[2] < 60) == (True, True)  # the stored left half is on top
    assert (blue[2] > 200, blue[0] < 60) == (True, True)
    for size in (64, 1024):
        assert decoded(thumbnail(read, file_id, size=size)).size == (size // 2, size)


def test_a_thumbnail_is_kept_and_read_back(read: ReadWorld) -> None:
    file_id = put(read, "kept.png", png(300, 200), "image/png")
    before = set(read.server.blob_files())
    first = thumbnail(read, file_id, size=100)
    made = set(read.server.blob_files()) - before
    assert len(made) == 1  # the thumbnail, kept as a blob
    second = thumbnail(read, file_id, size=100)
    assert set(read.server.blob_files()) - before == made  # read back, not made again
    assert second.content == first.content
    assert second.headers["etag"] == first.headers["etag"]
    not_modified = httpx.get(
        f"{read.server.url}{API}/file/{file_id}/thumbnail?size=100",
        headers={
            "Authorization": f"Bearer {read.token(READER)}",
            "If-None-Match": first.headers["etag"],
        },
    )
    assert not_modified.status_code == 304


def png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (0, 128, 0)).save(out, "PNG")
    return out.getvalue()


def bomb_png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 4096))
        + chunk(b"IEND", b"")
    )


def test_a_decompression_bomb_is_refused_cleanly(read: ReadWorld) -> None:
    file_id = put(read, "bomb.png", bomb_png(30_000, 30_000), "image/png")
    assert_error(thumbnail(read, file_id), 422, "GenericError", "too large", "pixels")
    assert read.server.process is not None
    assert read.server.process.poll() is None  # the server lives on


def test_only_images_have_thumbnails_and_sizes_are_checked(read: ReadWorld) -> None:
    pdf = put(read, "report.pdf", b"%PDF-1.4 a report", "application/pdf")
    assert_error(thumbnail(read, pdf), 404, "FileNotFound")
    image = put(read, "sized.jpg", jpeg(100, 100))
    for size in ("63", "1025", "abc"):
        assert_error(thumbnail(read, image, size=size), 400, "InvalidRequest", "size")


# A case's files as one ZIP.


def test_the_zip_holds_exactly_the_files_the_reader_sees(read: ReadWorld) -> None:
    case = read.world.open_case
    put(read, "same.jpg", JPEG + b"first")
    put(read, "SAME.jpg", JPEG + b"second")
    for client_id in (READER, "read-only-client"):
        listed: list[dict[str, Any]] = []
        cursor = None
        while True:
            params = {"limit": 500, **({"cursor": cursor} if cursor else {})}
            page = read.get(client_id, f"/case/{case}/files", **params).json()["payload"]
            listed += page["files"]
            cursor = page.get("nextCursor")
            if not cursor:
                break
        response = httpx.get(
            f"{read.server.url}{API}/case/{case}/files.zip",
            headers={"Authorization": f"Bearer {read.token(client_id)}"},
            timeout=300,
        )
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/zip"
        assert response.headers["content-disposition"].startswith('attachment; filename="case-')
        with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
            assert archive.testzip() is None
            names = archive.namelist()
            assert len(names) == len({n.casefold() for n in names}) == len(listed)
            digests = sorted(hashlib.sha256(archive.read(n)).hexdigest() for n in names)
        assert digests == sorted(f["sha256"] for f in listed)
    assert_error(read.get("other-insurer", f"/case/{case}/files.zip"), 404, "ClaimNotFound")


def test_openapi_documents_the_content_routes(read: ReadWorld) -> None:
    document = httpx.get(f"{read.server.url}/openapi.json").json()
    content_route = document["paths"][f"{API}/file/{{fileId}}/content"]["get"]
    assert {"200", "206", "304", "404", "416"} <= set(content_route["responses"])
    thumbnail_route = document["paths"][f"{API}/file/{{fileId}}/thumbnail"]["get"]
    assert "image/jpeg" in thumbnail_route["responses"]["200"]["content"]
    assert any(p["name"] == "size" for p in thumbnail_route["parameters"])
    assert "extension" in document["paths"][f"{API}/case/{{caseId}}/files.zip"]["get"]["summary"]
