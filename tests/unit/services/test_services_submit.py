"""The submit use case (``SubmitService.begin`` → ``SubmitAttempt``) against a real
database and a real local blob store: the answers of §3.2, all or nothing (§3.4), and
every rule of idempotent retries (§3.4, §9 "Idempotency keys are scoped …").

Each test drives an attempt the way the route does: ``claim`` if it holds a key, ``feed``
the batches, ``finish`` the last one, and ``abandon`` after any failure.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from tests.db_support import (
    CLIENT_ID,
    CLOSED_CASE,
    EMAIL,
    OPEN_CASE,
    OPEN_DN,
    PARTNER_TOKEN,
    UNASSIGNED_CASE,
    seed_world,
)
from tests.unit.ingest.ingest_support import b64, encode, file_entry, submission

from ecb_files.config import Limits, Settings
from ecb_files.db import models
from ecb_files.domain.endpoints import Endpoint
from ecb_files.errors import (
    ClaimIsClosed,
    ClaimNotFound,
    EcbError,
    IdempotencyKeyReused,
    InvalidRequest,
    InvalidSecurityToken,
    PayloadTooLarge,
    RequestInProgress,
    StorageFull,
    UnsupportedMediaType,
    UserNotFound,
)
from ecb_files.services.attempt import Answer
from ecb_files.services.bearer import Principal
from ecb_files.services.container import Services
from ecb_files.services.submit import SubmitAttempt

PRINCIPAL = Principal(CLIENT_ID, frozenset({"platform-service-provider:write"}), time.time() + 3600)
SMALL_FILES = Limits(max_file_bytes=1000)
# Every file goes to the blob store, even a small one that could be kept with its row
# (where the service can do that), so the store's contents show what a request left.
EVERY_FILE_TO_THE_STORE: dict[str, Any] = (
    {"small_file_bytes": 0} if "small_file_bytes" in {f.name for f in fields(Settings)} else {}
)


# --- the world ----------------------------------------------------------------------------


@pytest.fixture
def make_services(database_url: str, tmp_path: Path) -> Iterator[Callable[..., Services]]:
    """``Services`` over a fresh database (seeded with ``seed_world``) and a local store
    under ``tmp_path``; closed at the end. ``overrides`` are further ``Settings`` fields."""
    built: list[Services] = []

    def make(limits: Limits | None = None, **overrides: Any) -> Services:
        settings = Settings(
            data_dir=tmp_path / "data",
            database_url=database_url,
            limits=limits or Limits(),
            **{**EVERY_FILE_TO_THE_STORE, **overrides},
        )
        services = Services.build(settings)
        if not built:
            seed_world(services.database)
        built.append(services)
        return services

    yield make
    for services in built:
        services.close()


@pytest.fixture
def services(make_services: Callable[..., Services]) -> Services:
    return make_services()


def case_body(target: object = OPEN_CASE, **file_fields: Any) -> dict[str, Any]:
    """A body that submitForCase accepts (for OPEN_CASE); ``file_fields`` change its file."""
    entry = file_entry(b"hello, world", name="notes.txt")
    entry.update(file_fields)
    return submission(
        [entry, file_entry(b"\x89PNG...", name="photo.png", contentType="image/png")],
        securityToken=str(PARTNER_TOKEN),
        payload={"id": str(target), "userEmail": EMAIL.lower()},
    )


def raw(document: dict[str, Any]) -> bytes:
    return encode(document)


def in_batches(body: bytes, size: int) -> list[bytes]:
    return [body[i : i + size] for i in range(0, len(body), size)] or [b""]


def drive(
    services: Services,
    body: bytes | Sequence[bytes],
    *,
    key: str | None = None,
    endpoint: Endpoint = Endpoint.CASE,
    boundary: str | None = None,
) -> Answer:
    """One request, as the route drives it (all but the last batch fed, the last one
    finished, ``abandon`` after any failure); ``boundary`` for a multipart body."""
    batches = in_batches(body, 64) if isinstance(body, bytes) else list(body)
    attempt = services.submit.begin(PRINCIPAL, endpoint, key, multipart_boundary=boundary)
    try:
        if attempt.holds_a_key:
            attempt.claim()
        for batch in batches[:-1]:
            attempt.feed(batch)
        return attempt.finish(batches[-1])
    except BaseException:
        attempt.abandon()
        raise


def feed_all(attempt: SubmitAttempt, batches: Sequence[bytes]) -> None:
    for batch in batches:
        attempt.feed(batch)


def refusal(services: Services, body: bytes | Sequence[bytes], **how: Any) -> EcbError:
    with pytest.raises(EcbError) as caught:
        drive(services, body, **how)
    return caught.value


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def count(services: Services, model: type[Any]) -> int:
    with services.database.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def records(services: Services) -> list[models.IdempotencyRecord]:
    with services.database.sessions() as session:
        found = list(session.scalars(select(models.IdempotencyRecord)))
        session.expunge_all()
        return found


def blob_files(services: Services) -> list[Path]:
    """Every file the store holds: published blobs and staged ones."""
    root = Path(services.settings.data_dir) / "blobs"
    return sorted(p for p in root.rglob("*") if p.is_file())


def assert_nothing_stored(services: Services) -> None:
    """§3.4 all or nothing: no row and no blob left behind."""
    assert count(services, models.StoredFile) == 0
    assert count(services, models.Submission) == 0
    assert blob_files(services) == []


def envelope(answer: Answer) -> dict[str, Any]:
    return json.loads(answer.body)  # type: ignore[no-any-return]


# --- without a key ------------------------------------------------------------------------


def test_a_valid_submission_is_stored_and_answered_200(services: Services) -> None:
    """§3.2 step 4 and §3.3: 200 with the files in request order, their size and
    SHA-256; the rows and the blobs are there."""
    answer = drive(services, raw(case_body()))
    assert answer.status == 200
    assert not answer.replayed
    files = envelope(answer)["payload"]["files"]
    assert [(f["fileName"], f["size"], f["sha256"]) for f in files] == [
        ("notes.txt", 12, sha256(b"hello, world")),
        ("photo.png", 7, sha256(b"\x89PNG...")),
    ]
    assert count(services, models.StoredFile) == 2
    assert len(blob_files(services)) == 2
    assert records(services) == []


def test_without_a_key_there_is_nothing_to_claim(services: Services) -> None:
    """§3.4: the key is optional; an attempt without one does no idempotency work."""
    attempt = services.submit.begin(PRINCIPAL, Endpoint.CASE, None)
    assert not attempt.holds_a_key
    attempt.claim()
    answer = attempt.finish(raw(case_body()))
    assert answer.status == 200
    assert records(services) == []


def test_without_a_key_a_fault_mid_body_is_raised_at_once(services: Services) -> None:
    """§3.2 step 2: malformed JSON → 400 InvalidRequest when its bytes are fed, not at
    the end of the body; nothing of the request remains."""
    attempt = services.submit.begin(PRINCIPAL, Endpoint.CASE, None)
    good = raw(case_body())
    attempt.feed(good[:40])
    with pytest.raises(InvalidRequest):
        attempt.feed(b"}}}" + good[40:200])
    attempt.abandon()
    assert_nothing_stored(services)


def test_without_a_key_a_file_over_max_file_bytes_is_refused_at_once(
    make_services: Callable[..., Services],
) -> None:
    """§3.2 step 2: a file whose decoded size passes max_file_bytes → 413 at once."""
    services = make_services(SMALL_FILES)
    body = raw(case_body(content=b64(b"x" * 5000)))
    attempt = services.submit.begin(PRINCIPAL, Endpoint.CASE, None)
    with pytest.raises(PayloadTooLarge):
        feed_all(attempt, in_batches(body, 512))
    attempt.abandon()
    assert_nothing_stored(services)


STEP_3_REFUSALS = [
    pytest.param({"securityToken": "00000000-0000-4000-8000-0000000000ff"}, InvalidSecurityToken,
                 id="3.1-security-token"),
    pytest.param({"payload": {"userEmail": "nobody@example.com"}}, UserNotFound, id="3.2-user"),
    pytest.param({"payload": {"id": str(UNASSIGNED_CASE)}}, ClaimNotFound, id="3.3-case"),
    pytest.param({"payload": {"id": str(CLOSED_CASE)}}, ClaimIsClosed, id="3.4-closed"),
    pytest.param({"file": {"fileName": "run.exe"}}, UnsupportedMediaType, id="3.5-file-type"),
]  # fmt: skip


def refused_body(change: dict[str, Any]) -> bytes:
    body = case_body(**change.get("file", {}))
    body["payload"].update(change.get("payload", {}))
    if "securityToken" in change:
        body["securityToken"] = change["securityToken"]
    return raw(body)


@pytest.mark.parametrize(("change", "expected"), STEP_3_REFUSALS)
def test_without_a_key_a_step_3_refusal_leaves_nothing(
    services: Services, change: dict[str, Any], expected: type[EcbError]
) -> None:
    """§3.2 step 3 and §3.4 all or nothing: the refusal is raised by ``finish``, and no
    row and no blob (staged or published) remains."""
    error = refusal(services, refused_body(change))
    assert type(error) is expected
    assert_nothing_stored(services)
    assert records(services) == []


# --- a 200 with a key ---------------------------------------------------------------------


def test_a_200_is_remembered_with_the_files(services: Services) -> None:
    """§3.4: the answer is remembered with the SHA-256 of the whole body; the submission
    carries the key."""
    body = raw(case_body())
    answer = drive(services, body, key="k-200")
    [record] = records(services)
    assert (record.state, record.status_code) == ("done", 200)
    assert record.response_body is not None
    assert record.response_body.encode() == answer.body
    assert record.request_sha256 == sha256(body)
    assert (record.client_id, record.endpoint, record.key) == (
        CLIENT_ID,
        Endpoint.CASE.value,
        "k-200",
    )
    with services.database.sessions() as session:
        assert session.scalars(select(models.Submission.idempotency_key)).all() == ["k-200"]


def test_the_remembered_200_is_committed_in_the_same_transaction_as_the_files(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """§3.4 "committed in the same transaction as the files it reports": if remembering
    fails, the files are not committed either, and the key is let go."""

    def broken(*_args: Any) -> None:
        raise RuntimeError("the answer could not be written")

    monkeypatch.setattr(services.idempotency, "remember_in", broken)
    with pytest.raises(RuntimeError):
        drive(services, raw(case_body()), key="k-atomic")
    assert_nothing_stored(services)
    assert records(services) == []


def test_a_retry_of_the_same_body_replays_the_200(services: Services) -> None:
    """§3.4: same client, endpoint, key and body → the first answer, marked replayed,
    and nothing new stored."""
    body = raw(case_body())
    first = drive(services, body, key="k-replay")
    stored = blob_files(services)
    again = drive(services, in_batches(body, 7), key="k-replay")  # cut differently
    assert again == Answer(first.status, first.body, replayed=True)
    assert count(services, models.StoredFile) == 2
    assert count(services, models.Submission) == 1
    assert blob_files(services) == stored


def test_a_replay_is_not_parsed(services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    """§3.4: a retry's body is only hashed and compared: no blob is even staged."""
    body = raw(case_body())
    drive(services, body, key="k-unparsed")
    staged: list[object] = []
    real_stage = services.store.stage

    def counting_stage() -> Any:
        blob = real_stage()
        staged.append(blob)
        return blob

    monkeypatch.setattr(services.store, "stage", counting_stage)
    assert drive(services, body, key="k-unparsed").replayed
    assert staged == []


