"""The claims-handler page end to end in real Chromium (§11.3)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.functional.ui.browser import (
    RecordedContext,
    chromium,
    has_no_sideways_scroll,
    needs_chromium,
    sign_in,
)
from tests.functional.ui.conftest import (
    HANDLER_EMAIL,
    PHOTO,
    REPORT_PDF,
    VIEWER_EMAIL,
    UiWorld,
)

pytestmark = needs_chromium

# Where to keep screenshots of the pages (set to look at them); unset: none are taken.
SCREENSHOTS = os.environ.get("ECB_FILES_UI_SCREENSHOTS", "")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def context(browser: Browser, ui: UiWorld) -> Iterator[RecordedContext]:
    """A browser context whose pages, whatever the test did, asked nothing of any other
    origin than the service's (no CDN, no fonts, no analytics)."""
    recorded = RecordedContext(browser)
    yield recorded
    recorded.close()
    assert recorded.asked_only(ui.server.url), recorded.requested


def snap(page: Page, name: str) -> None:
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=True)


def test_a_handler_signs_in_browses_searches_and_downloads(
    ui: UiWorld, context: RecordedContext
) -> None:
    page = context.page()
    sign_in(page, ui.server.url, HANDLER_EMAIL)
    expect(page.get_by_role("heading", name="Cases and damage notifications")).to_be_visible()
    expect(page.get_by_role("link", name="CN-1", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="CN-2", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Water damage in the kitchen")).to_be_visible()
    snap(page, "home")

    page.get_by_label("Case number or id").fill("CN-2")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("link", name="CN-2", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="CN-1", exact=True)).to_have_count(0)

    page.goto(f"{ui.server.url}/ui/?case_status=closed")
    expect(page.get_by_role("link", name="CN-2", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="CN-1", exact=True)).to_have_count(0)

    page.get_by_label("Case number or id").fill(ui.world.open_case)
    page.get_by_label("Case status").select_option("")
    page.get_by_role("button", name="Show").click()
    page.get_by_role("link", name="CN-1", exact=True).click()
    expect(page.get_by_role("heading", name="Case CN-1")).to_be_visible()
    snap(page, "case")

    photo = page.locator(".file", has_text="kitchen floor.png")
    expect(photo.get_by_text("image/png")).to_be_visible()
    expect(photo.get_by_text("Aage & Søn")).to_be_visible()
    expect(photo.get_by_text("company_ds@example.com")).to_be_visible()
    report = page.locator(".file", has_text="inspection report.pdf")
    expect(report.get_by_text("Restricted")).to_be_visible()
    thumbnail = photo.locator("img")
    thumbnail.scroll_into_view_if_needed()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=thumbnail.element_handle()
    )

    with page.expect_download() as download_info:
        photo.get_by_role("link", name="Download kitchen floor.png").click()
    download = download_info.value
    assert download.suggested_filename == "kitchen floor.png"
    assert Path(download.path()).read_bytes() == PHOTO

    with page.expect_download() as download_info:
        report.get_by_role("link", name="Download inspection report.pdf").click()
    assert Path(download_info.value.path()).read_bytes() == REPORT_PDF

    photo.get_by_role("link", name="Preview kitchen floor.png").first.click()
    preview = page.get_by_role("img", name="kitchen floor.png")
    expect(preview).to_be_visible()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=preview.element_handle()
    )

    # (The context fixture checks that every request stayed on the service's origin.)


def test_download_all_is_one_zip_of_the_cases_files(ui: UiWorld, context: RecordedContext) -> None:
    import io
    import zipfile

    page = context.page()
    sign_in(page, ui.server.url, HANDLER_EMAIL)
    page.goto(f"{ui.server.url}/ui/cases/{ui.world.open_case}")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download all (ZIP)").click()
    archive = zipfile.ZipFile(io.BytesIO(Path(download_info.value.path()).read_bytes()))
    contents = {name: archive.read(name) for name in archive.namelist()}
    assert PHOTO in contents.values()
    assert REPORT_PDF in contents.values()


