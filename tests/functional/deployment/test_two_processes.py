"""Two server processes of one deployment share every state (§6, §2, §3.4)."""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.functional.conftest import PHOTO, Api, assert_error, file_entry, secret_token, submission
from tests.functional.server import ServerProcess
from tests.functional.tokens import assertion_form, vendor_style_assertion
from tests.functional.world import World


@pytest.fixture(scope="module")
def pair(
    tmp_path_factory: pytest.TempPathFactory, world: World
) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    """Two processes on two ports, one database and one storage, one public URL."""
    tmp: Path = tmp_path_factory.mktemp("pair")
    first = ServerProcess(tmp / "a")
    first.cli("load", str(world.write_fixture(tmp / "fixture.json")))
    # Behind one load balancer, both answer as the same issuer.
    second = ServerProcess(
        tmp / "b",
        {"ECB_FILES_PUBLIC_URL": first.url, "ECB_FILES_DATA_DIR": str(tmp / "a")},
        deployment=first.deployment,
    )
    first.start()
    second.start()
    yield first, second
    second.stop()
    first.stop()


def test_assertion_used_at_one_process_is_refused_at_the_other(
    pair: tuple[ServerProcess, ServerProcess], world: World
) -> None:
    """§2: jti replay refusal holds across all server processes."""
    first, second = pair
    assertion = vendor_style_assertion(
        first, "jwt-client", world.cert_key.private_pem, world.cert_key.x5t
    )
    accepted = httpx.post(f"{first.url}/connect/token", data=assertion_form(assertion))
    replayed = httpx.post(f"{second.url}/connect/token", data=assertion_form(assertion))
    assert accepted.status_code == 200, accepted.text
    assert replayed.status_code == 401
    assert replayed.json()["error"] == "invalid_client"


def test_token_from_one_process_is_accepted_by_the_other(
    pair: tuple[ServerProcess, ServerProcess], world: World
) -> None:
    """§6: one signing key for the deployment, kept in the database."""
    first, second = pair
    token = secret_token(first, "secret-client", world.secret)
    response = Api(second, token).case(submission(world, world.open_case, [file_entry()]))
    assert response.status_code == 200, response.text


def test_idempotent_retry_sent_to_the_other_process_replays_the_first_answer(
    pair: tuple[ServerProcess, ServerProcess], world: World
) -> None:
    """§3.4/§6: idempotency records live in the database."""
    first, second = pair
    token = secret_token(first, "secret-client", world.secret)
    body = submission(world, world.open_case, [file_entry("retry.jpg", PHOTO + b"retried")])
    key = {"Idempotency-Key": f"pair-{uuid.uuid4()}"}
    original = Api(first, token).case(body, headers=key)
    retried = Api(second, token).case(body, headers=key)
    assert original.status_code == 200, original.text
    assert retried.headers.get("idempotent-replayed") == "true"
    assert retried.content == original.content


