"""Incremental JSON tokenizer (RFC 8259, UTF-8) for bodies too large to hold.

(A small body that arrives whole is read by the C parser instead: ``json_whole``.)

Push-style and without I/O: :meth:`JsonTokenizer.feed` takes the body in chunks of any
size, :meth:`JsonTokenizer.finish` says it has ended. Events go to a
:class:`JsonEventHandler` the moment they are recognised, so a fault is reported where it
is met in the stream.

A string *value* the handler asks to stream (``begin_string`` returns True) is never
accumulated: its bytes, escapes resolved and still UTF-8, are handed on in slices of
whatever arrived (``string_chunk``). That path is the hot loop of a 1 GiB upload, so it
finds the next ``"`` or ``\\`` with ``bytes.find`` and checks whole slices, never bytes one
by one in Python; a run with escapes in it (``\\/`` from PHP, ``\\u002B`` from
System.Text.Json, ``\\r\\n`` line breaks) is resolved in one call of the standard
library's C string scanner, and only a run it refuses is read escape by escape, to say
exactly what is wrong and where.

Refused, as :class:`~ecb_files.errors.InvalidRequest`:

- anything that is not RFC 8259 JSON (``malformed JSON at byte N: …``, N 0-based), raw
  control characters in strings and invalid UTF-8 included; a root value that is not
  an object; anything but whitespace after the root object (a leading UTF-8 byte order
  mark is skipped, as RFC 8259 §8.1 allows);
- nesting deeper than ``limits.max_json_depth`` (the root object is depth 1);
- a key or a non-streamed string longer than ``limits.max_string_chars`` code points,
  and a number longer than that many characters;
- a duplicate key in one object, more than ``limits.max_object_members`` members in one
  object (the keys are kept to find duplicates), and more than ``limits.max_json_values``
  values in the document (each costs a step in Python, so their number is bounded);
- a ``\\u`` escape of a surrogate that is not part of a high-low pair.

Faults that belong to a place in the document name its path, rendered by the
``describe_path`` callable given to the tokenizer (default :func:`format_path`).
"""

from __future__ import annotations

import codecs
import hashlib
import json
import json.decoder
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from ecb_files.config import Limits
from ecb_files.domain.json_paths import JsonPath as JsonPath
from ecb_files.domain.json_paths import format_path as format_path
from ecb_files.errors import InvalidRequest
from ecb_files.ingest.json_whole import Replay, read_whole


@dataclass(frozen=True, slots=True)
class JsonNumber:
    """A JSON number, kept as its source text: nothing here needs its value."""

    text: str


JsonScalar = str | JsonNumber | bool | None


class JsonEventHandler(Protocol):
    """Receives a document's events in order. An exception it raises propagates out of
    :meth:`JsonTokenizer.feed` and ends the parse, like the tokenizer's own faults."""

    def start_object(self) -> None: ...
    def end_object(self) -> None: ...
    def start_array(self) -> None: ...
    def end_array(self) -> None: ...
    def key(self, name: str) -> None: ...
    def scalar(self, value: JsonScalar) -> None: ...

    def begin_string(self) -> bool:
        """A string value starts. True: deliver it through ``string_chunk`` and
        ``end_string``; False: deliver it whole, bounded, through ``scalar``."""
        ...

    def string_chunk(self, data: bytes) -> None: ...
    def end_string(self) -> None: ...


# Keys longer than this are kept as a digest for the duplicate check.
_MAX_KEY_IN_PATH = 64

# What the tokenizer expects next, outside any token.
_ROOT = 0  # the root object (after an optional BOM and whitespace)
_VALUE = 1  # a value (after ':' or after ',' in an array)
_VALUE_OR_CLOSE = 2  # a value or ']' (just after '[')
_KEY_OR_CLOSE = 3  # a key or '}' (just after '{')
_KEY = 4  # a key (after ',' in an object)
_COLON = 5
_AFTER_VALUE = 6  # ',' or the close of the innermost container
_DONE = 7  # only whitespace may follow the root object
# Inside a token that may span chunks.
_STRING = 8  # a key or a string value being accumulated
_STREAM = 9  # a string value being streamed
_NUMBER = 10

