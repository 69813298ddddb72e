"""Streaming decoder for standard, padded base64 (RFC 4648 §4).

Input arrives in chunks of any size. Whitespace (space, tab, CR, LF) anywhere is
ignored; fewer than four significant characters are carried to the next chunk, where
the group they begin is completed and decoded apart; the rest of each chunk is decoded
whole by ``pybase64`` in one call, never copied to join the carry. Refused, with the 0-based
character offset of the fault in the input seen so far:

- a character outside ``A–Z a–z 0–9 + /`` (so the URL-safe ``-`` and ``_`` too);
- ``=`` anywhere but as the one or two last characters of the final quartet, and any
  character after it;
- a total length (whitespace aside) that is not a multiple of four, i.e. missing padding.
"""

from __future__ import annotations

import binascii

import pybase64

_WHITESPACE = b" \t\r\n"
_WHITESPACE_BYTES = tuple(_WHITESPACE)
_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_PAD = b"="
_PAD_BYTE = ord("=")


class Base64Error(ValueError):
    """The input is not standard padded base64; the message says what and where.

    ``decoded`` holds what the input before the fault decodes to, which ``decode`` did
    not return: a caller that bounds the size counts it first, so that of two faults the
    one met first in the input is reported, wherever the chunks were cut.
    """

    def __init__(self, message: str, decoded: bytes = b"") -> None:
        super().__init__(message)
        self.decoded = decoded


def _describe(byte: int) -> str:
    if 0x21 <= byte <= 0x7E:
        return repr(chr(byte))
    return f"byte 0x{byte:02X}"


def _input_offset(chunk: bytes, significant_index: int) -> int:
    """Offset in ``chunk`` of its ``significant_index``-th non-whitespace byte."""
    seen = 0
    for offset, byte in enumerate(chunk):
        if byte in _WHITESPACE_BYTES:
            continue
        if seen == significant_index:
            return offset
        seen += 1
    return len(chunk)


