"""Playwright driving Debian's Chromium (no browser download): the page as a claims
handler's browser shows it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.functional.ui.conftest import PASSWORD

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="needs Debian's Chromium (.ci/run installs it)"
)


@contextmanager
def chromium() -> Iterator[Browser]:
    assert CHROMIUM is not None
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            yield browser
        finally:
            browser.close()


class RecordedContext:
    """A browser context that notes every URL any of its pages asks for."""

    def __init__(self, browser: Browser, **options: Any) -> None:
        self.context: BrowserContext = browser.new_context(accept_downloads=True, **options)
        self.requested: list[str] = []
        self.context.on("request", lambda request: self.requested.append(request.url))

    def page(self) -> Page:
        return self.context.new_page()

    def close(self) -> None:
        self.context.close()

    def asked_only(self, base_url: str) -> bool:
        """Whether every request went to ``base_url``'s origin, and there were some."""
        origin = base_url + "/"
        return bool(self.requested) and all(url.startswith(origin) for url in self.requested)


def sign_in(page: Page, base_url: str, email: str, password: str = PASSWORD) -> None:
    page.goto(f"{base_url}/ui/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def has_no_sideways_scroll(page: Page) -> bool:
    return bool(
        page.evaluate(
            "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        )
    )
