"""Binary submissions (§10.1) with the SDK against a real server: which form goes out
(auto by the server's limits, or forced), what is stored, retries after a cut
connection, and the server's refusals as typed errors."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest

from client_support import CuttingProxy, LimitsProxy, named, stored_files
from conftest import FAST_RETRY
from ecb_files_client import (
    AsyncSubmitClient,
    ClaimIsClosed,
    ClaimNotFound,
    ClientCredentials,
    DamageNotificationMergedToClaim,
    LocalValidationError,
    ProgressListener,
    RetryPolicy,
    SubmitClient,
    SubmitResult,
    TokenCache,
    Transfer,
    Upload,
    UploadInfo,
)

MIB = 1024 * 1024
SUBMIT_PATH = "/ecx/host/api/integration/v1/file/submitFor"


def _unique(name: str) -> str:
    stem, _, ext = name.rpartition(".")
    return f"{stem}-{uuid.uuid4().hex[:8]}.{ext}"


class Recorder:
    """The Content-Type and Idempotency-Key of every submission the clients sent."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self.clients: list[httpx.Client] = []

    def http(self) -> httpx.Client:
        """An HTTP client that records here (closed by the fixture, not the SDK)."""
        http = httpx.Client(event_hooks={"request": [self]}, timeout=120)
        self.clients.append(http)
        return http

    def __call__(self, request: httpx.Request) -> None:
        if request.url.path.startswith(SUBMIT_PATH):
            self.sent.append(
                (request.headers["content-type"].split(";")[0], request.headers["idempotency-key"])
            )

    @property
    def forms(self) -> list[str]:
        return [form for form, _ in self.sent]


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    recording = Recorder()
    yield recording
    for http in recording.clients:
        http.close()


def _client(
    server: Any,
    world: Any,
    credentials: ClientCredentials,
    recorder: Recorder,
    *,
    via: str | None = None,
    transfer: Transfer = "auto",
    retry: RetryPolicy = FAST_RETRY,
) -> SubmitClient:
    """A client of ``server``, sending its requests to ``via`` (a proxy) if given."""
    # Tokens straight from the server: a proxy stands only in front of the API.
    direct = ClientCredentials(credentials.client_id, credentials.auth, issuer=server.url)
    return SubmitClient(
        via or server.url,
        direct,
        security_token=world.security_token,
        retry=retry,
        token_cache=TokenCache(),
        transfer=transfer,
        http=recorder.http(),
    )


def _submit(client: SubmitClient, world: Any, files: list[Any], **kwargs: Any) -> SubmitResult:
    with client:
        return client.submit_to_case(
            world.open_case,
            insurance_company_alias="company",
            user_email=world.email,
            files=files,
            **kwargs,
        )


def test_forced_multipart_stores_every_kind_of_file_with_its_metadata(
    server: Any, world: Any, jwt_credentials: ClientCredentials, recorder: Recorder, tmp_path: Path
) -> None:
    photo = tmp_path / _unique("Schäden ø.JPG")  # a name only filename* carries faithfully
    photo.write_bytes(b"\xff\xd8\xff\xe0" + os.urandom(3 * MIB - 3))  # a JPEG (§12.1)
    names = [photo.name, _unique("notes.txt"), _unique("report.pdf")]
    client = _client(server, world, jwt_credentials, recorder, transfer="multipart")
    result = _submit(
        client,
        world,
        [
            photo,
            Upload(b"some notes", file_name=names[1], description="kitchen, ø", is_restricted=True),
            Upload(io.BytesIO(b"%PDF-1.7 report"), file_name=names[2]),
        ],
    )
    assert recorder.forms == ["multipart/form-data"]
    assert [f.file_name for f in result.files] == names
    assert [f.size for f in result.files] == [3 * MIB + 1, 10, 15]
    assert result.files[0].sha256 == hashlib.sha256(photo.read_bytes()).hexdigest()
    assert result.all_sha256_match
    records = {
        r["fileName"]: r for r in named(stored_files(server, case=world.open_case), set(names))
    }
    assert records[names[0]]["contentType"] == "image/jpeg"
    assert records[names[0]]["sha256"] == result.files[0].sha256
    assert records[names[1]]["description"] == "kitchen, ø"
    assert records[names[1]]["isRestricted"] is True
    assert records[names[2]]["contentType"] == "application/pdf"