_WHITESPACE = re.compile(rb"[ \t\r\n]*")
_NUMBER_CHARS = re.compile(rb"[-+.eE0-9]*")
_NUMBER_GRAMMAR = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?", re.ASCII)
_NUMBER_TOKEN = re.compile(rb"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
_HEX4 = re.compile(rb"[0-9A-Fa-f]{4}")
_CONTROL = re.compile(rb"[\x00-\x1f]")
_CONTROL_BYTES = tuple(range(0x20))
_BOM = b"\xef\xbb\xbf"

_QUOTE = 0x22
_NUMBER_START = frozenset(b"-0123456789")
_NUMBER_BYTES = frozenset(b"-+.eE0123456789")
_LITERALS: dict[int, tuple[bytes, bool | None]] = {
    ord("t"): (b"true", True),
    ord("f"): (b"false", False),
    ord("n"): (b"null", None),
}
_SIMPLE_ESCAPES = {
    ord('"'): '"',
    ord("\\"): "\\",
    ord("/"): "/",
    ord("b"): "\b",
    ord("f"): "\f",
    ord("n"): "\n",
    ord("r"): "\r",
    ord("t"): "\t",
}

# The C string scanner of the json module: (source, index after the opening quote,
# strict) -> (text, index after the closing quote). Not in typeshed; stable since 2.6.
_scan_json_string: Callable[[str, int, bool], tuple[str, int]] = json.decoder.scanstring  # type: ignore[attr-defined]
# A high-surrogate escape ending a run: its low half may be in the next chunk.
_TRAILING_HIGH_SURROGATE = re.compile(rb"\\u[dD][89abAB][0-9a-fA-F]{2}\Z")


def _first_control(run: bytes) -> int:
    """Index of the first byte below 0x20 in ``run``, or -1."""
    # A long run is checked with 32 memchr scans (several GB/s); re is ~0.3 GB/s.
    if len(run) > 512 and not any(control in run for control in _CONTROL_BYTES):
        return -1
    match = _CONTROL.search(run)
    return -1 if match is None else match.start()


_WHITESPACE_BYTES = frozenset(b" \t\r\n")


def _skip_whitespace(data: bytes, pos: int) -> int:
    match = _WHITESPACE.match(data, pos)
    return pos if match is None else match.end()


def _show_byte(byte: int) -> str:
    if 0x21 <= byte <= 0x7E:
        return repr(chr(byte))
    return f"byte 0x{byte:02X}"


class JsonTokenizer:
    """The state machine. Use :meth:`feed` for every chunk, then :meth:`finish`.

    After it raises, the tokenizer is in an undefined state and must not be fed again.
    """

    def __init__(
        self,
        handler: JsonEventHandler,
        limits: Limits,
        *,
        describe_path: Callable[[JsonPath], str] = format_path,
        handler_checks_streamed_bytes: bool = False,
    ) -> None:
        self._handler = handler
        # A handler that validates every byte of a streamed string itself (the base64
        # decoder accepts only its alphabet and whitespace) spares the hot loop the scan
        # for raw control characters; raw line breaks then reach it as whitespace.
        self._skip_stream_control_scan = handler_checks_streamed_bytes
        self._limits = limits
        self._max_depth = limits.max_json_depth
        self._max_chars = limits.max_string_chars
        self._max_members = limits.max_object_members
        self._max_values = limits.max_json_values
        self._describe = describe_path
        self._state = _ROOT
        self._pending = b""  # the unconsumed tail of the last chunk: a few bytes at most
        self._base = 0  # body offset of the first byte of the buffer being read
        # One entry per open container: is it an object, the current key or index, and
        # an object's keys (long ones as a digest, so that memory stays bounded).
        self._is_object: list[bool] = []
        self._path: list[str | int] = []
        self._keys: list[set[str | bytes]] = []
        # The string being read.
        self._string_is_key = False
        self._parts: list[str] = []
        self._chars = 0
        self._high_surrogate = -1
        self._high_surrogate_at = 0
        self._utf8 = codecs.getincrementaldecoder("utf-8")()
        self._utf8_partial = False
        self._values = 0
        # The number being read.
        self._number: list[bytes] = []
        self._number_chars = 0
        self._number_at = 0

    def feed(self, chunk: bytes) -> None:
        if not chunk:
            return
        if self._state == _ROOT and self._base == 0 and not self._pending:
            members = read_whole(chunk, self._limits, JsonNumber)
            if members is not None:  # the whole document, small: see json_whole
                Replay(self._handler, self._max_chars, self._non_streamed_too_long).object(members)
                self._state = _DONE
                self._base = len(chunk)
                return
        data = self._pending + chunk if self._pending else chunk
        consumed = self._run(data)
        self._pending = data[consumed:]
        self._base += consumed

    def finish(self) -> None:
        """The body has ended: refuse it unless it held one complete JSON object."""
        if self._state == _DONE:
            return
        if self._state == _ROOT and not self._pending:
            raise InvalidRequest(
                "the request body is empty; a JSON object is required", reason="empty_body"
            )
        raise InvalidRequest("body ended before the JSON was complete", reason="truncated_json")

    # -- errors ---------------------------------------------------------------------------

    def _malformed(self, at: int, what: str) -> InvalidRequest:
        return InvalidRequest(f"malformed JSON at byte {at}: {what}", reason="malformed_json")

    def _at_path(self, path: JsonPath, what: str, reason: str) -> InvalidRequest:
        return InvalidRequest(f"{self._describe(path)}: {what}", reason=reason)

    def _string_path(self) -> tuple[JsonPath, str]:
        """Where the current string is, and what to call it in a message."""
        if self._string_is_key:
            return tuple(self._path[:-1]), "an object key"
        return tuple(self._path), "the string"

    def _too_long(self, path: JsonPath, what: str) -> InvalidRequest:
        return self._at_path(
            path,
            f"{what} is longer than maxStringChars {self._max_chars} characters",
            "string_too_long",
        )

    def _non_streamed_too_long(self, path: JsonPath) -> InvalidRequest:
        return self._too_long(path, "the string")

    def _lone_surrogate(self, at: int) -> InvalidRequest:
        path, what = self._string_path()
        return self._at_path(
            path,
            f"{what} has a lone UTF-16 surrogate escape at byte {at} "
            "(a \\uD800-\\uDBFF escape must be followed by a \\uDC00-\\uDFFF one)",
            "lone_surrogate",
        )

    # -- the structural loop --------------------------------------------------------------

    def _run(self, data: bytes) -> int:
        """Consume ``data`` as far as possible; return how many bytes were used."""
        n = len(data)
        pos = 0
        while True:
            state = self._state
            if state >= _STRING:
                pos = self._number_token(data, pos) if state == _NUMBER else self._string(data, pos)
                if self._state == state:
                    return pos  # the token goes on in the next chunk
                continue
            if pos < n and data[pos] in _WHITESPACE_BYTES:
                pos = _skip_whitespace(data, pos)
            if pos >= n:
                return n
            byte = data[pos]
            if state == _AFTER_VALUE:
                pos = self._after_value(byte, pos)
            elif state == _COLON:
                if byte != 0x3A:
                    raise self._malformed(
                        self._base + pos,
                        f"expected ':' after an object key, got {_show_byte(byte)}",
                    )
                self._state = _VALUE
                pos += 1
            elif state in (_KEY_OR_CLOSE, _KEY):
                if byte == _QUOTE:
                    self._begin_key()
                    pos += 1
                elif byte == 0x7D and state == _KEY_OR_CLOSE:
                    self._close(is_object=True)
                    pos += 1
                else:
                    expected = "'\"' or '}'" if state == _KEY_OR_CLOSE else "'\"' (a key)"
                    raise self._malformed(
                        self._base + pos, f"expected {expected}, got {_show_byte(byte)}"
                    )
            elif state == _DONE:
                raise self._malformed(
                    self._base + pos, "unexpected data after the end of the JSON object"
                )
            elif state == _VALUE_OR_CLOSE and byte == 0x5D:
                self._close(is_object=False)
                pos += 1
            elif state == _ROOT:
                if byte == _BOM[0] and self._base + pos == 0:
                    if n - pos < len(_BOM) and _BOM.startswith(data[pos:]):
                        return pos
                    if data.startswith(_BOM, pos):
                        pos += len(_BOM)
                        continue
                if byte != 0x7B:
                    raise self._malformed(
                        self._base + pos,
                        "the body must be a JSON object starting with '{', got " + _show_byte(byte),
                    )
                self._open(pos, is_object=True)
                pos += 1
            else:
                after = self._value(data, pos, byte)
                if after < 0:
                    return pos  # a literal cut by the end of the chunk
                pos = after

    def _after_value(self, byte: int, pos: int) -> int:
        is_object = self._is_object[-1]
        if byte == 0x2C:
            self._state = _KEY if is_object else _VALUE
        elif byte == (0x7D if is_object else 0x5D):
            self._close(is_object=is_object)
        else:
            expected = "',' or '}'" if is_object else "',' or ']'"
            raise self._malformed(self._base + pos, f"expected {expected}, got {_show_byte(byte)}")
        return pos + 1

    def _value(self, data: bytes, pos: int, byte: int) -> int:
        """Start the value at ``pos``; return where reading goes on, or -1 to wait."""
        if not self._is_object[-1]:
            index = self._path[-1]
            assert isinstance(index, int)
            self._path[-1] = index + 1
        self._values += 1
        if self._values > self._max_values:
            raise self._at_path(
                tuple(self._path),
                f"the document has more than maxJsonValues {self._max_values} values",
                "too_many_values",
            )
        if byte == _QUOTE:
            self._begin_string(is_key=False)
            self._state = _STREAM if self._handler.begin_string() else _STRING
            return pos + 1
        if byte == 0x7B or byte == 0x5B:
            self._open(pos, is_object=byte == 0x7B)
            return pos + 1
        if byte in _NUMBER_START:
            whole = _NUMBER_TOKEN.match(data, pos)
            if whole is not None:
                after = whole.end()
                if after < len(data) and data[after] not in _NUMBER_BYTES:
                    # The common case: the whole number is in this chunk.
                    self._check_number_length(after - pos)
                    self._state = _AFTER_VALUE
                    self._handler.scalar(JsonNumber(data[pos:after].decode("ascii")))
                    return after
            self._number = []
            self._number_chars = 0
            self._number_at = self._base + pos
            self._state = _NUMBER
            return pos
        literal = _LITERALS.get(byte)
        if literal is None:
            raise self._malformed(self._base + pos, f"expected a value, got {_show_byte(byte)}")
        word, value = literal
        seen = data[pos : pos + len(word)]
        if not word.startswith(seen):
            raise self._malformed(self._base + pos, f"invalid literal (expected {word.decode()})")
        if len(seen) < len(word):
            # Undo the steps: the value is read again with the next chunk.
            self._values -= 1
            if not self._is_object[-1]:
                index = self._path[-1]
                assert isinstance(index, int)
                self._path[-1] = index - 1
            return -1
        self._handler.scalar(value)
        self._state = _AFTER_VALUE
        return pos + len(word)

    def _open(self, pos: int, *, is_object: bool) -> None:
        if len(self._is_object) >= self._max_depth:
            raise self._at_path(
                tuple(self._path),
                f"JSON nested deeper than maxJsonDepth {self._max_depth} levels",
                "json_too_deep",
            )
        self._is_object.append(is_object)
        if is_object:
            self._path.append("")
            self._keys.append(set())
            self._state = _KEY_OR_CLOSE
            self._handler.start_object()
        else:
            self._path.append(-1)
            self._state = _VALUE_OR_CLOSE
            self._handler.start_array()

    def _close(self, *, is_object: bool) -> None:
        self._is_object.pop()
        self._path.pop()
        if is_object:
            self._keys.pop()
        self._state = _AFTER_VALUE if self._is_object else _DONE
        if is_object:
            self._handler.end_object()
        else:
            self._handler.end_array()

    def _check_number_length(self, length: int) -> None:
        if length > self._max_chars:
            raise self._at_path(
                tuple(self._path),
                f"a number longer than maxStringChars {self._max_chars} characters",
                "string_too_long",
            )

    def _number_token(self, data: bytes, pos: int) -> int:
        match = _NUMBER_CHARS.match(data, pos)
        end = pos if match is None else match.end()
        if end > pos:
            self._number.append(data[pos:end])
            self._number_chars += end - pos
            self._check_number_length(self._number_chars)
        if end == len(data):
            return end  # the number may go on in the next chunk
        text = b"".join(self._number).decode("ascii")
        if _NUMBER_GRAMMAR.fullmatch(text) is None:
            raise self._malformed(self._number_at, f"invalid number {text[:40]!r}")
        self._state = _AFTER_VALUE
        self._handler.scalar(JsonNumber(text))
        return end

    # -- strings --------------------------------------------------------------------------

    def _begin_key(self) -> None:
        if len(self._keys[-1]) >= self._max_members:
            raise self._at_path(
                tuple(self._path[:-1]),
                f"an object with more than maxObjectMembers {self._max_members} members",
                "too_many_members",
            )
        self._begin_string(is_key=True)
        self._state = _STRING

    def _begin_string(self, *, is_key: bool) -> None:
        self._string_is_key = is_key
        self._parts = []
        self._chars = 0
        self._high_surrogate = -1

    def _string(self, data: bytes, pos: int) -> int:
        """Read string content from ``pos``; return where reading stopped."""
        if self._state == _STRING and not self._parts and not self._utf8_partial:
            # Most keys and values: plain ASCII up to a closing quote in this chunk.
            quote = data.find(b'"', pos)
            run = data[pos:quote] if 0 <= quote - pos <= self._max_chars else b"\\"
            if run.isascii() and b"\\" not in run and _CONTROL.search(run) is None:
                self._parts.append(run.decode("ascii"))
                self._end_string(quote)
                return quote + 1
        n = len(data)
        bulk = True
        while pos < n:
            quote = data.find(b'"', pos)
            end = n if quote < 0 else quote
            slash = data.find(b"\\", pos, end)
            if slash < 0:
                if end > pos:
                    self._raw(data, pos, end)
                if quote < 0:
                    return n
                self._end_string(quote)
                return quote + 1
            if bulk and self._high_surrogate < 0 and not self._utf8_partial:
                # Leave an escape that the end of the chunk may have cut, and a high
                # surrogate whose low half may follow, to the escape-by-escape path.
                last = data.rfind(b"\\", max(slash, end - 5), end)
                cut = end if last < 0 else last
                if _TRAILING_HIGH_SURROGATE.search(data, max(slash, cut - 6), cut):
                    cut -= 6
                if cut > slash and self._bulk(data, pos, cut):
                    pos = cut
                    continue
                bulk = False  # not in this chunk: a retry at every escape would be quadratic
            if slash > pos:
                self._raw(data, pos, slash)
            after = self._escape(data, slash)
            if after < 0:
                return slash  # an escape cut by the end of the chunk
            pos = after
        return n

    def _bulk(self, data: bytes, start: int, end: int) -> bool:
        """Resolve ``data[start:end]``, a run with escapes, in C; False if refused.

        A refused run (invalid UTF-8, a control character, a bad escape, a lone
        surrogate) is then read escape by escape, which says what is wrong and where.
        """
        run = data[start:end]
        try:
            source = run.decode("ascii") if run.isascii() else run.decode("utf-8")
            text, _ = _scan_json_string(source + '"', 0, True)
            # Lone surrogates survive the scanner; they cannot be encoded.
            encoded = text.encode("utf-8")
        except ValueError:
            return False
        if self._state == _STREAM:
            self._handler.string_chunk(encoded)
        else:
            self._append(text)
        return True

    def _raw(self, data: bytes, start: int, end: int) -> None:
        """Take ``data[start:end]``: unescaped string bytes."""
        if self._high_surrogate >= 0:
            raise self._lone_surrogate(self._high_surrogate_at)
        if self._skip_stream_control_scan and self._state == _STREAM:
            self._take_raw(data, start, end)
            return
        control = _first_control(data[start:end])
        if control < 0:
            self._take_raw(data, start, end)
            return
        # What comes before the fault is taken first: it may hold a fault met earlier.
        self._take_raw(data, start, start + control)
        raise self._malformed(
            self._base + start + control, "unescaped control character in a string"
        )

    def _take_raw(self, data: bytes, start: int, end: int) -> None:
        """Check ``data[start:end]`` as UTF-8 and pass it on."""
        if start == end:
            return
        run = data[start:end]
        streamed = self._state == _STREAM
        if run.isascii() and not self._utf8_partial:
            if streamed:
                self._handler.string_chunk(run)
            else:
                self._append(run.decode("ascii"))
            return
        # Only whole characters are passed on: the bytes of a sequence that the chunk
        # cut are held by the decoder until the rest arrives (or proves it invalid).
        held = self._utf8.getstate()[0]
        try:
            text = self._utf8.decode(run)
        except UnicodeDecodeError as exc:
            valid = (held + run)[: exc.start]
            if valid and streamed:
                self._handler.string_chunk(valid)
            elif valid:
                self._append(valid.decode("utf-8"))
            raise self._malformed(
                self._base + start + exc.start - len(held), "invalid UTF-8"
            ) from None
        left = self._utf8.getstate()[0]
        self._utf8_partial = bool(left)
        if not streamed:
            self._append(text)
            return
        whole = held + run if held else run
        if left:
            whole = whole[: len(whole) - len(left)]
        if whole:
            self._handler.string_chunk(whole)

    def _escape(self, data: bytes, slash: int) -> int:
        """Resolve the escape at ``data[slash]``; return the index after it, or -1 if
        the chunk ends inside it."""
        if self._utf8_partial:
            raise self._malformed(self._base + slash, "invalid UTF-8 (a truncated sequence)")
        if slash + 1 >= len(data):
            return -1
        kind = data[slash + 1]
        if kind != 0x75:  # not 'u'
            char = _SIMPLE_ESCAPES.get(kind)
            if char is None:
                raise self._malformed(self._base + slash, f"invalid escape '\\{chr(kind)}'")
            if self._high_surrogate >= 0:
                raise self._lone_surrogate(self._high_surrogate_at)
            self._emit(char)
            return slash + 2
        if slash + 6 > len(data):
            if not _HEX4.fullmatch((data[slash + 2 :] + b"0000")[:4]):
                raise self._malformed(self._base + slash, "invalid \\u escape")
            return -1
        digits = data[slash + 2 : slash + 6]
        if not _HEX4.fullmatch(digits):
            raise self._malformed(self._base + slash, "invalid \\u escape")
        code = int(digits, 16)
        if 0xD800 <= code <= 0xDBFF:
            if self._high_surrogate >= 0:
                raise self._lone_surrogate(self._high_surrogate_at)
            self._high_surrogate = code
            self._high_surrogate_at = self._base + slash
            return slash + 6
        if 0xDC00 <= code <= 0xDFFF:
            if self._high_surrogate < 0:
                raise self._lone_surrogate(self._base + slash)
            code = 0x10000 + ((self._high_surrogate - 0xD800) << 10) + (code - 0xDC00)
            self._high_surrogate = -1
        elif self._high_surrogate >= 0:
            raise self._lone_surrogate(self._high_surrogate_at)
        self._emit(chr(code))
        return slash + 6

    def _emit(self, char: str) -> None:
        if self._state == _STREAM:
            self._handler.string_chunk(char.encode("utf-8"))
        else:
            self._append(char)

    def _append(self, text: str) -> None:
        self._parts.append(text)
        self._chars += len(text)
        if self._chars > self._max_chars:
            raise self._too_long(*self._string_path())

    def _end_string(self, quote: int) -> None:
        if self._high_surrogate >= 0:
            raise self._lone_surrogate(self._high_surrogate_at)
        if self._utf8_partial:
            raise self._malformed(self._base + quote, "invalid UTF-8 (a truncated sequence)")
        if self._state == _STREAM:
            self._state = _AFTER_VALUE
            self._handler.end_string()
            return
        text = "".join(self._parts)
        self._parts = []
        if not self._string_is_key:
            self._state = _AFTER_VALUE
            self._handler.scalar(text)
            return
        keys = self._keys[-1]
        # Long keys are remembered by digest so that bounded members mean bounded memory.
        token: str | bytes = text
        if len(text) > _MAX_KEY_IN_PATH:
            token = hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()
        if token in keys:
            raise self._at_path(
                (*self._path[:-1], text), "duplicate key in one object", "duplicate_key"
            )
        keys.add(token)
        self._path[-1] = text
        self._state = _COLON
        self._handler.key(text)
