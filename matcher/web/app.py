"""The FastAPI app: middleware (sessions, body limit, access log), CSRF on every POST, the
sign-in redirect, and the pages of each part (match, catalog, bulk, team)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from matcher.errors import CartmatchError, NotFoundError
from matcher.storage.users import session_secret
from matcher.web.matching import worker_pool
from matcher.web.security import (
    CSRF_FIELD,
    CSRF_HEADER,
    UPLOAD_BYTES,
    AccessLog,
    BodyLimit,
    csrf_valid,
)
from matcher.web.state import NeedLogin, WebState, page

STATIC = Path(__file__).parent / "static"
#: A session lasts a working day; then sign in again.
SESSION_SECONDS = 12 * 3600


async def csrf_guard(request: Request) -> None:
    """Every POST carries the session's CSRF token, in the form or the X-CSRF-Token header
    (htmx sends the header). The form is parsed here once; handlers get it from the cache."""
    if request.method != "POST":
        return
    given = request.headers.get(CSRF_HEADER)
    if given is None:
        form = await request.form(max_part_size=UPLOAD_BYTES)
        value = form.get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    if not csrf_valid(request.session, given):
        raise HTTPException(status_code=403, detail="csrf")


def create_app(
    db_path: Path, *, secure_cookies: bool = False, warm: bool = True, match_workers: int = 0
) -> Any:
    """The ASGI app over the database at `db_path` (built from the bundle when new), matching
    in `match_workers` processes (0: on a thread of this one)."""
    state = WebState(db_path, secure_cookies=secure_cookies)
    if warm:
        state.warm()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        state.matcher = worker_pool(match_workers)
        yield
        if state.matcher is not None:
            state.matcher.shutdown(cancel_futures=True)
        if state.jobs is not None:  # bulk files hold patient data: gone when the app stops
            state.jobs.close()

    app = FastAPI(
        title="cartmatch",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        dependencies=[Depends(csrf_guard)],
    )
    app.state.web = state
    app.add_middleware(
        SessionMiddleware,
        secret_key=session_secret(db_path),
        session_cookie="cartmatch_session",
        max_age=SESSION_SECONDS,
        same_site="lax",
        https_only=secure_cookies,
    )
    _routes(app)
    _handlers(app)
    return AccessLog(BodyLimit(app))


def _routes(app: FastAPI) -> None:
    from matcher.web import (
        routes_auth,
        routes_bulk,
        routes_cases,
        routes_catalog,
        routes_match,
        routes_report,
    )

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    routers = (routes_auth, routes_match, routes_report, routes_cases, routes_catalog, routes_bulk)
    for module in routers:
        app.include_router(module.router)


def _handlers(app: FastAPI) -> None:
    @app.exception_handler(NeedLogin)
    async def to_login(request: Request, _: NeedLogin) -> Response:
        if request.headers.get("hx-request"):  # a fragment: the browser goes to sign in
            return Response(status_code=401, headers={"HX-Redirect": "/login"})
        target = "/login"
        if request.method == "GET" and request.url.path not in ("/", "/login"):
            target += "?next=" + quote(request.url.path, safe="/")
        return RedirectResponse(target, status_code=303)

    @app.exception_handler(HTTPException)
    async def refused(request: Request, error: HTTPException) -> Response:
        if error.status_code == 403:
            key = "not_allowed" if error.detail == "not_allowed" else "csrf_failed"
            return page(request, "error.html", status_code=403, message_key=key)
        if error.status_code == 404:
            return page(request, "error.html", status_code=404, message_key="not_found")
        return PlainTextResponse(str(error.detail), status_code=error.status_code)

    @app.exception_handler(CartmatchError)
    async def bad_input(request: Request, error: CartmatchError) -> HTMLResponse:
        status = 404 if isinstance(error, NotFoundError) else 400
        return page(request, "error.html", status_code=status, message=str(error))