def test_a_retry_with_another_body_is_refused_as_key_reused(services: Services) -> None:
    """§3.4: same key, different body → 422 IdempotencyKeyReused; the first answer stays
    remembered and nothing new is stored."""
    body = raw(case_body())
    first = drive(services, body, key="k-reused")
    other = raw(case_body(description="another body"))
    error = refusal(services, other, key="k-reused")
    assert isinstance(error, IdempotencyKeyReused)
    assert error.status == 422
    assert count(services, models.StoredFile) == 2
    [record] = records(services)
    assert record.request_sha256 == sha256(body)
    # The refused retry did not let the key go: the first body still replays.
    assert drive(services, body, key="k-reused") == Answer(200, first.body, replayed=True)


def test_a_quoted_key_is_the_same_key_as_the_bare_one(services: Services) -> None:
    """§3.4: the key bare or as a quoted string (IETF Idempotency-Key draft)."""
    body = raw(case_body())
    first = drive(services, body, key='"k-quoted"')
    assert drive(services, body, key="k-quoted") == Answer(200, first.body, replayed=True)


def test_keys_are_scoped_per_endpoint(services: Services) -> None:
    """§9: keys are scoped per (client, endpoint): the same key on the other endpoint is
    a new request, neither a replay nor a reuse."""
    drive(services, raw(case_body()), key="k-scope")
    dn_body = case_body()
    dn_body["payload"]["id"] = str(OPEN_DN)
    answer = drive(services, raw(dn_body), key="k-scope", endpoint=Endpoint.DAMAGE_NOTIFICATION)
    assert answer.status == 200
    assert not answer.replayed
    assert len(records(services)) == 2


