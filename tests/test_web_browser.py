"""The web app in a real browser: Playwright for Python driving Debian's chromium (never a
browser download). The app runs under uvicorn on a free loopback port; a coordinator signs in,
enters a referral, sees the options, downloads the family report, uploads a CSV and downloads
the results. Every page is saved as a screenshot at 1280x800 and at 390x844 (a phone) under
tests/artifacts/, and must fit the phone's width."""

from __future__ import annotations

import csv
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from matcher.storage.users import add_user
from matcher.web.passwords import hash_password
from tests.conftest import copy_db

CHROMIUM = shutil.which("chromium")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get "
                       "install chromium); Playwright never downloads a browser here"),
]  # fmt: skip
playwright_api = pytest.importorskip("playwright.sync_api")

ARTIFACTS = Path(__file__).parent / "artifacts"
SIZES = {"desktop": (1280, 800), "phone": (390, 844)}
DESKTOP = {"width": 1280, "height": 800}
PASSWORD = "browser-password-1"
REFERRALS = "referral_id,diagnosis,prior_lines,age\nB-1,DLBCL,2,54\nB-2,multiple myeloma,3,61\n"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, _session_db: Path) -> Iterator[str]:
    """The app under uvicorn in a thread, on a database copy with one coordinator."""
    import uvicorn

    from matcher.web.app import create_app

    path = tmp_path_factory.mktemp("browser") / "web.db"
    copy_db(_session_db, path)
    add_user(path, "mei", "coordinator", hash_password(PASSWORD), by="test")
    add_user(path, "boss", "admin", hash_password(PASSWORD), by="test")
    port = _free_port()
    config = uvicorn.Config(
        create_app(path, match_workers=1),
        host="127.0.0.1",
        port=port,
        access_log=False,
        log_level="warning",
    )
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    for _ in range(200):
        if running.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    running.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM)
        yield launched
        launched.close()


def _sign_in(browser, server: str, name: str) -> tuple[object, object]:
    context = browser.new_context(viewport=DESKTOP, accept_downloads=True)
    tab = context.new_page()
    tab.goto(f"{server}/match")
    assert "/login" in tab.url
    shots(tab, "login")
    tab.fill("input[name=name]", name)
    tab.fill("input[name=password]", PASSWORD)
    tab.click("form[action='/login'] button[type=submit]")
    tab.wait_for_url(f"{server}/match")
    return context, tab


@pytest.fixture(scope="module")
def signed_in(browser, server):
    """One browser context, signed in as a coordinator (the sign-in page shot on the way)."""
    context, tab = _sign_in(browser, server, "mei")
    yield tab
    context.close()


def shots(tab, name: str) -> None:
    """The page at both sizes; at the phone's width nothing may stick out sideways."""
    ARTIFACTS.mkdir(exist_ok=True)
    for size, (width, height) in SIZES.items():
        tab.set_viewport_size({"width": width, "height": height})
        tab.screenshot(path=str(ARTIFACTS / f"{name}-{size}.png"), full_page=True)
        if size == "phone":
            overflow = tab.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 1, f"{name} is {overflow}px wider than a phone"
    tab.set_viewport_size(DESKTOP)


def test_a_referral_shows_ranked_options_and_the_family_report_downloads(signed_in, server):
    tab = signed_in
    tab.goto(f"{server}/match")
    tab.locator("input[name=diagnosis]").press_sequentially("弥漫大B", delay=30)
    tab.wait_for_selector("#diagnosis-suggest .reading")
    assert tab.locator("#diagnosis-list option").count() > 0
    tab.fill("input[name=diagnosis]", "DLBCL")
    tab.select_option("select[name=disease_status]", "refractory")
    tab.fill("input[name=prior_lines]", "2")
    tab.fill("input[name=age]", "54")
    shots(tab, "referral-form")
    tab.click("#referral button[type=submit]")
    tab.wait_for_selector("#results li.option")
    assert "Axicabtagene ciloleucel" in tab.inner_text("#results")
    tab.locator("#results li.option summary").first.click()
    shots(tab, "referral-options")
    with tab.expect_download() as waiting:
        tab.click("form.reports button[value=family]")
    report = waiting.value
    assert report.suggested_filename == "cartmatch-family-en.pdf"
    assert Path(report.path()).read_bytes().startswith(b"%PDF")


def test_a_csv_upload_is_screened_and_its_results_download(signed_in, server, tmp_path):
    tab = signed_in
    upload = tmp_path / "referrals.csv"
    upload.write_text(REFERRALS, encoding="utf-8")
    tab.goto(f"{server}/bulk")
    shots(tab, "bulk")
    tab.set_input_files("input[name=file]", str(upload))
    tab.click("form[action='/bulk'] button[type=submit]")
    tab.wait_for_selector("p.done", timeout=60_000)
    assert "rows in 2 = screened 2 + rejected 0" in tab.inner_text("p.done")
    shots(tab, "bulk-done")
    with tab.expect_download() as waiting:
        tab.click("ul.downloads a >> nth=0")
    assert waiting.value.suggested_filename == "results.csv"
    with open(waiting.value.path(), encoding="utf-8-sig", newline="") as results:
        referrals = {row["referral_id"] for row in csv.DictReader(results)}
    assert referrals == {"B-1", "B-2"}


@pytest.mark.parametrize(
    ("name", "path", "shows"),
    [
        pytest.param("catalog", "/catalog?q=奕凯达", "Axicabtagene", id="catalog"),
        pytest.param("entry", "/catalog/entry/axi-cel", "Facts and their age", id="entry"),
        pytest.param("history", "/catalog/history", "Catalog refreshes", id="history"),
        pytest.param("stale", "/catalog/stale", "Facts older than their limit", id="stale"),
        pytest.param("cases", "/cases", "Cases", id="cases"),
        pytest.param("case", "/cases/1", "History", id="case"),
        pytest.param("callbacks", "/cases/callbacks", "Call-backs", id="callbacks"),
        pytest.param("referral-zh", "/lang/zh?next=/match", "转诊匹配", id="chinese"),
    ],
)
def test_each_page_works_on_a_desktop_and_a_phone(signed_in, server, name, path, shows):
    tab = signed_in
    tab.goto(f"{server}{path}")
    assert shows in tab.inner_text("main")
    shots(tab, name)
    if name == "referral-zh":
        tab.goto(f"{server}/lang/en?next=/match")


@pytest.mark.parametrize(
    ("name", "path", "shows"),
    [
        pytest.param("users", "/users", "Add a user", id="users"),
        pytest.param("audit", "/audit", "user.add", id="audit"),
        pytest.param("refresh", "/catalog/refresh", "Show the diff", id="refresh"),
    ],
)
def test_the_admin_pages_work_on_a_desktop_and_a_phone(browser, server, name, path, shows):
    context, tab = _sign_in(browser, server, "boss")
    try:
        tab.goto(f"{server}{path}")
        assert shows in tab.inner_text("main")
        shots(tab, name)
    finally:
        context.close()
