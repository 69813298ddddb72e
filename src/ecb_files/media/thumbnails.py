"""Thumbnails with Pillow: the one module that imports it (and pillow-heif).

``make_thumbnail(source, longest_side)`` decodes an image file and answers a JPEG whose
longer side is ``longest_side`` pixels, its EXIF orientation applied (a phone's
portrait photo stays upright), transparency laid on white. It is CPU work: call it from
a worker thread.

Decompression bombs: the declared size is read from the header before any pixel is
decoded, and an image over its limit is refused (``ImageRefused``) without decoding:
``MAX_SOURCE_PIXELS`` for a JPEG (decoded at a reduced scale), ``MAX_DECODED_PIXELS``
for the rest (decoded whole: at most ~300 MB). Pillow's own bomb check stays on, at
``MAX_SOURCE_PIXELS``. JPEG sources are decoded at a reduced scale (``draft``) when the thumbnail is
much smaller, so a 50-megapixel photo costs a fraction of its full size in memory.
Anything Pillow cannot decode is refused the same way, never a crash.
"""

from __future__ import annotations

import io
import warnings
from typing import BinaryIO

from PIL import Image, ImageOps, UnidentifiedImageError

# HEIC: a plugin with its own libheif wheel. AVIF is Pillow's own.
from pillow_heif import register_heif_opener

register_heif_opener()

#: The most pixels a JPEG may declare: above a 200-megapixel phone camera's
#: 16,320 × 12,240. A JPEG is decoded at 1/8 of that for a thumbnail (``draft``).
MAX_SOURCE_PIXELS = 210_000_000
#: The most pixels any other image may declare: it is decoded whole, 3 bytes a pixel.
MAX_DECODED_PIXELS = 100_000_000
Image.MAX_IMAGE_PIXELS = MAX_SOURCE_PIXELS
_JPEG_FORMATS = frozenset({"JPEG", "MPO"})

MEDIA_TYPE = "image/jpeg"
_JPEG_QUALITY = 85
# The Pillow formats a thumbnail is made from; anything else that decodes is refused.
_FORMATS = frozenset({"JPEG", "MPO", "PNG", "GIF", "BMP", "TIFF", "HEIF", "AVIF"})


class ImageRefused(Exception):
    """No thumbnail can be made of these bytes; the message says why (for a client)."""


def make_thumbnail(source: BinaryIO, longest_side: int) -> bytes:
    """A JPEG of the image in ``source`` (seekable) whose longer side is ``longest_side``."""
    with warnings.catch_warnings():
        # Pillow warns between MAX_IMAGE_PIXELS and twice that; refuse there instead.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(source) as image:
                _check(image)
                return _thumbnail(image, longest_side)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ImageRefused(
                f"the image is too large to make a thumbnail of: more than "
                f"{MAX_SOURCE_PIXELS} pixels"
            ) from exc
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as exc:
            # Truncated or corrupt data surfaces as any of these from Pillow's decoders.
            raise ImageRefused(f"the content is not an image that can be decoded ({exc})") from exc


def _check(image: Image.Image) -> None:
    if image.format not in _FORMATS:
        raise ImageRefused(f"no thumbnail is made of {image.format or 'unknown'} images")
    width, height = image.size
    limit = MAX_SOURCE_PIXELS if image.format in _JPEG_FORMATS else MAX_DECODED_PIXELS
    if width * height > limit:
        raise ImageRefused(
            f"the image is too large to make a thumbnail of: {width} × {height} pixels, "
            f"more than the limit of {limit} for {image.format} images"
        )


def _thumbnail(image: Image.Image, longest_side: int) -> bytes:
    width, height = image.size
    orientation = image.getexif().get(0x0112, 1)  # EXIF Orientation
    rotated = orientation in (5, 6, 7, 8)  # a quarter turn: width and height swap
    upright_w, upright_h = (height, width) if rotated else (width, height)
    scale = longest_side / max(upright_w, upright_h)
    target = (max(1, round(upright_w * scale)), max(1, round(upright_h * scale)))
    if image.format == "JPEG":
        # Decode at 1/2, 1/4 or 1/8 scale when that still covers the target.
        draft_size = (target[1], target[0]) if rotated else target
        image.draft("RGB", draft_size)
    upright = ImageOps.exif_transpose(image)
    assert upright is not None  # only None with in_place=True
    flat = _on_white(upright)
    resized = flat.resize(target, Image.Resampling.LANCZOS, reducing_gap=3.0)
    out = io.BytesIO()
    resized.save(out, "JPEG", quality=_JPEG_QUALITY, optimize=True)
    return out.getvalue()


def _on_white(image: Image.Image) -> Image.Image:
    """RGB, with any transparency composited on white (JPEG has no alpha)."""
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")
