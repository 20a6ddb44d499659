"""The web app's catalog pages: search, an entry, refreshes, old facts, the curator's refresh."""

from __future__ import annotations

from pathlib import Path

import pytest

from matcher.storage.users import Users
from tests.web_client import TestClient, post, sign_in, token_of

pytest_plugins = ["tests.web_fixtures"]

UPDATES = Path(__file__).parent / "data" / "refresh" / "updates.csv"


@pytest.fixture
def curator(app) -> TestClient:
    client = TestClient(app)
    assert sign_in(client, "cura").status_code == 303
    return client


@pytest.mark.parametrize(
    "path",
    [
        "/catalog",
        "/catalog/entry/axi-cel",
        "/catalog/history",
        "/catalog/stale",
        "/catalog/refresh",
    ],
)
def test_catalog_pages_need_sign_in(anonymous, path):
    response = anonymous.get(path, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_search_uses_the_lookup_engine_in_chinese_too(coordinator):
    text = coordinator.get("/catalog", params={"q": "奕凯达"}).text
    assert "/catalog/entry/axi-cel" in text
    hospital = coordinator.get("/catalog", params={"q": "瑞金"}).text
    assert "Ruijin" in hospital


def test_search_with_nothing_found_says_so_and_escapes_the_query(coordinator):
    text = coordinator.get("/catalog", params={"q": "<b>zzqx</b>"}).text
    assert "Nothing found." in text and "<b>zzqx" not in text and "&lt;b&gt;zzqx" in text


def test_the_catalog_lists_every_entry_without_a_query(coordinator, app):
    text = coordinator.get("/catalog").text
    catalog = app.app.app.state.web.catalog()
    assert all(f"/catalog/entry/{e.id}" in text for e in catalog.entries)


def test_an_entry_page_has_cohorts_criteria_sites_sources_and_the_age_of_facts(coordinator):
    text = coordinator.get("/catalog/entry/axi-cel").text
    assert "Axicabtagene ciloleucel" in text
    assert "lbcl-3l" in text  # a cohort
    assert "Adult patients" in text or "adult" in text  # a criterion as text
    assert "Facts and their age" in text and ("old" in text or "current" in text)
    assert "Sources" in text and 'rel="noopener noreferrer"' in text
    assert "bundled catalog" in text  # the refresh that wrote it


def test_an_unknown_entry_is_404(coordinator):
    assert coordinator.get("/catalog/entry/no-such-entry").status_code == 404


def test_registry_text_is_escaped_on_the_entry_page(coordinator, app):
    catalog = app.app.app.state.web.catalog()
    entry = catalog.entry("axi-cel")
    evil = entry.model_copy(update={"name": "<script>alert(1)</script>"})
    catalog.by_id["axi-cel"] = evil
    try:
        text = coordinator.get("/catalog/entry/axi-cel").text
    finally:
        catalog.by_id["axi-cel"] = entry
    assert "<script>alert(1)" not in text and "&lt;script&gt;alert(1)" in text


def test_history_and_stale_pages(coordinator):
    history = coordinator.get("/catalog/history").text
    assert "Catalog refreshes" in history and "bundled catalog" in history
    stale = coordinator.get("/catalog/stale").text
    assert "Facts older than their limit" in stale and "/catalog/entry/" in stale


def test_a_coordinator_may_not_refresh_the_catalog(coordinator):
    assert coordinator.get("/catalog/refresh").status_code == 403
    files = {"file": ("updates.csv", UPDATES.read_bytes(), "text/csv")}
    response = coordinator.post(
        "/catalog/refresh",
        data={"csrf_token": token_of(coordinator, "/match"), "action": "apply"},
        files=files,
    )
    assert response.status_code == 403


def test_a_curator_sees_the_diff_then_applies_it_and_the_audit_log_says_who(curator, web_db):
    files = {"file": ("updates.csv", UPDATES.read_bytes(), "text/csv")}
    dry = post(curator, "/catalog/refresh", {"action": "diff"}, files=files)
    assert dry.status_code == 200 and "axi-cel" in dry.text and "Applied as refresh" not in dry.text
    applied = post(curator, "/catalog/refresh", {"action": "apply"}, files=files)
    assert applied.status_code == 200 and "Applied as refresh" in applied.text
    assert "Families to call back after this refresh" in applied.text
    assert "web upload updates.csv by cura" in curator.get("/catalog/history").text
    assert "1,100,000" in curator.get("/catalog/entry/axi-cel").text  # the new price, at once
    with Users.at(web_db) as users:
        assert any(a["action"] == "catalog.refresh" and a["user"] == "cura" for a in users.audit())


@pytest.mark.parametrize(
    ("name", "says"),
    [
        pytest.param("run.sh", "is not a CSV, XLSX, JSON file", id="suffix"),
        pytest.param("bad.csv", "bad.csv row 1, column &#39;nothing&#39;", id="bad-sheet"),
    ],
)
def test_a_refresh_file_that_cannot_be_used_is_one_sentence(curator, name, says):
    files = {"file": (name, b"id,nothing\nx,y\n", "text/plain")}
    response = post(curator, "/catalog/refresh", {"action": "apply"}, files=files)
    assert response.status_code == 400 and says in response.text
    assert "Traceback" not in response.text and "cartmatch-upload-" not in response.text