def test_concurrent_submissions_to_both_all_land_exactly_once(
    pair: tuple[ServerProcess, ServerProcess], world: World
) -> None:
    """§3.4/§6: 40 submissions (some retried on the other process) store 20 files once each."""
    first, second = pair
    token = secret_token(first, "secret-client", world.secret)
    marker = uuid.uuid4().hex[:8]
    results: list[int] = []
    lock = threading.Lock()

    def send(i: int, server: ServerProcess) -> None:
        name = f"c-{marker}-{i}.jpg"
        body = submission(world, world.open_case, [file_entry(name, PHOTO + name.encode())])
        response = Api(server, token).case(body, headers={"Idempotency-Key": f"{marker}-{i}"})
        with lock:
            results.append(response.status_code)

    threads = [
        threading.Thread(target=send, args=(i % 20, server))
        for i in range(40)
        for server in ([first] if i < 20 else [second])
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # A retry racing its original gets 409 (in flight) or the replay (200): never a copy.
    assert set(results) <= {200, 409}
    stored = [f["fileName"] for f in Api(first, token).files(case=world.open_case)]
    mine = sorted(n for n in stored if n.startswith(f"c-{marker}-"))
    assert mine == sorted(f"c-{marker}-{i}.jpg" for i in range(20))


def test_case_closed_through_the_cli_is_closed_for_both_at_once(
    pair: tuple[ServerProcess, ServerProcess], world: World
) -> None:
    """§5/§6: no process caches case state."""
    first, second = pair
    # The other partner's open case: both processes take files, then refuse them at once.
    other_token = secret_token(first, "other-client", world.secret)
    other_body = submission(
        world,
        world.unassigned_case,
        [file_entry()],
        securityToken=world.other_security_token,
        userEmail="other@example.com",
    )
    for server in (first, second):
        assert Api(server, other_token).case(other_body).status_code == 200
    first.cli("case", "close", world.unassigned_case)
    try:
        for server in (first, second):
            assert_error(Api(server, other_token).case(other_body), 400, "ClaimIsClosed")
    finally:
        first.cli("case", "reopen", world.unassigned_case)


def test_a_file_sent_to_one_process_is_read_through_the_other(
    pair: tuple[ServerProcess, ServerProcess], world: World
) -> None:
    """§11.2/§6: records and bytes come from the shared database and store, whichever
    process took the upload."""
    first, second = pair
    token = secret_token(first, "secret-client", world.secret)
    content = PHOTO + bytes(range(256)) * 400  # larger than the small-file size: in the store
    sent = Api(first, token).case(
        submission(world, world.open_case, [file_entry("shared.jpg", content)])
    )
    assert sent.status_code == 200, sent.text
    file_id = sent.json()["payload"]["files"][0]["id"]
    insurer = {"Authorization": f"Bearer {secret_token(second, 'insurer-client', world.secret)}"}
    api = "/ecx/host/api/integration/v1"
    record = httpx.get(f"{second.url}{api}/file/{file_id}", headers=insurer)
    read = httpx.get(f"{second.url}{api}/file/{file_id}/content", headers=insurer)
    assert record.status_code == 200, record.text
    assert record.json()["payload"]["sha256"] == sent.json()["payload"]["files"][0]["sha256"]
    assert read.status_code == 200
    assert read.content == content


def _sign_in(client: httpx.Client, email: str, password: str) -> httpx.Response:
    form = client.get("/ui/sign-in")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None, form.text
    return client.post(
        "/ui/sign-in", data={"csrf_token": token.group(1), "email": email, "password": password}
    )


def test_a_page_session_from_one_process_is_valid_and_ended_at_the_other(
    pair: tuple[ServerProcess, ServerProcess], world: World
) -> None:
    """§11.3/§6: sessions live in the database: signed in at one process, a claims
    handler browses at the other, and signing out there ends the session everywhere."""
    first, second = pair
    with httpx.Client(base_url=first.url, timeout=60) as at_first:
        assert _sign_in(at_first, world.handler_email, world.secret).status_code == 303
        cookies = dict(at_first.cookies)
    with httpx.Client(base_url=second.url, cookies=cookies, timeout=60) as at_second:
        home = at_second.get("/ui/")
        assert home.status_code == 200, home.text
        token = re.search(r'name="csrf_token" value="([^"]+)"', home.text)
        assert token is not None
        out = at_second.post("/ui/sign-out", data={"csrf_token": token.group(1)})
        assert out.status_code == 303
    after = httpx.get(f"{first.url}/ui/", cookies=cookies)
    assert after.status_code == 303
    assert after.headers["location"] == "/ui/sign-in"


def test_failed_sign_ins_at_both_processes_count_toward_one_lockout(
    pair: tuple[ServerProcess, ServerProcess],
) -> None:
    """§11.3/§6: five failures for one address within 15 minutes lock it, wherever each
    was made."""
    first, second = pair
    email = f"someone-{uuid.uuid4().hex[:8]}@company.example"
    statuses = []
    for attempt in range(5):
        server = first if attempt % 2 == 0 else second
        with httpx.Client(base_url=server.url, timeout=60) as client:
            statuses.append(_sign_in(client, email, "wrong password").status_code)
    assert statuses == [401] * 4 + [429]
