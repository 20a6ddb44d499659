"""The web app at request level (`cartmatch serve`): sign-in, roles, CSRF, escaping, every page."""

from __future__ import annotations

import logging
import re

import pytest
from markupsafe import escape

from matcher.cli import cli
from matcher.storage.users import Users
from matcher.web.passwords import hash_password
from tests.web_client import TestClient, post, sign_in, token_of

pytest_plugins = ["tests.web_fixtures"]

# -- signing in ------------------------------------------------------------------------------

PAGES = [
    "/match",
    "/users",
    "/audit",
    "/suggest/diagnosis?diagnosis=DLBCL",
]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_but_login_sends_a_stranger_to_sign_in(anonymous, path):
    response = anonymous.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


def test_htmx_requests_without_a_session_are_told_where_to_sign_in(anonymous):
    response = anonymous.get("/suggest/diagnosis?q=x", headers={"HX-Request": "true"})
    assert response.status_code == 401 and response.headers["HX-Redirect"] == "/login"


def test_sign_in_opens_a_session_with_a_safe_cookie_and_returns_to_the_page(anonymous):
    response = sign_in(anonymous, "mei", next_path="/users")
    assert response.status_code == 303 and response.headers["location"] == "/users"
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
    assert anonymous.get("/match").status_code == 200


def test_secure_cookies_are_secure(web_db):
    from matcher.web.app import create_app

    client = TestClient(create_app(web_db, secure_cookies=True), base_url="https://testserver")
    assert "secure" in sign_in(client, "mei").headers["set-cookie"].lower()


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x"]
)
def test_sign_in_never_redirects_off_site(anonymous, target):
    response = sign_in(anonymous, "mei", next_path=target)
    assert response.headers["location"] == "/match"


def test_a_wrong_password_is_refused_and_says_nothing_of_which_part(anonymous):
    wrong = sign_in(anonymous, "mei", "not-the-password")
    nobody = sign_in(anonymous, "nobody-here", "not-the-password")
    assert wrong.status_code == nobody.status_code == 401
    assert "Wrong user name or password" in wrong.text and "Wrong user name" in nobody.text
    assert anonymous.get("/match", follow_redirects=False).status_code == 303


def test_sign_in_is_rate_limited_per_name(anonymous):
    for _ in range(5):
        assert sign_in(anonymous, "mei", "guess-guess-guess").status_code == 401
    # the right password is refused too while the limit holds
    throttled = sign_in(anonymous, "mei")
    assert throttled.status_code == 429 and "Too many failed sign-ins" in throttled.text


def test_sign_out_ends_the_session(coordinator):
    assert post(coordinator, "/logout", {}, follow_redirects=False).status_code == 303
    assert coordinator.get("/match", follow_redirects=False).status_code == 303


def test_a_new_password_ends_open_sessions(coordinator, web_db):
    from matcher.storage.users import set_password

    set_password(web_db, "mei", hash_password("another-password-1"), by="test")
    assert coordinator.get("/match", follow_redirects=False).status_code == 303


# -- CSRF ------------------------------------------------------------------------------------


def _routes(router) -> list:
    """Every route of the app, through the routers it includes."""
    out = []
    for route in router.routes:
        included = getattr(route, "original_router", None)
        out += _routes(included) if included is not None else [route]
    return out


def _post_routes(app) -> list[str]:
    inner = app.app.app  # AccessLog -> BodyLimit -> FastAPI
    return sorted(r.path for r in _routes(inner) if "POST" in (getattr(r, "methods", None) or ()))


def test_every_post_without_the_csrf_token_is_refused(coordinator, app):
    routes = _post_routes(app)
    assert {"/login", "/logout", "/match", "/users", "/report", "/bulk"} <= set(routes)
    for template in routes:
        path = re.sub(r"\{[^}]+\}", "1", template)  # /cases/{case_id:int}/note -> /cases/1/note
        response = coordinator.post(path, data={"diagnosis": "DLBCL"}, follow_redirects=False)
        assert response.status_code == 403, path
        bad = coordinator.post(path, data={"csrf_token": "forged"}, follow_redirects=False)
        assert bad.status_code == 403, path


def test_the_csrf_header_htmx_sends_is_accepted(coordinator):
    token = token_of(coordinator, "/match")
    response = coordinator.post(
        "/match",
        data={"diagnosis": "DLBCL", "prior_lines": "2"},
        headers={"X-CSRF-Token": token, "HX-Request": "true"},
    )
    assert response.status_code == 200 and "<html" not in response.text


def test_a_token_from_another_session_is_refused(app, coordinator):
    other = TestClient(app)
    sign_in(other, "cura")
    stolen = token_of(other, "/match")
    response = coordinator.post("/match", data={"diagnosis": "DLBCL", "csrf_token": stolen})
    assert response.status_code == 403