# --- refusals with a key ------------------------------------------------------------------


@pytest.mark.parametrize(("change", "expected"), STEP_3_REFUSALS)
def test_a_step_3_refusal_is_remembered_and_replayed(
    services: Services, change: dict[str, Any], expected: type[EcbError]
) -> None:
    """§3.4 and §9: 4xx answers are remembered; a retry of the same body gets the same
    status and body again, replayed; nothing is stored either time."""
    body = refused_body(change)
    error = refusal(services, body, key="k-4xx")
    assert type(error) is expected
    [record] = records(services)
    assert (record.state, record.status_code) == ("done", error.status)
    assert record.request_sha256 == sha256(body)
    again = drive(services, body, key="k-4xx")
    assert again == Answer(error.status, error.envelope(), replayed=True)
    assert_nothing_stored(services)


def test_a_fault_mid_body_is_kept_until_the_whole_body_is_hashed(services: Services) -> None:
    """§3.4: with a key, a 400 met mid-body is not raised by ``feed``; the rest of the
    body is still taken (and hashed), then ``finish`` raises it and it is remembered with
    the SHA-256 of the whole body."""
    good = raw(case_body())
    body = good[:40] + b"}}}" + good[40:]
    batches = in_batches(body, 32)
    attempt = services.submit.begin(PRINCIPAL, Endpoint.CASE, "k-mid-400")
    attempt.claim()
    for batch in batches[:-1]:
        attempt.feed(batch)  # the fault is in the second batch: nothing raised
    with pytest.raises(InvalidRequest) as caught:
        attempt.finish(batches[-1])
    attempt.abandon()  # as the route does after any failure: the answer stays
    [record] = records(services)
    assert (record.state, record.status_code) == ("done", 400)
    assert record.request_sha256 == sha256(body)
    assert record.response_body == caught.value.envelope().decode()
    assert drive(services, body, key="k-mid-400") == Answer(
        400, caught.value.envelope(), replayed=True
    )
    assert_nothing_stored(services)


