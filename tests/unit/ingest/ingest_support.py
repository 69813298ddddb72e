"""Helpers shared by the ingest tests: an in-memory sink, bodies, and feeding drivers."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ecb_files.config import Limits
from ecb_files.errors import EcbError
from ecb_files.ingest import ParsedSubmission, SubmissionBody, SubmissionParser

TOKEN = "00000000-0000-0000-0000-00000000000a"
TARGET = "11111111-1111-1111-1111-111111111111"


@dataclass
class MemorySink:
    """Keeps what is written; records seal and abort calls."""

    data: bytearray = field(default_factory=bytearray)
    sealed: bool = False
    aborts: int = 0

    def write(self, data: bytes) -> None:
        assert not self.sealed, "write after seal"
        assert not self.aborts, "write after abort"
        self.data += data

    def seal(self) -> None:
        assert not self.sealed, "sealed twice"
        self.sealed = True

    def abort(self) -> None:
        self.aborts += 1


@dataclass
class SinkFactory:
    sinks: list[MemorySink] = field(default_factory=list)

    def __call__(self) -> MemorySink:
        sink = MemorySink()
        self.sinks.append(sink)
        return sink


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def file_entry(content: bytes = b"hello", name: str = "a.txt", **extra: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"fileName": name, "contentType": "text/plain", "content": b64(content)}
    entry.update(extra)
    return entry


def submission(
    files: list[dict[str, Any]] | None = None, *, payload: dict[str, Any] | None = None, **root: Any
) -> dict[str, Any]:
    """A valid body (as a dict); ``payload``/``root`` entries override or add members."""
    body_payload: dict[str, Any] = {
        "id": TARGET,
        "insuranceCompanyAlias": "company",
        "userEmail": "company_ds@example.com",
        "files": [file_entry()] if files is None else files,
    }
    body_payload.update(payload or {})
    body: dict[str, Any] = {"securityToken": TOKEN, "payload": body_payload}
    body.update(root)
    return body


def encode(document: Any) -> bytes:
    return json.dumps(document).encode("utf-8")


def split_in_two(raw: bytes) -> Iterator[list[bytes]]:
    for cut in range(len(raw) + 1):
        yield [raw[:cut], raw[cut:]]


def one_byte_at_a_time(raw: bytes) -> list[bytes]:
    return [raw[i : i + 1] for i in range(len(raw))]


def run(
    chunks: Iterable[bytes], limits: Limits | None = None
) -> tuple[ParsedSubmission[MemorySink], SinkFactory]:
    factory = SinkFactory()
    parser = SubmissionParser(limits or Limits(), factory)
    for chunk in chunks:
        parser.feed(chunk)
    return parser.finish(), factory


def parse(raw: bytes, limits: Limits | None = None) -> ParsedSubmission[MemorySink]:
    return run([raw], limits)[0]


def failure(
    chunks: Iterable[bytes] | bytes,
    limits: Limits | None = None,
    make_parser: Callable[[Limits, SinkFactory], SubmissionBody[MemorySink]] = SubmissionParser,
) -> EcbError:
    """The error the parser raises for this body (fed whole or in the given chunks), and
    every sink it opened aborted once."""
    if isinstance(chunks, bytes):
        chunks = [chunks]
    factory = SinkFactory()
    parser = make_parser(limits or Limits(), factory)
    try:
        for chunk in chunks:
            parser.feed(chunk)
        parser.finish()
    except EcbError as exc:
        parser.abort()
        assert all(sink.aborts == 1 for sink in factory.sinks)
        return exc
    raise AssertionError("the body was accepted")


def outcome(chunks: Iterable[bytes], limits: Limits | None = None) -> object:
    """Everything observable about one parse, comparable across chunkings."""
    factory = SinkFactory()
    parser = SubmissionParser(limits or Limits(), factory)
    try:
        for chunk in chunks:
            parser.feed(chunk)
        result = parser.finish()
    except EcbError as exc:
        return ("error", type(exc).__name__, exc.description)
    files = tuple(
        (
            f.index,
            f.file_name,
            f.content_type,
            f.description,
            f.is_restricted,
            f.is_damage_image,
            f.size,
            f.sha256,
            bytes(f.blob.data),
            f.blob.sealed,
        )
        for f in result.files
    )
    return (
        result.security_token,
        result.timestamp,
        result.target_id,
        result.insurance_company_alias,
        result.user_email,
        files,
        len(factory.sinks),
    )