def test_forced_multipart_to_a_damage_notification_marks_damage_images(
    server: Any, world: Any, jwt_credentials: ClientCredentials, recorder: Recorder
) -> None:
    name = _unique("dent.png")
    with _client(server, world, jwt_credentials, recorder, transfer="multipart") as client:
        client.submit_to_damage_notification(
            world.open_dn,
            insurance_company_alias="company",
            user_email=world.email,
            files=[Upload(b"\x89PNG\r\n\x1a\n....", file_name=name, is_damage_image=True)],
        )
    assert recorder.forms == ["multipart/form-data"]
    [record] = named(stored_files(server, dn=world.open_dn), {name})
    assert record["isDamageImage"] is True


@pytest.mark.parametrize(
    ("advertised", "expected"), [(True, "multipart/form-data"), (False, "application/json")]
)
def test_auto_follows_what_the_servers_limits_say(
    server: Any,
    world: Any,
    jwt_credentials: ClientCredentials,
    recorder: Recorder,
    advertised: bool,
    expected: str,
) -> None:
    """A server whose limits lack "multipart" (an older one) gets JSON; one that says
    "multipart": true gets the binary form. The lookup is made once per client."""

    def edit(limits: dict[str, Any]) -> dict[str, Any]:
        limits.pop("multipart", None)
        return {**limits, "multipart": True} if advertised else limits

    names = [_unique("a.txt"), _unique("b.txt")]
    with LimitsProxy(server.port, edit) as proxy:
        with _client(server, world, jwt_credentials, recorder, via=proxy.url) as client:
            for name in names:
                client.submit_to_case(
                    world.open_case,
                    insurance_company_alias="company",
                    user_email=world.email,
                    files=[Upload(b"hello", file_name=name)],
                )
        assert proxy.limits_answered == 1
    assert recorder.forms == [expected, expected]
    assert len(named(stored_files(server, case=world.open_case), set(names))) == 2


def test_auto_against_this_server_matches_its_limits(
    server: Any, world: Any, jwt_credentials: ClientCredentials, recorder: Recorder
) -> None:
    client = _client(server, world, jwt_credentials, recorder)
    multipart = (
        httpx.get(f"{server.url}/ecx/host/api/integration/v1/file/limits").json().get("multipart")
    )
    _submit(client, world, [Upload(b"hello", file_name=_unique("c.txt"))])
    assert recorder.forms == ["multipart/form-data" if multipart else "application/json"]


def test_forced_json_is_sent_as_json_whatever_the_server_takes(
    server: Any, world: Any, jwt_credentials: ClientCredentials, recorder: Recorder
) -> None:
    with LimitsProxy(server.port, lambda limits: {**limits, "multipart": True}) as proxy:
        client = _client(server, world, jwt_credentials, recorder, via=proxy.url, transfer="json")
        result = _submit(client, world, [Upload(b"hello", file_name=_unique("d.txt"))])
        # A call may choose otherwise than its client.
        client = _client(server, world, jwt_credentials, recorder, via=proxy.url, transfer="json")
        _submit(client, world, [Upload(b"hi", file_name=_unique("e.txt"))], transfer="multipart")
    assert result.all_sha256_match
    assert recorder.forms == ["application/json", "multipart/form-data"]


RETRY = RetryPolicy(max_attempts=6, initial_delay=0.2, max_delay=1.0)


