"""The claims-handler page over plain HTTP (§11.3): its cookies, sessions and CSRF."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.functional.server import ServerProcess
from tests.functional.ui.conftest import (
    HANDLER_EMAIL,
    LOCKABLE_EMAIL,
    PASSWORD,
    UiWorld,
    start_ui_server,
)
from tests.functional.ui.forms import csrf_token_in, sign_in, signed_in_client
from tests.functional.world import World

SESSION_COOKIE = "ecb_ui_session"


def session_cookie_header(answer: httpx.Response) -> str:
    headers = [h for h in answer.headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE)]
    assert len(headers) == 1, answer.headers
    return headers[0]


def test_the_session_cookie_is_httponly_lax_and_not_secure_over_http(ui: UiWorld) -> None:
    with httpx.Client(base_url=ui.server.url) as client:
        answer = sign_in(client, HANDLER_EMAIL, PASSWORD)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/ui/"
    flags = [part.strip().lower() for part in session_cookie_header(answer).split(";")]
    assert "httponly" in flags
    assert "samesite=lax" in flags
    assert "secure" not in flags
    assert "path=/ui" in flags
    assert "max-age=28800" in flags  # 8 hours


def test_an_unsigned_visitor_is_sent_to_the_sign_in_page(ui: UiWorld) -> None:
    for path in ("/ui/", f"/ui/cases/{ui.world.open_case}", f"/ui/files/{ui.photo_id}/content"):
        answer = httpx.get(f"{ui.server.url}{path}")
        assert answer.status_code == 303, path
        assert answer.headers["location"] == "/ui/sign-in"


def test_a_form_without_or_with_a_wrong_csrf_token_is_refused(ui: UiWorld) -> None:
    with signed_in_client(ui.server.url, HANDLER_EMAIL, PASSWORD) as client:
        close = f"/ui/cases/{ui.world.open_case}/close"
        for data in ({}, {"csrf_token": ""}, {"csrf_token": "not-the-token"}):
            answer = client.post(close, data=data)
            assert answer.status_code == 403, data
            assert "nothing was changed" in answer.text
        case_page = client.get(f"/ui/cases/{ui.world.open_case}")
        assert "Close case" in case_page.text  # still open
        # Signing out takes the token too.
        assert client.post("/ui/sign-out", data={}).status_code == 403


def test_the_sign_in_form_needs_its_own_token(ui: UiWorld) -> None:
    with httpx.Client(base_url=ui.server.url) as client:
        answer = client.post(
            "/ui/sign-in",
            data={"csrf_token": "guessed", "email": HANDLER_EMAIL, "password": PASSWORD},
        )
    assert answer.status_code == 403
    assert SESSION_COOKIE not in answer.headers.get("set-cookie", "")


def test_sign_out_ends_the_session_for_the_old_cookie_too(ui: UiWorld) -> None:
    with signed_in_client(ui.server.url, HANDLER_EMAIL, PASSWORD) as client:
        cookie = client.cookies[SESSION_COOKIE]
        home = client.get("/ui/")
        assert home.status_code == 200
        out = client.post("/ui/sign-out", data={"csrf_token": csrf_token_in(home.text)})
        assert out.status_code == 303
    replayed = httpx.get(f"{ui.server.url}/ui/", cookies={SESSION_COOKIE: cookie})
    assert replayed.status_code == 303
    assert replayed.headers["location"] == "/ui/sign-in"


def test_a_disabled_user_cannot_sign_in(ui: UiWorld) -> None:
    with httpx.Client(base_url=ui.server.url) as client:
        answer = sign_in(client, "disabled@company.example", PASSWORD)
    assert answer.status_code == 401
    assert "do not match an account" in answer.text


@pytest.fixture(scope="module")
def short_sessions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """Sessions of two seconds (ECB_FILES_UI_SESSION_HOURS), served over an https URL."""
    env = {"ECB_FILES_UI_SESSION_HOURS": str(2 / 3600)}
    tmp: Path = tmp_path_factory.mktemp("short-sessions")
    server = start_ui_server(tmp, World(), env)
    try:
        yield server
    finally:
        server.stop()


def test_a_session_ends_after_its_configured_lifetime(short_sessions: ServerProcess) -> None:
    with signed_in_client(short_sessions.url, HANDLER_EMAIL, PASSWORD) as client:
        assert client.get("/ui/").status_code == 200
        time.sleep(2.5)
        ended = client.get("/ui/")
        assert ended.status_code == 303
        assert ended.headers["location"] == "/ui/sign-in"


def test_cookies_are_secure_when_the_public_url_is_https(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    tmp = tmp_path_factory.mktemp("https")
    server = start_ui_server(tmp, World(), {"ECB_FILES_PUBLIC_URL": "https://files.example"})
    try:
        with httpx.Client(base_url=server.url) as client:
            form = client.get("/ui/sign-in")
            assert "secure" in form.headers["set-cookie"].lower()
            answer = client.post(
                "/ui/sign-in",
                data={
                    "csrf_token": csrf_token_in(form.text),
                    "email": HANDLER_EMAIL,
                    "password": PASSWORD,
                },
                # A Secure cookie is not sent back over http: send it by hand.
                headers={"Cookie": f"ecb_ui_signin_csrf={form.cookies['ecb_ui_signin_csrf']}"},
            )
        flags = [part.strip().lower() for part in session_cookie_header(answer).split(";")]
        assert "secure" in flags
    finally:
        server.stop()


def lock_message(html: str) -> str:
    start = html.index('role="alert"')
    return html[start : html.index("</p>", start)]


@pytest.mark.parametrize("email", [LOCKABLE_EMAIL, "nobody@nowhere.example"])
def test_five_failures_lock_an_address_with_the_same_message_known_or_not(
    ui: UiWorld, email: str
) -> None:
    with httpx.Client(base_url=ui.server.url) as client:
        answers = [sign_in(client, email, "wrong password") for _ in range(5)]
        # Locked: the right password is refused too, and alike for an unknown address.
        again = sign_in(client, email, PASSWORD)
        unknown = sign_in(client, "never@nowhere.example", "wrong password")
    assert [a.status_code for a in answers] == [401] * 4 + [429]
    assert again.status_code == 429
    assert "locked for 15 minutes" in lock_message(again.text)
    assert lock_message(again.text) == lock_message(answers[-1].text)
    assert lock_message(answers[0].text) == lock_message(unknown.text)


def test_pages_allow_only_the_services_own_assets_and_are_not_cached(ui: UiWorld) -> None:
    with signed_in_client(ui.server.url, HANDLER_EMAIL, PASSWORD) as client:
        home = client.get("/ui/")
        stylesheet = client.get("/ui/static/ui.css")
        unknown = client.get("/ui/no/such/page")
        other_tenant = client.get(f"/ui/cases/{ui.world.other_tenant_case}")
    assert home.status_code == 200
    policy = home.headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'self'" in policy
    assert home.headers["cache-control"] == "no-store"
    assert stylesheet.status_code == 200
    assert stylesheet.headers["content-type"].startswith("text/css")
    # Another tenant's case is "not found", like an address that names nothing.
    for answer in (unknown, other_tenant):
        assert answer.status_code == 404
        assert answer.headers["content-type"].startswith("text/html")
        assert "Not found" in answer.text


def test_merging_a_notification_merged_elsewhere_says_so(ui: UiWorld) -> None:
    with signed_in_client(ui.server.url, HANDLER_EMAIL, PASSWORD) as client:
        page = client.get(f"/ui/damage-notifications/{ui.world.merged_dn}")
        assert "Merge into a case" not in page.text  # no form for a merged notification
        answer = client.post(
            f"/ui/damage-notifications/{ui.world.merged_dn}/merge",
            data={"csrf_token": csrf_token_in(page.text), "case_number": "CN-3"},
        )
    assert answer.status_code == 409
    assert "already been merged into another case" in answer.text
