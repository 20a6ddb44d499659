"""What keeps the web app safe to run for a team: CSRF tokens, a sign-in rate limit, a cap on
request bodies, security headers, and an access log that names no patient."""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from matcher.limits import PROFILE_BYTES

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: Largest upload (bulk screening, catalog refresh): 20 MiB is ~100k referral rows of CSV.
UPLOAD_BYTES = 20 * 1024 * 1024
#: Largest other request body: a profile (PROFILE_BYTES) with the form around it.
FORM_BYTES = PROFILE_BYTES.value + 64 * 1024
#: Paths whose forms carry a file.
UPLOAD_PATHS = ("/bulk", "/catalog/refresh")

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"

access_log = logging.getLogger("cartmatch.web.access")


def csrf_token(session: MutableMapping[str, Any]) -> str:
    """The session's CSRF token, made on first use."""
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return str(token)


def csrf_valid(session: MutableMapping[str, Any], given: str | None) -> bool:
    expected = session.get("csrf")
    return bool(expected and given and secrets.compare_digest(str(expected), str(given)))


class LoginThrottle:
    """At most `attempts` failed sign-ins per client address and per user name within
    `window_s`; both are counted, so neither many names from one address nor one name from
    many addresses gets through."""

    def __init__(self, attempts: int = 5, window_s: float = 300.0) -> None:
        self.attempts, self.window_s = attempts, window_s
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and now - times[0] > self.window_s:
            times.popleft()
        return times

    def blocked(self, address: str, name: str) -> bool:
        now = time.monotonic()
        with self._lock:
            keys = (f"ip:{address}", f"user:{name.casefold()}")
            return any(len(self._recent(k, now)) >= self.attempts for k in keys)

    def failed(self, address: str, name: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in (f"ip:{address}", f"user:{name.casefold()}"):
                self._recent(key, now).append(now)

    def succeeded(self, name: str) -> None:
        with self._lock:
            self._failures.pop(f"user:{name.casefold()}", None)


class BodyLimit:
    """Refuse a request body over its limit with 413, by Content-Length up front and by
    counting what arrives (a chunked upload has no length)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        limit = UPLOAD_BYTES if path.startswith(UPLOAD_PATHS) else FORM_BYTES
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            await _too_large(send, limit)
            return
        # Read the body up to the limit before the app sees it (at most UPLOAD_BYTES held in
        # memory), then hand it on: the app never starts on a body it would have to refuse.
        chunks, seen, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            seen += len(chunks[-1])
            if seen > limit:
                await _too_large(send, limit)
                return
            more = message.get("more_body", False)
        body = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def _too_large(send: Send, limit: int) -> None:
    body = f"The upload is too large: at most {limit // (1024 * 1024) or 1} MiB.".encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"text/plain; charset=utf-8")],
        }
    )
    await send({"type": "http.response.body", "body": body})


SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        b"frame-ancestors 'none'; form-action 'self'",
    ),
]


class AccessLog:
    """One line a request: method, route template (never the path or query: a path may hold
    a case id and a query a diagnosis), status and time; plus the security headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start, status = time.perf_counter(), 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = getattr(scope.get("route"), "path", "(no route)")
            ms = (time.perf_counter() - start) * 1000
            access_log.info("%s %s %s %.0fms", scope.get("method"), route, status, ms)
