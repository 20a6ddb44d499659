"""Signing in and out, the language switch, and the team (users, audit log; admins only)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from matcher.errors import CartmatchError
from matcher.storage.users import ROLES, User, Users, add_user
from matcher.web.i18n import LANGUAGES
from matcher.web.passwords import dummy_hash, hash_password, verify_password
from matcher.web.state import current_user, fingerprint, needs, page, signed_in, state_of

router = APIRouter()
Admin = Annotated[User, Depends(needs("admin"))]


def local_path(target: str | None, default: str = "/match") -> str:
    """A redirect target inside this app only ('/catalog'); anything else (an absolute URL,
    '//host', a backslash trick) gives the default, so no link sends a user elsewhere."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


@router.get("/")
def home(request: Request) -> Response:
    return RedirectResponse("/match" if current_user(request) else "/login", status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str | None = None) -> Response:
    return page(request, "login.html", next=local_path(next), failed=None)


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request) -> Response:
    form = await request.form()
    name, password = str(form.get("name") or "").strip(), str(form.get("password") or "")
    target = local_path(str(form.get("next") or ""))
    state = state_of(request)
    address = request.client.host if request.client else "unknown"
    if state.throttle.blocked(address, name):
        return page(request, "login.html", 429, next=target, failed="login_throttled")
    user = await run_in_threadpool(_checked, state.db_path, name, password)
    if user is None:
        state.throttle.failed(address, name)
        return page(request, "login.html", 401, next=target, failed="login_failed")
    state.throttle.succeeded(name)
    lang = request.session.get("lang")
    request.session.clear()  # a new session on sign-in: nothing carried over but the language
    request.session.update(user=user.name, pw=fingerprint(user))
    if lang:
        request.session["lang"] = lang
    return RedirectResponse(target, status_code=303)


def _checked(db_path: Path, name: str, password: str) -> User | None:
    """The user whose name and password these are, else None (argon2 takes ~0.1 s: run on a
    thread, never on the event loop)."""
    with Users.at(db_path) as users:
        user = users.get(name) if name else None
    if user is None:
        verify_password(password, dummy_hash())  # the same time as a wrong password
        return None
    if user.disabled or not verify_password(password, user.password_hash):
        return None
    return user


@router.post("/logout")
def logout(request: Request) -> Response:
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


@router.get("/lang/{code}")
def switch_language(request: Request, code: str, next: str | None = None) -> Response:
    if code in LANGUAGES:
        request.session["lang"] = code
    return RedirectResponse(local_path(next), status_code=303)


@router.get("/users", response_class=HTMLResponse)
def users_page(request: Request, user: Admin) -> Response:
    with Users.at(state_of(request).db_path) as users:
        team = users.all()
    return page(request, "users.html", user=user, team=team, roles=ROLES, problem=None)


@router.post("/users", response_class=HTMLResponse)
async def users_add(request: Request, user: Admin) -> Response:
    form = await request.form()
    path = state_of(request).db_path
    name, role = str(form.get("name") or ""), str(form.get("role") or "")
    password = str(form.get("password") or "")
    try:
        await run_in_threadpool(
            lambda: add_user(path, name, role, hash_password(password), by=user.name)
        )
    except CartmatchError as error:
        with Users.at(path) as users:
            team = users.all()
        return page(
            request, "users.html", 400, user=user, team=team, roles=ROLES, problem=str(error)
        )
    return RedirectResponse("/users", status_code=303)


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, user: Admin) -> Response:
    with Users.at(state_of(request).db_path) as users:
        lines = users.audit()
    return page(request, "audit.html", user=user, lines=lines)


__all__ = ["local_path", "router", "signed_in"]