class Base64StreamDecoder:
    """Push-style decoder: ``decode(chunk)`` returns what can be decoded so far,
    ``finish()`` the rest. Raises :class:`Base64Error`."""

    __slots__ = ("_carry", "_chunk_start", "_position")

    def __init__(self) -> None:
        # Significant characters not decoded yet: under four, or the final padded quartet.
        self._carry = b""
        self._position = 0
        self._chunk_start = 0

    @property
    def position(self) -> int:
        """Characters of input (whitespace included) seen so far."""
        return self._position

    def decode(self, chunk: bytes) -> bytes:
        """The bytes that ``chunk`` completes; see :meth:`decode_pieces`."""
        pieces = self.decode_pieces(chunk)
        return pieces[0] if len(pieces) == 1 else b"".join(pieces)

    def decode_pieces(self, chunk: bytes) -> tuple[bytes, ...]:
        """The bytes that ``chunk`` completes, in order, as one or two pieces: a group
        begun by the previous chunk is decoded apart from the rest, so that a large
        chunk is never copied to put the carried characters in front of it."""
        plain = self._decode_plain(chunk)
        if plain is not None:
            return plain
        self._chunk_start = self._position
        self._position += len(chunk)
        text = chunk
        # Four memchr scans are far cheaper than a translate copy of a clean chunk.
        if any(space in chunk for space in _WHITESPACE_BYTES):
            text = chunk.translate(None, _WHITESPACE)
        if not text:
            return (b"",)
        carried = len(self._carry)
        data = self._carry + text if carried else text
        pad = data.find(_PAD)
        decodable = len(data) - len(data) % 4 if pad < 0 else pad - pad % 4
        decoded = self._decode_groups(chunk, data, decodable, carried)
        try:
            if pad >= 0:
                self._check_padding(chunk, data, decodable, pad, carried)
            elif len(data) > carried:
                # The characters kept back are checked now, so faults come in input order.
                kept = max(decodable, carried)
                self._check_alphabet(chunk, data[kept:], kept - carried)
        except Base64Error as exc:
            exc.decoded = decoded + exc.decoded
            raise
        self._carry = data[decodable:]
        return (decoded,)

    def _decode_plain(self, chunk: bytes) -> tuple[bytes, ...] | None:
        """The common case in SIMD calls, with no scan before them: whole groups of
        alphabet characters (no whitespace, no ``=``) after the carried ones. ``None``
        when the chunk holds anything else, and nothing has changed: ``decode_pieces``
        then goes through it carefully, to decode what it can and say where a fault is."""
        carry = self._carry
        completed = b""
        body = memoryview(chunk)
        if carry:
            # The group the carry begins, completed from this chunk (never a final
            # padded quartet: nothing may follow that).
            need = 4 - len(carry)
            if need <= 0 or len(chunk) < need:
                return None
            completed = carry + chunk[:need]
            if _PAD in completed:
                return None
            body = body[need:]
        end = len(body) - len(body) % 4
        tail = body[end:].tobytes()
        if tail.translate(None, _ALPHABET) or (end and body[end - 1] == _PAD_BYTE):
            return None
        try:
            first = pybase64.b64decode(completed, validate=True) if completed else b""
            rest = pybase64.b64decode(body[:end], validate=True)
        except (binascii.Error, ValueError):
            return None
        self._chunk_start = self._position
        self._position += len(chunk)
        self._carry = tail
        return (first, rest) if first else (rest,)

    def finish(self) -> bytes:
        """Decode the final quartet; refuse a length that is not a multiple of four."""
        carry = self._carry
        if not carry:
            return b""
        if len(carry) < 4:
            if _PAD in carry:
                raise Base64Error(f"incomplete '=' padding at character {self._position}")
            raise Base64Error(
                f"ends after a partial group of {len(carry)} characters at character "
                f"{self._position}: the base64 length must be a multiple of 4 "
                "(missing '=' padding?)"
            )
        try:
            return bytes(pybase64.b64decode(carry, validate=True))
        except (binascii.Error, ValueError):
            raise Base64Error(f"invalid final group {carry.decode('ascii')!r}") from None

    def _decode_groups(self, chunk: bytes, data: bytes, end: int, carried: int) -> bytes:
        """Decode ``data[:end]``, whole groups of four without padding, in one call."""
        if end == 0:
            return b""
        view = memoryview(data)[:end] if end < len(data) else data
        try:
            return bytes(pybase64.b64decode(view, validate=True))
        except (binascii.Error, ValueError):
            pass
        # Carried characters were checked when kept, so the fault is in this chunk.
        try:
            self._check_alphabet(chunk, data[carried:end], 0)
        except Base64Error as exc:
            exc.decoded = self._decode_before(data)
            raise
        raise Base64Error(f"not valid base64 near character {self._chunk_start}")

    def _decode_before(self, data: bytes) -> bytes:
        """The whole groups of ``data`` before its first invalid character."""
        strangers = data.translate(None, _ALPHABET)
        bad = data.index(strangers[:1]) if strangers else len(data)
        return bytes(pybase64.b64decode(data[: bad - bad % 4], validate=True))

    def _check_alphabet(self, chunk: bytes, significant: bytes, first_index: int) -> None:
        """Refuse the first byte of ``significant`` (stripped chunk bytes starting at
        stripped index ``first_index``) that is not in the alphabet."""
        strangers = significant.translate(None, _ALPHABET)
        if not strangers:
            return
        index = first_index + significant.index(strangers[:1])
        at = self._chunk_start + _input_offset(chunk, index)
        raise Base64Error(
            f"not valid base64 at character {at} "
            f"({_describe(strangers[0])} is not in the standard base64 alphabet)"
        )

    def _check_padding(self, chunk: bytes, data: bytes, group: int, pad: int, carried: int) -> None:
        """``data[pad]`` is the first ``=``; it must end the group starting at ``group``.

        Indexes are into ``data`` (the carry, then this chunk without whitespace); a
        fault found here always lies in this chunk, since the carry was checked.
        """
        first_new = max(group, carried)
        if pad > first_new:
            self._check_alphabet(chunk, data[first_new:pad], first_new - carried)
        if pad - group < 2:
            self._fail_at(chunk, pad - carried, "invalid '=' padding", b"")
        pads_end = len(data) - len(data[pad:].lstrip(_PAD))
        final = b""
        if pads_end >= group + 4:
            final = bytes(pybase64.b64decode(data[group : group + 4], validate=True))
        if pads_end > group + 4:
            self._fail_at(chunk, group + 4 - carried, "invalid '=' padding", final)
        if pads_end < len(data):
            self._fail_at(chunk, pads_end - carried, "data after '=' padding", final)

    def _fail_at(self, chunk: bytes, index: int, what: str, decoded: bytes) -> None:
        at = self._chunk_start + _input_offset(chunk, index)
        raise Base64Error(f"{what} at character {at}", decoded)
