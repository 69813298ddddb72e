"""A real S3 API over HTTP for tests: moto's standalone server, in a thread of this process.

Imported by the conftest files that need it (``tests/unit/storage``). The tests talk to
the server only through boto3 over a socket, exactly as production talks to S3. Two
things are done to the server itself, never to our code:

* moto answers every ``ListMultipartUploads`` with the same ``Initiated`` date (2010);
  real S3 reports when each upload started, which ``remove_stale_staging`` relies on,
  so the server is taught to record and report the real time;
* ``S3Sandbox.backdate_staging`` moves the server's own timestamps of incomplete
  uploads into the past, which is how "an upload abandoned an hour ago" is made without
  waiting an hour.

``refusing_s3_server`` is the other side: a plain HTTP server that answers every
request with one S3 error, for the refusals moto cannot make (a full store, a quota).
"""

from __future__ import annotations

import itertools
import logging
import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.s3.models import FakeMultipart, s3_backends
from moto.s3.responses import S3Response
from moto.server import ThreadedMotoServer

from ecb_files.storage.s3 import S3BlobStore

# Any non-empty values do: moto accepts every key. Passed explicitly, so the tests never
# read (or need) the developer's own AWS environment.
ACCESS_KEY = "ecb-files-test"
SECRET_KEY = "ecb-files-test-secret"
REGION = "us-east-1"

_UPLOAD = re.compile(r"<Upload>.*?</Upload>", re.DOTALL)
_UPLOAD_ID = re.compile(r"<UploadId>(.*?)</UploadId>")
_INITIATED = re.compile(r"<Initiated>.*?</Initiated>")
_bucket_numbers = itertools.count()


def _record_initiation_time(mp: pytest.MonkeyPatch) -> None:
    original_init = FakeMultipart.__init__
    original_list = S3Response.list_multipart_uploads

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        self.initiated = datetime.now(UTC)

    def list_uploads(self: Any) -> Any:
        status, headers, body = original_list(self)
        uploads = self.backend.list_multipart_uploads(self.bucket_name)

        def real_date(match: re.Match[str]) -> str:
            upload_id = _UPLOAD_ID.search(match.group(0))
            upload = uploads.get(upload_id.group(1)) if upload_id else None
            if upload is None:
                return match.group(0)
            stamp = upload.initiated.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
            return _INITIATED.sub(f"<Initiated>{stamp}</Initiated>", match.group(0))

        return status, headers, _UPLOAD.sub(real_date, body)

    mp.setattr(FakeMultipart, "__init__", init)
    mp.setattr(S3Response, "list_multipart_uploads", list_uploads)


@contextmanager
def running_s3_server() -> Iterator[str]:
    """A moto S3 server on a free loopback port; yields its URL, stops it afterwards."""
    with pytest.MonkeyPatch.context() as mp:
        _record_initiation_time(mp)
        # werkzeug logs every request at INFO; the tests' logs are ours.
        mp.setattr(logging.getLogger("werkzeug"), "level", logging.WARNING)
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        try:
            yield f"http://{host}:{port}"
        finally:
            server.stop()


class S3Sandbox:
    """One fresh bucket on the test server, and ways to look at it from outside."""

    def __init__(self, endpoint_url: str) -> None:
        self.endpoint_url = endpoint_url
        self.bucket = f"ecb-files-test-{next(_bucket_numbers)}"
        self.client: Any = boto3.session.Session().client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
        )
        self.client.create_bucket(Bucket=self.bucket)

    def store(self, prefix: str = "", **options: Any) -> S3BlobStore:
        return S3BlobStore(
            self.bucket,
            prefix,
            self.endpoint_url,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            **options,
        )

    def uploads(self) -> list[dict[str, Any]]:
        """The bucket's incomplete multipart uploads."""
        uploads: list[dict[str, Any]] = self.client.list_multipart_uploads(Bucket=self.bucket).get(
            "Uploads", []
        )
        return uploads

    def keys(self) -> list[str]:
        listing = self.client.list_objects_v2(Bucket=self.bucket)
        return [item["Key"] for item in listing.get("Contents", [])]

    def backdate_staging(self, seconds: float) -> None:
        """Make every incomplete upload, and each of its parts, ``seconds`` older."""
        delta = timedelta(seconds=seconds)
        backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
        for upload in backend.list_multipart_uploads(self.bucket).values():
            upload.initiated -= delta
            for part in upload.parts.values():
                part.last_modified -= delta

    def remove(self) -> None:
        for upload in self.uploads():
            self.client.abort_multipart_upload(
                Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
            )
        for key in self.keys():
            self.client.delete_object(Bucket=self.bucket, Key=key)
        self.client.delete_bucket(Bucket=self.bucket)


class _RefusingHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    status = 500
    code = "InternalError"

    def _refuse(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        body = (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{self.code}</Code>'
            f"<Message>refused by the test server</Message></Error>"
        ).encode()
        self.send_response(self.status)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _refuse

    def log_message(self, format: str, *args: Any) -> None:
        return None


@contextmanager
def refusing_s3_server(status: int, code: str) -> Iterator[str]:
    """An HTTP server on a free loopback port that answers every S3 request with the
    error ``status``/``code``, as a full or misconfigured store would; yields its URL."""
    handler = type("Handler", (_RefusingHandler,), {"status": status, "code": code})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def closed_port_url() -> str:
    """The URL of a loopback port that nothing listens on (connections are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"
