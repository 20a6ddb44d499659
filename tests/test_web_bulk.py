"""The web app's bulk screening: upload, progress, downloads (long, wide, errors), privacy."""

from __future__ import annotations

import csv
import io
import stat
import time

import pytest

from matcher.storage.users import Users
from tests.web_client import TestClient, post, sign_in

pytest_plugins = ["tests.web_fixtures"]

REFERRALS = (
    "referral_id,diagnosis,prior_lines,age,disease_status\n"
    "W-1,DLBCL,2,54,refractory\n"
    "W-2,multiple myeloma,3,61,relapsed\n"
    "W-3,DLBCL,two,54,refractory\n"
)


def upload(client: TestClient, body: str | bytes, name: str = "referrals.csv", output="csv"):
    data = body.encode() if isinstance(body, str) else body
    files = {"file": (name, data, "text/csv")}
    return post(client, "/bulk", {"output": output}, files=files, follow_redirects=False)


def finished(client: TestClient, job_url: str) -> str:
    """The job page once the job is done or failed (polled as htmx polls it)."""
    for _ in range(300):
        fragment = client.get(job_url, headers={"HX-Request": "true"}).text
        if "hx-trigger" not in fragment:
            return fragment
        time.sleep(0.1)
    raise AssertionError("the job did not finish in 30 s")


@pytest.fixture
def screened(coordinator):
    response = upload(coordinator, REFERRALS)
    assert response.status_code == 303
    job_url = response.headers["location"]
    return job_url, finished(coordinator, job_url)


def test_bulk_pages_need_sign_in(anonymous):
    for path in ("/bulk", "/bulk/abc", "/bulk/abc/results"):
        assert anonymous.get(path, follow_redirects=False).status_code == 303


def test_an_upload_is_screened_and_its_counts_add_up(screened, web_db):
    _, page = screened
    assert "rows in 3 = screened 2 + rejected 1" in page
    with Users.at(web_db) as users:
        assert any(a["action"] == "bulk.screen" and a["user"] == "mei" for a in users.audit())


def test_results_call_list_and_errors_download(coordinator, screened):
    job_url, _ = screened
    long = coordinator.get(f"{job_url}/results")
    assert long.status_code == 200 and "attachment" in long.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(long.text)))
    assert {r["referral_id"] for r in rows} == {"W-1", "W-2"} and len(rows) > 2
    wide = list(csv.DictReader(io.StringIO(coordinator.get(f"{job_url}/wide").text)))
    assert [r["referral_id"] for r in wide] == ["W-1", "W-2", "W-3"]  # one row per referral
    errors = coordinator.get(f"{job_url}/errors").text
    assert "W-3" in errors or "prior_lines" in errors


def test_xlsx_results(coordinator):
    job_url = upload(coordinator, REFERRALS, output="xlsx").headers["location"]
    finished(coordinator, job_url)
    book = coordinator.get(f"{job_url}/results")
    assert book.status_code == 200 and book.content[:2] == b"PK"


def test_job_files_are_private_and_only_their_owner_sees_them(app, screened):
    job_url, _ = screened
    job = app.app.app.state.web.jobs.get(job_url.rsplit("/", 1)[1], _Owner())
    assert stat.S_IMODE(job.folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(job.input.stat().st_mode) == 0o600
    other = TestClient(app)
    sign_in(other, "cura")
    assert other.get(job_url).status_code == 404
    assert other.get(f"{job_url}/results").status_code == 404
    boss = TestClient(app)
    sign_in(boss, "boss")
    assert boss.get(f"{job_url}/results").status_code == 200


class _Owner:
    name = "mei"

    def may(self, role: str) -> bool:
        return False


@pytest.mark.parametrize(
    ("name", "body", "says"),
    [
        pytest.param("run.py", "print(1)", "is not a CSV, XLSX, TSV, TXT file", id="suffix"),
        pytest.param("x.xlsx", "no", "cannot be read as an Excel workbook", id="not-a-workbook"),
        pytest.param("x.csv", "name,phone\nZhang,1\n", "diagnosis", id="no-diagnosis"),
    ],
)
def test_a_file_that_cannot_be_screened_is_one_sentence(coordinator, name, body, says):
    response = upload(coordinator, body, name=name)
    if response.status_code == 400:  # refused at once
        text = response.text
    else:
        text = finished(coordinator, response.headers["location"])
        assert "Failed" in text
    assert says in text and "Traceback" not in text and "cartmatch-bulk-" not in text


def test_an_upload_over_the_limit_is_refused(coordinator, monkeypatch):
    from matcher.web import security

    monkeypatch.setattr(security, "UPLOAD_BYTES", 1000)
    assert upload(coordinator, REFERRALS * 50).status_code == 413


def test_unknown_jobs_and_downloads_are_404(coordinator, screened):
    job_url, _ = screened
    assert coordinator.get("/bulk/not-a-job").status_code == 404
    assert coordinator.get(f"{job_url}/secrets").status_code == 404


def test_the_bulk_page_lists_my_uploads(coordinator, screened):
    assert "referrals.csv" in coordinator.get("/bulk").text


def test_job_files_are_removed_when_the_app_stops(app, screened):
    job_url, _ = screened
    jobs = app.app.app.state.web.jobs
    folder = jobs.get(job_url.rsplit("/", 1)[1], _Owner()).folder
    assert folder.exists()
    jobs.close()
    assert not folder.exists() and jobs.get(job_url.rsplit("/", 1)[1], _Owner()) is None
