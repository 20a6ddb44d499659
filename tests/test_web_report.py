"""The referral page's report buttons: family and MDT PDFs (issue #15's report) from the form."""

from __future__ import annotations

import subprocess

import pytest

from tests.web_client import post

pytest_plugins = ["tests.web_fixtures"]

REFERRAL = {"diagnosis": "DLBCL", "disease_status": "refractory", "prior_lines": "2", "age": "54"}


def test_the_results_offer_both_reports_with_the_referral_in_the_form(coordinator):
    text = post(coordinator, "/match", {**REFERRAL, "referral_id": "R-77"}).text
    assert 'action="/report"' in text and 'value="family"' in text and 'value="mdt"' in text
    assert 'name="referral_id" value="R-77"' in text


@pytest.mark.parametrize("audience", ["family", "mdt"])
def test_a_report_is_a_pdf_download_of_the_referral(coordinator, audience, tmp_path):
    response = post(coordinator, "/report", {**REFERRAL, "audience": audience})
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    assert f"cartmatch-{audience}-en.pdf" in response.headers["content-disposition"]
    assert response.content.startswith(b"%PDF")
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(response.content)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "Axicabtagene" in text or "axi-cel" in text.lower()


def test_the_report_follows_the_page_language(coordinator):
    coordinator.get("/lang/zh")
    response = post(coordinator, "/report", {**REFERRAL, "audience": "family"})
    assert response.status_code == 200 and "-zh.pdf" in response.headers["content-disposition"]


@pytest.mark.parametrize(
    ("data", "says"),
    [
        pytest.param({**REFERRAL, "audience": "press"}, "use family or mdt", id="audience"),
        pytest.param({"audience": "family"}, "at least a diagnosis", id="empty"),
    ],
)
def test_a_report_that_cannot_be_made_is_one_sentence(coordinator, data, says):
    response = post(coordinator, "/report", data)
    assert response.status_code == 400 and says in response.text


def test_reports_need_sign_in_and_the_csrf_token(anonymous, coordinator):
    assert anonymous.post("/report", data=REFERRAL, follow_redirects=False).status_code in (
        303,
        403,
    )
    assert coordinator.post("/report", data={**REFERRAL, "audience": "family"}).status_code == 403