def test_a_damage_notification_shows_its_fnol_and_merges_into_a_case_by_number(
    ui: UiWorld, context: RecordedContext
) -> None:
    page = context.page()
    sign_in(page, ui.server.url, HANDLER_EMAIL)
    page.goto(f"{ui.server.url}/ui/damage-notifications/{ui.fnol_dn}")
    fnol = page.locator("dl.fnol").first
    for label, value in (
        ("Date of incident", "2026-11-28"),
        ("Policy number", "POL-778"),
        ("Postal code", "8000"),
        ("Phone", "+45 12 34 56 78"),
    ):
        expect(
            fnol.locator("div", has=page.locator(f"dt:text-is('{label}')")).first
        ).to_contain_text(value)
    expect(page.locator(".file", has_text="sink.png")).to_be_visible()
    snap(page, "damage-notification")

    page.get_by_label("Case number").fill("NO-SUCH-CASE")
    page.get_by_role("button", name="Merge").click()
    expect(page.get_by_role("alert")).to_contain_text("no case with the number")

    page.get_by_label("Case number").fill("CN-1")
    page.get_by_role("button", name="Merge").click()
    expect(page.get_by_role("heading", name="Case CN-1")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("merged")
    expect(page.locator(".file", has_text="sink.png").get_by_text("Damage image")).to_be_visible()


def test_a_handler_closes_and_reopens_a_case(ui: UiWorld, context: RecordedContext) -> None:
    page = context.page()
    sign_in(page, ui.server.url, HANDLER_EMAIL)
    page.goto(f"{ui.server.url}/ui/cases/{ui.world.unassigned_case}")
    page.get_by_role("button", name="Close case").click()
    expect(page.get_by_role("heading", name="Case CN-3")).to_contain_text("Closed")
    page.get_by_role("button", name="Reopen case").click()
    expect(page.get_by_role("heading", name="Case CN-3")).to_contain_text("Open")


def test_a_viewer_reads_but_is_offered_no_action(ui: UiWorld, context: RecordedContext) -> None:
    page = context.page()
    sign_in(page, ui.server.url, VIEWER_EMAIL)
    page.goto(f"{ui.server.url}/ui/cases/{ui.world.open_case}")
    expect(page.get_by_role("heading", name="Case CN-1")).to_be_visible()
    expect(page.get_by_role("button", name="Close case")).to_have_count(0)
    expect(page.get_by_role("button", name="Reopen case")).to_have_count(0)
    page.goto(f"{ui.server.url}/ui/damage-notifications/{ui.world.open_dn}")
    expect(page.get_by_role("heading", name="Damage notification")).to_be_visible()
    expect(page.get_by_role("button", name="Merge")).to_have_count(0)
    # Posting the form anyway changes nothing.
    token = page.locator("input[name=csrf_token]").first.input_value()
    answer = page.request.post(
        f"{ui.server.url}/ui/cases/{ui.world.open_case}/close", form={"csrf_token": token}
    )
    assert answer.status == 403


def test_sign_out_and_the_old_cookie_no_longer_works(ui: UiWorld, context: RecordedContext) -> None:
    page = context.page()
    sign_in(page, ui.server.url, HANDLER_EMAIL)
    [old] = [c["value"] for c in context.context.cookies() if c["name"] == "ecb_ui_session"]
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert all(c["name"] != "ecb_ui_session" for c in context.context.cookies())
    # The browser keeps the old cookie after all (a copy, a back-up): it signs no one in.
    context.context.add_cookies(
        [{"name": "ecb_ui_session", "value": old, "url": f"{ui.server.url}/ui/"}]
    )
    page.goto(f"{ui.server.url}/ui/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_lockout_after_five_failures_says_so_for_an_unknown_address_too(
    ui: UiWorld, context: RecordedContext
) -> None:
    page = context.page()
    for _ in range(5):
        sign_in(page, ui.server.url, "someone.unknown@company.example", "wrong")
    expect(page.get_by_role("alert")).to_contain_text("locked for 15 minutes")
    snap(page, "locked")


@pytest.mark.parametrize("path", ["", "cases/{case}", "damage-notifications/{dn}"])
def test_phone_width_has_no_sideways_scroll(ui: UiWorld, browser: Browser, path: str) -> None:
    recorded = RecordedContext(browser, viewport={"width": 375, "height": 740})
    try:
        page = recorded.page()
        sign_in(page, ui.server.url, HANDLER_EMAIL)
        page.goto(f"{ui.server.url}/ui/" + path.format(case=ui.world.open_case, dn=ui.fnol_dn))
        page.wait_for_load_state("networkidle")
        assert has_no_sideways_scroll(page)
        snap(page, "phone-" + (path.split("/")[0] or "home"))
    finally:
        recorded.close()
    assert recorded.asked_only(ui.server.url), recorded.requested


def test_without_javascript_everything_still_reads(ui: UiWorld, browser: Browser) -> None:
    recorded = RecordedContext(browser, java_script_enabled=False)
    try:
        page = recorded.page()
        sign_in(page, ui.server.url, HANDLER_EMAIL)
        expect(page.get_by_role("link", name="CN-1", exact=True)).to_be_visible()
        page.get_by_role("link", name="CN-1", exact=True).click()
        expect(page.locator(".file", has_text="kitchen floor.png")).to_be_visible()
        page.goto(f"{ui.server.url}/ui/damage-notifications/{ui.fnol_dn}")
        expect(page.get_by_text("Date of incident")).to_be_visible()
    finally:
        recorded.close()
    assert recorded.asked_only(ui.server.url), recorded.requested


def test_the_keyboard_reaches_the_skip_link_first_and_focus_is_visible(
    ui: UiWorld, context: RecordedContext
) -> None:
    page = context.page()
    sign_in(page, ui.server.url, HANDLER_EMAIL)
    page.keyboard.press("Tab")
    focused = page.evaluate("() => document.activeElement.textContent.trim()")
    assert focused == "Skip to content"
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("", "none")


# Every control named by a label, every image with an alt text, one h1, the landmarks.
STRUCTURE = """() => {
  const unlabelled = [...document.querySelectorAll('input:not([type=hidden]), select')]
    .filter(control => control.labels.length === 0).map(control => control.name);
  const noAlt = [...document.querySelectorAll('img')]
    .filter(image => !image.hasAttribute('alt')).map(image => image.src);
  return {
    unlabelled, noAlt,
    h1: document.querySelectorAll('h1').length,
    main: document.querySelectorAll('main').length,
    header: document.querySelectorAll('header').length,
    lang: document.documentElement.lang,
  };
}"""


@pytest.mark.parametrize(
    "path", ["sign-in", "", "cases/{case}", "damage-notifications/{dn}", "files/{photo}/preview"]
)
def test_every_page_is_labelled_and_structured(
    ui: UiWorld, context: RecordedContext, path: str
) -> None:
    page = context.page()
    if path != "sign-in":
        sign_in(page, ui.server.url, HANDLER_EMAIL)
    address = path.format(case=ui.world.open_case, dn=ui.fnol_dn, photo=ui.photo_id)
    page.goto(f"{ui.server.url}/ui/{address}")
    found = page.evaluate(STRUCTURE)
    assert found == {
        "unlabelled": [],
        "noAlt": [],
        "h1": 1,
        "main": 1,
        "header": 1,
        "lang": "en",
    }