def test_a_mid_body_400_retried_with_another_body_is_key_reused(services: Services) -> None:
    """§3.4: the remembered 400 is tied to its body like a 200 is."""
    good = raw(case_body())
    refusal(services, good[:40] + b"}}}" + good[40:], key="k-400-other")
    error = refusal(services, good, key="k-400-other")
    assert isinstance(error, IdempotencyKeyReused)
    assert_nothing_stored(services)


@pytest.mark.parametrize(
    ("limits", "body"),
    [
        pytest.param(SMALL_FILES, raw(case_body(content=b64(b"x" * 5000))), id="max-file-bytes"),
        pytest.param(Limits(max_request_bytes=300), raw(case_body()), id="max-request-bytes"),
    ],
)
def test_a_413_is_raised_at_once_and_lets_the_key_go(
    make_services: Callable[..., Services], limits: Limits, body: bytes
) -> None:
    """§3.4 and §9: a 413 is not remembered, even with a key: it is raised by the ``feed``
    that passes the limit, ``abandon`` lets the key go, and a retry is served as new."""
    services = make_services(limits)
    batches = in_batches(body, 128)
    attempt = services.submit.begin(PRINCIPAL, Endpoint.CASE, "k-413")
    attempt.claim()
    with pytest.raises(PayloadTooLarge):
        feed_all(attempt, batches)
    attempt.abandon()
    assert records(services) == []
    assert_nothing_stored(services)
    roomy = make_services()
    assert drive(roomy, raw(case_body()), key="k-413").status == 200


def test_an_abandoned_request_lets_the_key_go(services: Services) -> None:
    """§3.4 and §9: a request cut off mid-body (408 idle, a dropped connection) is
    abandoned: its staged blobs are removed, its key is let go, a retry is served as new."""
    body = raw(case_body())
    attempt = services.submit.begin(PRINCIPAL, Endpoint.CASE, "k-408")
    attempt.claim()
    attempt.feed(body[: len(body) - 10])  # well into the second file
    assert blob_files(services) != []  # staged
    attempt.abandon()
    attempt.abandon()  # safe twice
    assert records(services) == []
    assert_nothing_stored(services)
    assert not drive(services, body, key="k-408").replayed