def test_a_multipart_body_cut_midway_is_sent_again_with_the_same_key_and_stored_once(
    server: Any, world: Any, jwt_credentials: ClientCredentials, recorder: Recorder, tmp_path: Path
) -> None:
    files = [tmp_path / _unique(f"cut-{i}.bin.dat") for i in range(2)]
    for path in files:
        path.write_bytes(os.urandom(6 * MIB))
    with CuttingProxy(server.port, mode="request", after_bytes=5 * MIB) as proxy:
        client = _client(
            server,
            world,
            jwt_credentials,
            recorder,
            via=proxy.url,
            transfer="multipart",
            retry=RETRY,
        )
        result = _submit(client, world, files)
    assert proxy.cuts_done == 1
    assert result.attempts >= 2
    assert not result.replayed
    assert result.all_sha256_match
    assert {form for form, _ in recorder.sent} == {"multipart/form-data"}
    assert {key for _, key in recorder.sent} == {result.idempotency_key}
    stored = named(stored_files(server, case=world.open_case), {p.name for p in files})
    assert sorted(r["fileName"] for r in stored) == sorted(p.name for p in files)


def test_a_multipart_answer_lost_after_storing_is_replayed_not_stored_again(
    server: Any, world: Any, jwt_credentials: ClientCredentials, recorder: Recorder, tmp_path: Path
) -> None:
    """The retry's body is byte-identical (same boundary, same announced SHA-256), so
    the server answers it from its idempotency memory."""
    path = tmp_path / _unique("lost.bin.dat")
    path.write_bytes(os.urandom(2 * MIB))
    with CuttingProxy(server.port, mode="response", after_bytes=MIB) as proxy:
        client = _client(
            server,
            world,
            jwt_credentials,
            recorder,
            via=proxy.url,
            transfer="multipart",
            retry=RETRY,
        )
        result = _submit(client, world, [path])
    assert proxy.cuts_done == 1
    assert result.attempts == 2
    assert result.replayed
    assert len(recorder.sent) == 2
    assert len({key for _, key in recorder.sent}) == 1
    assert len(named(stored_files(server, case=world.open_case), {path.name})) == 1


def test_the_async_client_sends_multipart_too(
    server: Any, world: Any, jwt_credentials: ClientCredentials, tmp_path: Path
) -> None:
    paths = [tmp_path / _unique(f"async-{i}.bin.dat") for i in range(2)]
    for path in paths:
        path.write_bytes(os.urandom(2 * MIB))

    async def submit() -> SubmitResult:
        async with AsyncSubmitClient(
            server.url,
            jwt_credentials,
            security_token=world.security_token,
            token_cache=TokenCache(),
            transfer="multipart",
        ) as client:
            return await client.submit_to_case(
                world.open_case,
                insurance_company_alias="company",
                user_email=world.email,
                files=paths,
            )

    result = asyncio.run(submit())
    assert result.all_sha256_match
    assert len(named(stored_files(server, case=world.open_case), {p.name for p in paths})) == 2


def test_the_servers_refusals_of_a_multipart_submission_are_typed(
    server: Any, world: Any, jwt_credentials: ClientCredentials, recorder: Recorder
) -> None:
    client = _client(server, world, jwt_credentials, recorder, transfer="multipart")
    files = [Upload(b"hello", file_name=_unique("f.txt"))]
    with client:
        common = {"insurance_company_alias": "company", "user_email": world.email, "files": files}
        with pytest.raises(ClaimNotFound) as missing:
            client.submit_to_case(world.unassigned_case, **common)
        with pytest.raises(ClaimIsClosed):
            client.submit_to_case(world.closed_case, **common)
        with pytest.raises(DamageNotificationMergedToClaim) as merged:
            client.submit_to_damage_notification(world.merged_dn, **common)
    assert missing.value.status == 404
    assert missing.value.attempts == 1
    assert merged.value.case_id == world.open_case
    assert set(recorder.forms) == {"multipart/form-data"}


def test_local_checks_hold_for_multipart_as_for_json(
    small_server: Any, world: Any, jwt_credentials: ClientCredentials, recorder: Recorder
) -> None:
    """The small server's 1000-byte file limit refuses before a byte is sent."""
    client = _client(small_server, world, jwt_credentials, recorder, transfer="multipart")
    with pytest.raises(LocalValidationError) as refused:
        _submit(client, world, [Upload(b"x" * 1001, file_name="big.txt")])
    assert refused.value.status == 413
    assert "maxFileBytes 1000" in refused.value.description
    assert recorder.sent == []