# -- roles and the team -----------------------------------------------------------------------


def test_a_coordinator_may_not_see_users_or_the_audit_log(coordinator):
    assert coordinator.get("/users").status_code == 403
    assert coordinator.get("/audit").status_code == 403
    assert post(coordinator, "/users", {"name": "x", "role": "admin"}).status_code == 403


def test_an_admin_adds_a_user_who_can_sign_in_and_the_audit_log_says_who(admin, app):
    response = post(
        admin,
        "/users",
        {"name": "lin", "role": "coordinator", "password": "lin-password-1"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert "lin" in admin.get("/users").text
    audit = admin.get("/audit").text
    assert "user.add" in audit and "boss" in audit and "lin" in audit
    assert sign_in(TestClient(app), "lin", "lin-password-1").status_code == 303


@pytest.mark.parametrize(
    ("name", "password", "says"),
    [
        pytest.param("mei", "long-enough-1", "exists already", id="taken"),
        pytest.param("a b<i>", "long-enough-1", "not usable", id="bad-name"),
        pytest.param("short", "abc", "too short", id="short-password"),
    ],
)
def test_a_user_that_cannot_be_added_is_one_sentence(admin, name, password, says):
    response = post(admin, "/users", {"name": name, "role": "coordinator", "password": password})
    assert response.status_code == 400 and says in response.text
    assert "<i>" not in response.text


def test_cli_users_add_and_list(runner, db_path, monkeypatch):
    monkeypatch.setenv("CARTMATCH_PASSWORD", "a-long-password")
    added = runner.invoke(cli, ["users", "add", "zhang", "--role", "curator"])
    assert added.exit_code == 0 and "added user 'zhang' (curator)" in added.output
    listed = runner.invoke(cli, ["users", "list"])
    assert "zhang\tcurator" in listed.output
    again = runner.invoke(cli, ["users", "add", "zhang"])
    assert again.exit_code == 1 and "exists already" in again.output
    with Users.at(db_path) as users:
        stored = users.get("zhang").password_hash
    assert stored.startswith("$argon2") and "a-long-password" not in stored


def test_cli_users_add_refuses_an_unknown_role(runner):
    result = runner.invoke(cli, ["users", "add", "x", "--role", "root"])
    assert result.exit_code == 2


def test_the_first_admin_is_made_once_with_the_password_from_the_environment(db_path, monkeypatch):
    from matcher.web.passwords import verify_password
    from matcher.web.team import ensure_first_admin

    monkeypatch.setenv("CARTMATCH_ADMIN_PASSWORD", "from-the-environment")
    assert ensure_first_admin(db_path) == ("admin", None)
    assert ensure_first_admin(db_path) is None
    with Users.at(db_path) as users:
        assert verify_password("from-the-environment", users.get("admin").password_hash)


def test_a_generated_first_password_is_returned_once_and_works(db_path, monkeypatch):
    from matcher.web.passwords import verify_password
    from matcher.web.team import ensure_first_admin

    monkeypatch.delenv("CARTMATCH_ADMIN_PASSWORD", raising=False)
    name, password = ensure_first_admin(db_path)
    assert len(password) >= 20
    with Users.at(db_path) as users:
        assert verify_password(password, users.get(name).password_hash)


# -- the referral page -----------------------------------------------------------------------

REFERRAL = {"diagnosis": "DLBCL", "disease_status": "refractory", "prior_lines": "2", "age": "54"}


def test_the_form_asks_for_every_profile_field(coordinator):
    from matcher.model.patient import Profile

    page = coordinator.get("/match").text
    # antigen_dates ride with the antigen value ('CD19=negative 2026-09-15'), as on the CLI
    for field in set(Profile.model_fields) - {"antigen_dates"}:
        assert f'name="{field}"' in page, field


def test_a_referral_gives_ranked_options_with_explanations(coordinator):
    response = post(coordinator, "/match", REFERRAL)
    assert response.status_code == 200
    text = response.text
    assert "Axicabtagene ciloleucel" in text and "Diffuse large B-cell lymphoma" in text
    assert "2 prior line(s) meets ≥ 2." in text  # the criterion's own explanation
    assert "To confirm before infusion" in text and "<svg" in text


def test_the_page_matches_what_the_cli_matches(coordinator, runner):
    import json

    cli_out = runner.invoke(
        cli,
        ["match", "--diagnosis", "DLBCL", "--status", "refractory", "--prior-lines", "2",
         "--age", "54", "--format", "json"],
    )  # fmt: skip
    ranked = [o["name"] for o in json.loads(cli_out.output)["options"]]
    text = post(coordinator, "/match", REFERRAL).text
    positions = [text.index(f"<strong>{escape(name)}</strong>") for name in ranked]
    assert positions == sorted(positions)


def test_pasted_json_with_form_fields_over_it(coordinator):
    pasted = '{"diagnosis": "DLBCL", "prior_lines": 0}'
    text = post(coordinator, "/match", {"profile_json": pasted, "prior_lines": "2"}).text
    assert "2 prior line(s) meets ≥ 2." in text


def test_records_to_request_list_what_to_ask_for(coordinator):
    text = post(coordinator, "/match", {"diagnosis": "胃癌", "prior_lines": "2"}).text
    assert "Records to request" in text and "CLDN18.2 IHC on tumour tissue" in text


@pytest.mark.parametrize(
    ("data", "says"),
    [
        pytest.param({"profile_json": "{not json"}, "invalid JSON", id="bad-json"),
        pytest.param({"profile_json": "[1, 2]"}, "give an object", id="not-object"),
        pytest.param({"profile_json": "[" * 40 + "]" * 40}, "nested", id="deep"),
        pytest.param({"diagnosis": "DLBCL", "age": "-3"}, "age", id="bad-age"),
        pytest.param({"diagnosis": "DLBCL", "antigens": "CD19"}, "NAME=VALUE", id="antigen"),
        pytest.param({}, "at least a diagnosis", id="empty"),
    ],
)
def test_bad_input_is_one_sentence_not_a_traceback(coordinator, data, says):
    response = post(coordinator, "/match", data)
    assert response.status_code == 400 and says in response.text
    assert "Traceback" not in response.text


def test_referral_text_is_escaped(coordinator):
    evil = '<img src=x onerror=alert(1)>"'
    text = post(coordinator, "/match", {"diagnosis": evil, "referral_id": evil}).text
    assert "<img src=x" not in text and "&lt;img src=x onerror=alert(1)&gt;" in text


def test_suggestions_as_you_type(coordinator):
    diagnosis = coordinator.get("/suggest/diagnosis", params={"diagnosis": "弥漫大B"}).text
    assert 'id="diagnosis-list"' in diagnosis and "弥漫大B细胞淋巴瘤" in diagnosis
    assert "Read as" in diagnosis
    therapy = coordinator.get("/suggest/therapy", params={"prior_therapies": "R-CHOP; ibru"})
    assert 'value="R-CHOP; ibrutinib"' in therapy.text


def test_the_language_switch_shows_chinese(coordinator):
    coordinator.get("/lang/zh?next=/match")
    assert "转诊匹配" in coordinator.get("/match").text
    coordinator.get("/lang/en")
    assert "Match a referral" in coordinator.get("/match").text


def test_every_word_has_its_chinese_from_the_app_or_the_reports_catalogue():
    from matcher.web.i18n import _read, messages, untranslated

    assert untranslated("zh") == []
    assert set(_read("zh")) <= set(_read("en"))  # no Chinese word for a key English lacks
    # words the reports translate are worded as in the reports
    from matcher.report.words import Words

    reports = Words.of("zh")
    assert messages("zh")["outcome_not_met"] == reports("not met")
    assert messages("zh")["field_disease_status"] == reports("Disease status")


# -- limits and logs ---------------------------------------------------------------------------


def test_a_body_over_the_limit_is_refused_before_it_is_read(coordinator):
    token = token_of(coordinator, "/match")
    response = coordinator.post(
        "/match", data={"csrf_token": token, "profile_json": "x" * (2 * 1024 * 1024)}
    )
    assert response.status_code == 413


def test_the_access_log_names_the_route_never_the_patient(coordinator, caplog):
    with caplog.at_level(logging.INFO, logger="cartmatch.web.access"):
        post(coordinator, "/match", {**REFERRAL, "referral_id": "R-SECRET-7"})
        coordinator.get("/suggest/diagnosis", params={"diagnosis": "Zhang San DLBCL"})
    lines = [r.getMessage() for r in caplog.records if r.name == "cartmatch.web.access"]
    assert any(line.startswith("POST /match 200") for line in lines)
    assert any(line.startswith("GET /suggest/{kind} 200") for line in lines)
    assert not any("SECRET" in line or "Zhang" in line or "DLBCL" in line for line in lines)


def test_pages_carry_security_headers(coordinator):
    headers = coordinator.get("/match").headers
    assert headers["x-frame-options"] == "DENY"
    assert "script-src 'self'" in headers["content-security-policy"]


def test_the_static_htmx_is_served_with_its_licence(anonymous):
    assert anonymous.get("/static/htmx.min.js").status_code == 200
    assert "Zero-Clause BSD" in anonymous.get("/static/htmx-LICENSE.txt").text
