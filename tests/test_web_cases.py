"""The web app's case pages (issue #16's cases): list, case, status and notes signed by the
signed-in user, call-backs, export."""

from __future__ import annotations

import csv
import io
import re

import pytest

from matcher.curation.cases import case_store
from tests.web_client import TestClient, post, sign_in

pytest_plugins = ["tests.web_fixtures"]

REFERRAL = {"diagnosis": "DLBCL", "disease_status": "refractory", "prior_lines": "2", "age": "54"}


@pytest.fixture
def case_id(coordinator) -> int:
    """A referral matched on the page and saved as a case."""
    response = post(
        coordinator, "/match", {**REFERRAL, "referral_id": "WEB-<b>1</b>", "save_case": "yes"}
    )
    assert response.status_code == 200 and "Saved as case" in response.text
    return int(re.search(r'href="/cases/(\d+)"', response.text).group(1))


@pytest.mark.parametrize("path", ["/cases", "/cases/1", "/cases/callbacks", "/cases/export/csv"])
def test_case_pages_need_sign_in(anonymous, path):
    assert anonymous.get(path, follow_redirects=False).status_code == 303


def test_saving_needs_a_referral_id(coordinator):
    response = post(coordinator, "/match", {**REFERRAL, "save_case": "yes"})
    assert response.status_code == 400 and "give it a referral id" in response.text


def test_a_saved_referral_is_listed_and_escaped(coordinator, case_id):
    text = coordinator.get("/cases").text
    assert f'href="/cases/{case_id}"' in text
    assert "WEB-&lt;b&gt;1&lt;/b&gt;" in text and "<b>1</b>" not in text
    assert "new" in coordinator.get("/cases", params={"status": "new"}).text
    none = coordinator.get("/cases", params={"status": "enrolled"}).text
    assert f'href="/cases/{case_id}"' not in none


def test_an_unknown_status_filter_is_one_sentence(coordinator):
    response = coordinator.get("/cases", params={"status": "<x>"})
    assert response.status_code == 400 and "unknown case status" in response.text


def test_status_moves_and_notes_are_signed_by_who_made_them(coordinator, case_id, web_db):
    moved = post(
        coordinator,
        f"/cases/{case_id}/status",
        {"status": "records_requested", "note": "asked for <the> PET-CT"},
        follow_redirects=False,
    )
    assert moved.status_code == 303
    post(coordinator, f"/cases/{case_id}/note", {"text": "family prefers Shanghai"})
    page = coordinator.get(f"/cases/{case_id}").text
    assert "records requested" in page and "asked for &lt;the&gt; PET-CT" in page
    with case_store(web_db, None) as store:
        events = store.events(case_id)
    moves = [e for e in events if e.kind == "status"]
    assert moves[-1].by == "mei" and moves[-1].to_status == "records_requested"
    assert [e.by for e in events if e.kind == "note"] == ["mei", "mei"]


def test_moving_back_needs_the_box_ticked(coordinator, case_id):
    post(coordinator, f"/cases/{case_id}/status", {"status": "under_review"})
    back = post(coordinator, f"/cases/{case_id}/status", {"status": "new"})
    assert back.status_code == 400 and "needs --back" in back.text
    ticked = post(coordinator, f"/cases/{case_id}/status", {"status": "new", "back": "yes"})
    assert ticked.status_code == 200 and "Move to" in ticked.text


def test_an_unknown_case_is_404(coordinator):
    assert coordinator.get("/cases/999999").status_code == 404
    assert coordinator.get("/cases/not-a-number").status_code == 404


def test_another_coordinator_sees_the_team_cases(app, case_id):
    other = TestClient(app)
    sign_in(other, "cura")
    assert other.get(f"/cases/{case_id}").status_code == 200


def test_callbacks_and_export(coordinator, case_id):
    assert "Call-backs" in coordinator.get("/cases/callbacks").text
    exported = coordinator.get("/cases/export/csv")
    assert exported.status_code == 200 and "attachment" in exported.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [r["referral_id"] for r in rows] == ["WEB-<b>1</b>"]
    assert coordinator.get("/cases/export/xlsx").content[:2] == b"PK"
    assert coordinator.get("/cases/export/pdf").status_code == 404


def test_case_posts_need_the_csrf_token(coordinator, case_id):
    for action in ("status", "note", "notified"):
        response = coordinator.post(f"/cases/{case_id}/{action}", data={"status": "closed"})
        assert response.status_code == 403
