"""Signing in and posting the page's forms over plain HTTP, as a browser would."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token_in(html: str) -> str:
    found = _CSRF.search(html)
    assert found is not None, "the page has no CSRF field"
    return found.group(1)


def sign_in(client: httpx.Client, email: str, password: str) -> httpx.Response:
    """Open the sign-in form, then send it; the answer is not followed."""
    form = client.get("/ui/sign-in")
    assert form.status_code == 200, form.text
    return client.post(
        "/ui/sign-in",
        data={"csrf_token": csrf_token_in(form.text), "email": email, "password": password},
    )


@contextmanager
def signed_in_client(base_url: str, email: str, password: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=60) as client:
        answer = sign_in(client, email, password)
        assert answer.status_code == 303, answer.text
        yield client