def test_a_5xx_is_not_remembered(services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    """§3.4 "5xx answers are not remembered": a full disk (507) while writing is raised
    at once, nothing remains, and the key is let go."""
    real_stage = services.store.stage

    class FullDisk:
        def __init__(self) -> None:
            self.blob = real_stage()

        def write(self, _data: bytes) -> None:
            raise StorageFull("local storage is full: could not write a blob")

        def __getattr__(self, name: str) -> Any:
            return getattr(self.blob, name)

    monkeypatch.setattr(services.store, "stage", FullDisk)
    error = refusal(services, raw(case_body()), key="k-507")
    assert isinstance(error, StorageFull)
    assert error.status == 507
    assert records(services) == []
    assert_nothing_stored(services)


def test_a_refusal_that_cannot_be_remembered_lets_the_key_go(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """§3.4: if the answer cannot be stored, the refusal is still the answer and the key
    is let go, so a retry is served as new rather than refused as in progress."""

    def broken(*_args: Any) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(services.idempotency, "remember", broken)
    body = refused_body({"payload": {"id": str(CLOSED_CASE)}})
    assert isinstance(refusal(services, body, key="k-unremembered"), ClaimIsClosed)
    assert records(services) == []


# --- in flight ----------------------------------------------------------------------------


def test_a_second_request_while_the_first_is_in_flight_is_refused(services: Services) -> None:
    """§3.4: while the first is in flight → 409 RequestInProgress, from ``claim``."""
    first = services.submit.begin(PRINCIPAL, Endpoint.CASE, "k-busy")
    first.claim()
    second = services.submit.begin(PRINCIPAL, Endpoint.CASE, "k-busy")
    with pytest.raises(RequestInProgress) as caught:
        second.claim()
    assert caught.value.status == 409
    second.abandon()
    first.abandon()


def hold_and_refuse_a_duplicate(services: Services, key: str, body: bytes) -> SubmitAttempt:
    """A first request holding ``key`` mid-body, and a duplicate refused with 409 and
    then abandoned, as the route abandons every failed request."""
    first = services.submit.begin(PRINCIPAL, Endpoint.CASE, key)
    first.claim()
    first.feed(body[:100])
    duplicate = services.submit.begin(PRINCIPAL, Endpoint.CASE, key)
    with pytest.raises(RequestInProgress):
        duplicate.claim()
    duplicate.abandon()
    return first


def test_a_refused_duplicate_does_not_free_the_key_of_the_request_in_flight(
    services: Services,
) -> None:
    """§3.4 "while the first is still in flight → 409": abandoning the 409'd duplicate
    must not let go of the key the first request (same process) still holds, so a third
    retry is still 409."""
    first = hold_and_refuse_a_duplicate(services, "k-dup", raw(case_body()))
    third = services.submit.begin(PRINCIPAL, Endpoint.CASE, "k-dup")
    try:
        with pytest.raises(RequestInProgress):
            third.claim()
    finally:
        third.abandon()
        first.abandon()


def test_a_refused_duplicate_does_not_lose_the_answer_of_the_request_in_flight(
    services: Services,
) -> None:
    """§3.4: after a 409'd duplicate, the first request's 200 is still remembered, so a
    later retry replays it instead of storing the files a second time."""
    body = raw(case_body())
    first = hold_and_refuse_a_duplicate(services, "k-dup-answer", body)
    answer = first.finish(body[100:])
    assert answer.status == 200
    assert drive(services, body, key="k-dup-answer").replayed
    assert count(services, models.Submission) == 1


def test_the_key_is_free_again_after_the_first_request_ends(services: Services) -> None:
    """§3.4: a request is in flight until it ends; then its answer is remembered."""
    body = raw(case_body())
    first = services.submit.begin(PRINCIPAL, Endpoint.CASE, "k-then")
    first.claim()
    answer = first.finish(body)
    assert drive(services, body, key="k-then") == replace(answer, replayed=True)


# --- the header ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        pytest.param("", id="empty"),
        pytest.param("   ", id="blank"),
        pytest.param('""', id="empty-quoted"),
        pytest.param("k" * 256, id="256-chars"),
        pytest.param("a key", id="space"),
        pytest.param("schlüssel", id="non-ascii"),
        pytest.param("k\x7f", id="del"),
        pytest.param("k\x01", id="control"),
    ],
)
def test_a_malformed_key_is_refused_by_begin(services: Services, header: str) -> None:
    """§9: an empty, over-long or non-visible-ASCII key → 400 InvalidRequest, before any
    of the body is read and before anything is claimed."""
    with pytest.raises(InvalidRequest) as caught:
        services.submit.begin(PRINCIPAL, Endpoint.CASE, header)
    assert "Idempotency-Key" in caught.value.description
    assert records(services) == []


