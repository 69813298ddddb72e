"""The streaming ingest core: push-style, no I/O of its own (§3.1, §3.2, §6).

Feed a submit request body in chunks to :class:`SubmissionParser`; it tokenizes the JSON
(:mod:`~ecb_files.ingest.json_events`), decodes each file's base64 content as it streams
(:mod:`~ecb_files.ingest.base64_stream`), and measures, hashes and writes it to a
:class:`BlobSink` in one pass (:mod:`~ecb_files.ingest.content`).

Multipart bodies (§10) are read part by part by :class:`MultipartReader`
(:mod:`~ecb_files.ingest.multipart`), which hands each part's bytes on as they arrive;
:class:`MultipartSubmissionParser` reads the binary submit body of §10.1 with it. Both
forms parse into a :class:`ParsedSubmission` (:mod:`~ecb_files.ingest.parsed`).
"""

from ecb_files.ingest.base64_stream import Base64Error, Base64StreamDecoder
from ecb_files.ingest.content import ContentFindings, FileContent
from ecb_files.ingest.json_events import (
    JsonEventHandler,
    JsonNumber,
    JsonPath,
    JsonScalar,
    JsonTokenizer,
    format_path,
)
from ecb_files.ingest.multipart import (
    BoundaryFreeSha256,
    MultipartReader,
    PartHandler,
    PartHeaders,
    parse_multipart_content_type,
)
from ecb_files.ingest.multipart_submission import MultipartSubmissionParser
from ecb_files.ingest.parsed import ParsedFile, ParsedSubmission, SubmissionBody
from ecb_files.ingest.sink import BlobSink, ContentScan, HeldScanner, Scanner, Scanners
from ecb_files.ingest.submission import SubmissionParser

__all__ = [
    "Base64Error",
    "Base64StreamDecoder",
    "BlobSink",
    "BoundaryFreeSha256",
    "ContentFindings",
    "ContentScan",
    "FileContent",
    "HeldScanner",
    "JsonEventHandler",
    "JsonNumber",
    "JsonPath",
    "JsonScalar",
    "JsonTokenizer",
    "MultipartReader",
    "MultipartSubmissionParser",
    "ParsedFile",
    "ParsedSubmission",
    "PartHandler",
    "PartHeaders",
    "Scanner",
    "Scanners",
    "SubmissionBody",
    "SubmissionParser",
    "format_path",
    "parse_multipart_content_type",
]
