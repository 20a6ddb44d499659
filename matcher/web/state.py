"""What the app holds while it runs: the database path, the catalog (reloaded when a refresh
changes it), the signed-in user of a request, and the page renderer."""

from __future__ import annotations

import asyncio
import hashlib
import threading
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from fastapi import HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape

from matcher.core.catalog import Catalog
from matcher.curation.bundle import sync_bundle
from matcher.paths import bundle_hash
from matcher.render.match import cost_range
from matcher.storage.catalog_store import read_catalog
from matcher.storage.db import meta, reading
from matcher.storage.users import User, Users
from matcher.web.i18n import language_of, translator
from matcher.web.matching import match_in_worker, match_result, report_in_worker, report_pdf
from matcher.web.security import LoginThrottle, csrf_token

TEMPLATES = Path(__file__).parent / "templates"


class NeedLogin(Exception):
    """Raised by `signed_in`: the app answers with the sign-in page."""


@dataclass
class WebState:
    """One running app's state, shared by every request."""

    db_path: Path
    secure_cookies: bool = False
    throttle: LoginThrottle = field(default_factory=LoginThrottle)
    jobs: Any = None
    matcher: Executor | None = None
    """Worker processes that match referrals (`matching.worker_pool`); None: a thread."""

    def catalog(self) -> Catalog:
        """The current catalog; read again only when a refresh changed its version."""
        with reading(self.db_path) as conn:
            info = meta(conn)
            version = (info.get("catalog_version") or "", info.get("refresh_id") or "")
            found = _CATALOGS.get(version)
            if found is not None:
                return found
            with _LOCK:
                if version not in _CATALOGS:
                    _CATALOGS.clear()  # one version at a time: the one in the database
                    _CATALOGS[version] = read_catalog(conn)
                return _CATALOGS[version]

    async def match(self, raw: dict[str, Any], include_all: bool, city: str) -> dict[str, Any]:
        """One referral matched off the event loop, in its JSON shape (DESIGN section 8)."""
        today = date.today()
        if self.matcher is None:
            result = await run_in_threadpool(
                lambda: match_result(self.catalog(), raw, include_all, city, today).as_dict()
            )
            return result  # type: ignore[no-any-return]
        loop = asyncio.get_running_loop()
        path = str(self.db_path)
        return await loop.run_in_executor(
            self.matcher, match_in_worker, path, raw, include_all, city, today
        )

    async def report(self, raw: dict[str, Any], audience: str, lang: str) -> bytes:
        """One referral's report as PDF bytes, off the event loop (a worker when there is one)."""
        today = date.today()
        if self.matcher is None:
            return await run_in_threadpool(
                lambda: report_pdf(self.catalog(), raw, audience, lang, today)
            )
        loop = asyncio.get_running_loop()
        path = str(self.db_path)
        return await loop.run_in_executor(
            self.matcher, report_in_worker, path, raw, audience, lang, today
        )

    def warm(self) -> None:
        """Build or sync the database from the bundled catalog, as the CLI's first run does."""
        wanted = bundle_hash()
        with reading(self.db_path) as conn:
            current = meta(conn).get("bundle_hash") == wanted
        if not current:
            sync_bundle(self.db_path, wanted)
        self.catalog()


#: Catalogs read, by version (a content hash) and refresh: one key is one catalog, whichever
#: copy of the database holds it, so a request pays a small read, not the whole catalog.
_CATALOGS: dict[tuple[str, str], Catalog] = {}
_LOCK = threading.Lock()


def fingerprint(user: User) -> str:
    """Ties a session to the password it was opened with: a new password ends old sessions."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def state_of(request: Request) -> WebState:
    return request.app.state.web  # type: ignore[no-any-return]


def current_user(request: Request) -> User | None:
    """The signed-in user, checked against the database on every request (a removed,
    disabled or re-passworded user is signed out at once)."""
    name = request.session.get("user")
    if not name:
        return None
    with Users.at(state_of(request).db_path) as users:
        user = users.get(name)
    if user is None or user.disabled or request.session.get("pw") != fingerprint(user):
        request.session.pop("user", None)
        return None
    return user


def signed_in(request: Request) -> User:
    """Dependency of every page but sign-in: the user, else NeedLogin."""
    user = current_user(request)
    if user is None:
        raise NeedLogin()
    return user


def needs(role: str) -> Any:
    """A dependency that lets through users of `role` or above, else 403."""

    def check(request: Request) -> User:
        user = signed_in(request)
        if not user.may(role):
            raise HTTPException(status_code=403, detail="not_allowed")
        return user

    return check


_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters["cost_range"] = cost_range
templates = Jinja2Templates(env=_env)


def page(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A page or fragment with what every template uses: words, language, user, CSRF token."""
    lang = language_of(request.session, request.headers.get("accept-language"))
    user = context.pop("user", None) or current_user(request)
    base = {"t": translator(lang), "lang": lang, "user": user, "csrf": csrf_token(request.session)}
    return templates.TemplateResponse(request, name, {**base, **context}, status_code=status_code)