@pytest.mark.parametrize("header", ["k", "k" * 255, "!~", '"quoted"'])
def test_a_well_formed_key_is_held(services: Services, header: str) -> None:
    """§3.4: 1–255 visible ASCII characters, bare or quoted."""
    attempt: SubmitAttempt = services.submit.begin(PRINCIPAL, Endpoint.CASE, header)
    assert attempt.holds_a_key
    attempt.claim()
    [record] = records(services)
    assert record.key == header.strip('"')
    assert record.state == "in_flight"
    attempt.abandon()
    assert records(services) == []


# --- small files: kept with their rows (§8 ECB_FILES_SMALL_FILE_BYTES) ---------------------

SMALL_FILE_BYTES = 64 * 1024
UNKNOWN_CASE = "00000000-0000-4000-8000-0000000000cf"
FUTURE_TIMEOUT = 30.0


@pytest.fixture
def small_services(make_services: Callable[..., Services]) -> Services:
    """``Services`` that keep files up to ``SMALL_FILE_BYTES`` with their rows."""
    return make_services(small_file_bytes=SMALL_FILE_BYTES)


def begin_in_memory(services: Services, body: bytes) -> SubmitAttempt:
    attempt = services.submit.begin(PRINCIPAL, Endpoint.CASE, None, len(body))
    assert attempt.in_memory
    return attempt


