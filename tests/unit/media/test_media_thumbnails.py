"""Thumbnails made with Pillow (§11.2): size, orientation, formats, bombs refused."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from ecb_files.media.thumbnails import (
    MAX_DECODED_PIXELS,
    MAX_SOURCE_PIXELS,
    ImageRefused,
    make_thumbnail,
)

RED, BLUE = (255, 0, 0), (0, 0, 255)
EXIF_ORIENTATION = 0x0112


def halves(width: int, height: int) -> Image.Image:
    """Left half red, right half blue."""
    image = Image.new("RGB", (width, height), BLUE)
    image.paste(RED, (0, 0, width // 2, height))
    return image


def encoded(image: Image.Image, fmt: str, **options: object) -> io.BytesIO:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    out.seek(0)
    return out


def decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG"
    return image.convert("RGB")


def near(pixel: tuple[int, ...], color: tuple[int, int, int]) -> bool:
    return all(abs(a - b) < 40 for a, b in zip(pixel, color, strict=True))


@pytest.mark.parametrize("side", [64, 256, 1024])
def test_the_longer_side_is_the_size_asked_for(side: int) -> None:
    thumb = decoded(make_thumbnail(encoded(halves(800, 600), "PNG"), side))
    assert thumb.size == (side, round(side * 600 / 800))


def test_a_small_image_is_scaled_up_to_the_size_asked_for() -> None:
    thumb = decoded(make_thumbnail(encoded(halves(50, 30), "PNG"), 256))
    assert thumb.size == (256, 154)


def test_exif_orientation_is_applied() -> None:
    """A phone's portrait photo: pixels stored landscape, EXIF says turn 90° clockwise."""
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = 6
    source = encoded(halves(400, 200), "JPEG", exif=exif, quality=95)
    thumb = decoded(make_thumbnail(source, 256))
    assert thumb.size == (128, 256)  # upright: portrait
    # Turned clockwise, the stored left (red) half is on top.
    assert near(thumb.getpixel((64, 10)), RED)  # type: ignore[arg-type]
    assert near(thumb.getpixel((64, 245)), BLUE)  # type: ignore[arg-type]


def test_a_large_jpeg_is_decoded_at_reduced_scale_and_still_exact() -> None:
    thumb = decoded(make_thumbnail(encoded(halves(4000, 3000), "JPEG"), 200))
    assert thumb.size == (200, 150)
    assert near(thumb.getpixel((10, 75)), RED)  # type: ignore[arg-type]
    assert near(thumb.getpixel((190, 75)), BLUE)  # type: ignore[arg-type]


def test_transparency_is_laid_on_white() -> None:
    image = Image.new("RGBA", (100, 100), (0, 0, 0, 0))
    thumb = decoded(make_thumbnail(encoded(image, "PNG"), 64))
    assert near(thumb.getpixel((32, 32)), (255, 255, 255))  # type: ignore[arg-type]


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "TIFF", "HEIF", "AVIF", "JPEG", "PNG"])
def test_every_image_kind_of_the_contract_is_thumbnailed(fmt: str) -> None:
    thumb = decoded(make_thumbnail(encoded(halves(300, 200), fmt), 120))
    assert thumb.size == (120, 80)
    assert near(thumb.getpixel((10, 40)), RED)  # type: ignore[arg-type]


def png_declaring(width: int, height: int) -> io.BytesIO:
    """A PNG whose header declares ``width`` × ``height``: a bomb's shape, a few bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    data = zlib.compress(b"\x00" * 1000)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    return io.BytesIO(png)


@pytest.mark.parametrize(
    ("width", "height"), [(10_001, 10_000), (15_000, 15_000), (100_000, 100_000)]
)
def test_a_decompression_bomb_is_refused_before_decoding(width: int, height: int) -> None:
    assert width * height > MAX_DECODED_PIXELS
    with pytest.raises(ImageRefused, match="too large"):
        make_thumbnail(png_declaring(width, height), 256)


def test_a_jpeg_may_declare_more_pixels_than_other_images() -> None:
    """Its header says 14,000 × 14,000 (196 megapixels): within the JPEG limit, so it
    is decoded (at 1/8 scale; its missing data comes out grey), not refused."""
    assert MAX_DECODED_PIXELS < 14_000 * 14_000 < MAX_SOURCE_PIXELS
    small = encoded(halves(16, 16), "JPEG").getvalue()
    # The SOF0 frame header holds height and width after its length and precision.
    sof = small.index(b"\xff\xc0")
    declared = small[: sof + 5] + struct.pack(">HH", 14_000, 14_000) + small[sof + 9 :]
    assert decoded(make_thumbnail(io.BytesIO(declared), 256)).size == (256, 256)


def test_bytes_that_are_no_image_are_refused() -> None:
    with pytest.raises(ImageRefused, match="not an image"):
        make_thumbnail(io.BytesIO(b"\xff\xd8\xff\xe0 not really a jpeg"), 256)


def test_a_truncated_image_is_refused() -> None:
    whole = encoded(halves(300, 200), "PNG").getvalue()
    with pytest.raises(ImageRefused):
        make_thumbnail(io.BytesIO(whole[: len(whole) // 2]), 256)