class Events(ProgressListener):
    def __init__(self) -> None:
        self.log: list[tuple[str, Any]] = []
        self.sent: dict[int, int] = {}

    def reading_ahead(self, files: Sequence[UploadInfo]) -> None:
        self.log.append(("reading_ahead", [f.file_name for f in files]))

    def attempt_started(
        self, attempt: int, files: Sequence[UploadInfo], body_bytes: int | None
    ) -> None:
        self.log.append(("attempt", (attempt, [f.size for f in files], body_bytes)))

    def advance(self, index: int, nbytes: int) -> None:
        self.sent[index] = self.sent.get(index, 0) + nbytes

    def file_done(self, index: int) -> None:
        self.log.append(("file_done", index))

    def body_sent(self) -> None:
        self.log.append(("body_sent", None))


def test_progress_is_told_the_same_story_in_the_binary_form(
    server: Any, world: Any, jwt_credentials: ClientCredentials, recorder: Recorder, tmp_path: Path
) -> None:
    """The files read ahead to hash them, then raw file bytes per file, each file done
    in order, the body sent once; the body's size is the Content-Length that went out."""
    path = tmp_path / _unique("progress.bin.dat")
    path.write_bytes(os.urandom(2 * MIB + 5))
    names = [path.name, _unique("p.txt")]
    events = Events()
    lengths: list[int] = []
    http = recorder.http()
    http.event_hooks["request"].append(
        lambda request: (
            lengths.append(int(request.headers["content-length"]))
            if request.url.path.startswith(SUBMIT_PATH)
            else None
        )
    )
    direct = ClientCredentials("jwt-client", jwt_credentials.auth, issuer=server.url)
    with SubmitClient(
        server.url,
        direct,
        security_token=world.security_token,
        token_cache=TokenCache(),
        transfer="multipart",
        http=http,
    ) as client:
        client.submit_to_case(
            world.open_case,
            insurance_company_alias="company",
            user_email=world.email,
            files=[path, Upload(b"abc", file_name=names[1])],
            progress=events,
        )
    assert events.log == [
        ("reading_ahead", [path.name, names[1]]),
        ("attempt", (1, [2 * MIB + 5, 3], lengths[0])),
        ("file_done", 0),
        ("file_done", 1),
        ("body_sent", None),
    ]
    assert events.sent == {0: 2 * MIB + 5, 1: 3}


class Watched(io.BytesIO):
    """A seekable file object that notes how many submissions had gone out at each read
    from its start."""

    def __init__(self, data: bytes, recorder: Recorder) -> None:
        super().__init__(data)
        self.recorder = recorder
        self.reads_from_start: list[int] = []

    def read(self, size: int | None = -1, /) -> bytes:
        if self.tell() == 0:
            self.reads_from_start.append(len(self.recorder.sent))
        return super().read(size)


def test_files_are_hashed_before_the_request_opens_and_only_once(
    server: Any, world: Any, jwt_credentials: ClientCredentials, recorder: Recorder
) -> None:
    """The server cuts a body that stops arriving, so the read ahead for the announced
    SHA-256 is done before the request starts, not while it waits; a retry reuses it."""
    watched = Watched(os.urandom(3 * MIB), recorder)
    with CuttingProxy(server.port, mode="request", after_bytes=2 * MIB) as proxy:
        client = _client(
            server, world, jwt_credentials, recorder, via=proxy.url, transfer="multipart"
        )
        result = _submit(client, world, [Upload(watched, file_name=_unique("w.bin.dat"))])
    # The retry after the cut may itself find the key still held by the cut attempt
    # (the server has not noticed the cut yet) and be retried: one more attempt, same key.
    assert result.attempts >= 2
    assert len({key for _, key in recorder.sent}) == 1
    # Hashed with no request sent; then sent once per attempt, never hashed again.
    assert watched.reads_from_start == list(range(result.attempts + 1))
    assert result.all_sha256_match