@pytest.fixture(scope="module")
def event_loop_thread() -> Iterator[asyncio.AbstractEventLoop]:
    """An event loop running in a thread of its own, as the server's does."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield loop
    loop.call_soon_threadsafe(loop.stop)
    thread.join(FUTURE_TIMEOUT)
    loop.close()


def finish_in_memory(
    services: Services, body: bytes, loop: asyncio.AbstractEventLoop
) -> Future[Answer]:
    """One in-memory request, as the route drives it on the event loop: its answer."""
    attempt = begin_in_memory(services, body)
    batches = in_batches(body, 64)

    async def drive() -> Answer:
        for batch in batches[:-1]:
            attempt.feed(batch)
        return await attempt.finish_in_memory(batches[-1])

    return asyncio.run_coroutine_threadsafe(drive(), loop)


def small_contents(services: Services) -> dict[str, bytes]:
    """The ``small_file_contents`` rows, by blob id."""
    with services.database.sessions() as session:
        rows = session.scalars(select(models.SmallFileContent))
        return {row.blob_id: row.content for row in rows}


def stored_files(services: Services) -> dict[str, models.StoredFile]:
    """The ``files`` rows, by file name."""
    with services.database.sessions() as session:
        found = {row.file_name: row for row in session.scalars(select(models.StoredFile))}
        session.expunge_all()
        return found


@pytest.mark.parametrize("length", [1, 300, SMALL_FILE_BYTES], ids=["1", "300", "at-the-size"])
def test_a_short_body_without_a_key_is_kept_in_memory(
    small_services: Services, length: int
) -> None:
    """§8 ECB_FILES_SMALL_FILE_BYTES: a body no longer than the small-file size can only
    hold small files; without a key, it is taken in memory."""
    attempt = small_services.submit.begin(PRINCIPAL, Endpoint.CASE, None, length)
    assert attempt.in_memory
    assert not attempt.holds_a_key


@pytest.mark.parametrize(
    ("key", "length"),
    [
        pytest.param("k-small", 300, id="with-a-key"),
        pytest.param(None, SMALL_FILE_BYTES + 1, id="one-past-the-size"),
        pytest.param(None, 10 * SMALL_FILE_BYTES, id="larger"),
        pytest.param(None, None, id="unknown-length"),
    ],
)
def test_a_body_with_a_key_or_not_known_to_be_short_is_not_kept_in_memory(
    small_services: Services, key: str | None, length: int | None
) -> None:
    """§3.4 and §8: a request with an ``Idempotency-Key`` (its key must be claimed), or
    whose body may be larger than the small-file size (a larger or no Content-Length),
    takes the blocking way."""
    attempt = small_services.submit.begin(PRINCIPAL, Endpoint.CASE, key, length)
    assert not attempt.in_memory
    with pytest.raises(RuntimeError, match="in memory"):
        asyncio.run(attempt.finish_in_memory(raw(case_body())))
    attempt.abandon()


def test_an_in_memory_submission_is_answered_200_with_its_files_kept_in_the_database(
    small_services: Services, event_loop_thread: asyncio.AbstractEventLoop
) -> None:
    """§3.3 and §8: the future's answer is the 200 with the files; the file rows and
    their contents are in the database, and nothing is in the blob store."""
    future = finish_in_memory(small_services, raw(case_body()), event_loop_thread)
    answer = future.result(timeout=FUTURE_TIMEOUT)
    assert answer.status == 200
    assert not answer.replayed
    files = envelope(answer)["payload"]["files"]
    assert [(f["fileName"], f["size"], f["sha256"]) for f in files] == [
        ("notes.txt", 12, sha256(b"hello, world")),
        ("photo.png", 7, sha256(b"\x89PNG...")),
    ]
    rows = stored_files(small_services)
    assert {name: str(row.id) for name, row in rows.items()} == {
        f["fileName"]: f["id"] for f in files
    }
    assert small_contents(small_services) == {
        rows["notes.txt"].blob_id: b"hello, world",
        rows["photo.png"].blob_id: b"\x89PNG...",
    }
    assert count(small_services, models.Submission) == 1
    assert blob_files(small_services) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param({"payload": {"id": UNKNOWN_CASE}}, ClaimNotFound, id="3.3-unknown-case"),
        pytest.param(
            {"securityToken": "00000000-0000-4000-8000-0000000000ff"},
            InvalidSecurityToken,
            id="3.1-security-token",
        ),
        pytest.param({"payload": {"id": str(CLOSED_CASE)}}, ClaimIsClosed, id="3.4-closed"),
    ],
)
def test_an_in_memory_refusal_is_raised_and_stores_nothing(
    small_services: Services,
    change: dict[str, Any],
    expected: type[EcbError],
    event_loop_thread: asyncio.AbstractEventLoop,
) -> None:
    """§3.2 step 3 and §3.4 all or nothing: the refusal is raised once the commit
    thread has checked; no row, no small-file content and no blob remain."""
    future = finish_in_memory(small_services, refused_body(change), event_loop_thread)
    error = future.exception(timeout=FUTURE_TIMEOUT)
    assert type(error) is expected
    assert_nothing_stored(small_services)
    assert small_contents(small_services) == {}


def test_in_memory_submissions_committed_together_each_meet_their_own_outcome(
    small_services: Services, event_loop_thread: asyncio.AbstractEventLoop
) -> None:
    """§3.4 all or nothing, per request: submissions that share one commit are each
    answered for themselves — the refused one stores nothing, the others are stored."""
    # Hold the commit thread so that every submission below queues for one batch.
    committer = small_services.submit._acceptance._commits
    holding, release = threading.Event(), threading.Event()

    def hold(_unit: object) -> bool:
        holding.set()
        return release.wait(FUTURE_TIMEOUT)

    held = committer.submit(hold)
    assert holding.wait(FUTURE_TIMEOUT)
    bodies = [
        raw(case_body(fileName="first.txt")),
        refused_body({"payload": {"id": UNKNOWN_CASE}}),
        raw(case_body(fileName="third.txt")),
        raw(case_body(fileName="fourth.txt")),
    ]
    try:
        futures = [finish_in_memory(small_services, body, event_loop_thread) for body in bodies]
        deadline = time.monotonic() + FUTURE_TIMEOUT
        while len(committer._pending) < len(bodies) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(committer._pending) == len(bodies)  # all in the next batch
        assert not any(f.done() for f in futures)
    finally:
        release.set()
    assert held.result(timeout=FUTURE_TIMEOUT)
    assert isinstance(futures[1].exception(timeout=FUTURE_TIMEOUT), ClaimNotFound)
    answers = [futures[i].result(timeout=FUTURE_TIMEOUT) for i in (0, 2, 3)]
    assert [a.status for a in answers] == [200, 200, 200]
    assert [envelope(a)["payload"]["files"][0]["fileName"] for a in answers] == [
        "first.txt",
        "third.txt",
        "fourth.txt",
    ]
    assert count(small_services, models.Submission) == 3
    assert count(small_services, models.StoredFile) == 6
    assert len(small_contents(small_services)) == 6
    assert blob_files(small_services) == []


def test_a_file_above_the_small_size_goes_to_the_blob_store(
    make_services: Callable[..., Services],
) -> None:
    """§8 ECB_FILES_SMALL_FILE_BYTES and §3.4 exact bytes: a file larger than the small
    size is published in the blob store (and has no content row), read back unchanged;
    a small file of the same request stays with its row."""
    services = make_services(small_file_bytes=64)
    large = bytes(range(256)) * 4
    body = case_body(content=b64(large))  # notes.txt: 1,024 bytes; photo.png: 7 bytes
    attempt = services.submit.begin(PRINCIPAL, Endpoint.CASE, None, len(raw(body)))
    assert not attempt.in_memory
    answer = attempt.finish(raw(body))
    assert answer.status == 200
    rows = stored_files(services)
    assert rows["notes.txt"].size == len(large)
    local = services.store.inner  # the metrics' timed store wraps the local one
    assert blob_files(services) == [local.blob_path(rows["notes.txt"].blob_id)]
    with services.store.open(rows["notes.txt"].blob_id) as stored:
        assert stored.read() == large
    assert small_contents(services) == {rows["photo.png"].blob_id: b"\x89PNG..."}


def test_a_body_whose_files_pass_the_request_budget_is_not_taken_in_memory(
    make_services: Callable[..., Services],
) -> None:
    """§8: ECB_FILES_SMALL_FILE_BYTES takes any whole number; with one above the
    per-request memory budget (1 MiB), a body longer than the budget is not taken in
    memory (its files may spill to the blob store), and is still a 200 with every file
    stored (§3.3)."""
    services = make_services(small_file_bytes=2 * 1024 * 1024)
    part = b"z" * (600 * 1024)
    document = case_body(content=b64(part))
    # The second file is named photo.png: it starts as one (§12.1).
    document["payload"]["files"][1]["content"] = b64(b"\x89PNG" + part)
    body = raw(document)
    attempt = services.submit.begin(PRINCIPAL, Endpoint.CASE, None, len(body))
    assert not attempt.in_memory
    answer = drive(services, body)
    assert answer.status == 200
    assert count(services, models.StoredFile) == 2


# --- the binary form (§10.1) --------------------------------------------------------------


def multipart_case_body(boundary: str, photo: bytes = b"\x89PNG...") -> bytes:
    """``case_body()`` in the binary form: the same files, their bytes in parts."""
    document = case_body()
    for entry, part in zip(document["payload"]["files"], ("notes", "photo"), strict=True):
        del entry["content"]
        entry["part"] = part

    def part(name: str, data: bytes, content_type: str) -> bytes:
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n'
        return f"{head}Content-Type: {content_type}\r\n\r\n".encode() + data + b"\r\n"

    return (
        part("submission", raw(document), "application/json")
        + part("notes", b"hello, world", "text/plain")
        + part("photo", photo, "image/png")
        + f"--{boundary}--\r\n".encode()
    )


def test_a_binary_submission_is_stored_like_the_json_one(services: Services) -> None:
    """§10.1: the same answer, rows and blobs as the JSON form of the same files."""
    answer = drive(services, multipart_case_body("b-1"), boundary="b-1")
    files = envelope(answer)["payload"]["files"]
    assert [(f["fileName"], f["size"], f["sha256"]) for f in files] == [
        ("notes.txt", 12, sha256(b"hello, world")),
        ("photo.png", 7, sha256(b"\x89PNG...")),
    ]
    assert count(services, models.StoredFile) == 2
    assert len(blob_files(services)) == 2


def test_a_binary_retry_with_a_new_boundary_replays(services: Services) -> None:
    """§3.4 with §10.1: the boundary is not part of what a retry is compared on."""
    first = drive(
        services, multipart_case_body("first-boundary"), key="k-mp", boundary="first-boundary"
    )
    again = drive(services, multipart_case_body("second-one"), key="k-mp", boundary="second-one")
    assert again == Answer(first.status, first.body, replayed=True)
    assert count(services, models.StoredFile) == 2


def test_a_binary_retry_with_other_bytes_is_key_reused(services: Services) -> None:
    drive(services, multipart_case_body("b-2"), key="k-mp2", boundary="b-2")
    error = refusal(
        services, multipart_case_body("b-2", photo=b"other"), key="k-mp2", boundary="b-2"
    )
    assert isinstance(error, IdempotencyKeyReused)


def test_a_binary_fault_leaves_nothing(services: Services) -> None:
    """§3.4: a part named by no file refuses the request; nothing stays."""
    body = multipart_case_body("b-3").replace(b'name="photo"', b'name="stray"')
    error = refusal(services, body, boundary="b-3")
    assert error.status == 400
    assert "part 2 ('stray')" in error.description
    assert_nothing_stored(services)
