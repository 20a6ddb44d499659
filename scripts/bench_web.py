"""`scripts/bench web`: 20 coordinators matching referrals at once in the web app, on loopback.

`cartmatch serve` runs in its own process on a fresh database; each simulated user signs in,
then posts referrals to /match as the page does (htmx: the results fragment), one after the
other, USERS at a time. Bounded in count (USERS x REQUESTS) and in time (DEADLINE_S: users stop
starting requests then). Prints one user's median alone (the service time),
then the median, p95 and slowest response of the 20 and the throughput; target: median under
300 ms. Figures are printed, never asserted. Synthetic referrals only.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

CARTMATCH = str(Path(sys.executable).parent / "cartmatch")
USERS, REQUESTS, DEADLINE_S = 20, 25, 300.0
PASSWORD = "bench-password-1"
#: Referrals as coordinators type them, across the catalog's diseases (synthetic).
REFERRALS = [
    {"diagnosis": "DLBCL", "disease_status": "refractory", "prior_lines": "2", "age": "54"},
    {"diagnosis": "multiple myeloma", "prior_lines": "3", "age": "61"},
    {"diagnosis": "胃癌", "antigens": "CLDN18.2=60%:2+", "prior_lines": "2", "age": "58"},
    {"diagnosis": "B-ALL", "disease_status": "relapsed", "prior_lines": "2", "age": "19"},
    {"diagnosis": "lupus nephritis", "prior_lines": "3", "age": "33", "sex": "female"},
    {"diagnosis": "follicular lymphoma", "prior_lines": "2", "age": "66"},
    {"diagnosis": "mantle cell lymphoma", "prior_therapies": "ibrutinib", "prior_lines": "2"},
    {"diagnosis": "hepatocellular carcinoma", "antigens": "GPC3=positive", "prior_lines": "1"},
]
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(tmp: str) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {**os.environ, "CARTMATCH_DB": f"{tmp}/bench.db", "CARTMATCH_ADMIN_PASSWORD": PASSWORD}
    server = subprocess.Popen(
        [CARTMATCH, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):  # the first start builds the database from the bundle
        try:
            urllib.request.urlopen(f"{base}/login", timeout=2).read()
            return server, base
        except OSError:
            time.sleep(0.1)
    server.terminate()
    raise SystemExit("cartmatch serve did not start within 60 s")


class User:
    """One signed-in browser: its cookie jar and its CSRF token."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.http = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        token = self._token("/login")
        self._post("/login", {"name": "admin", "password": PASSWORD, "csrf_token": token})
        self.token = self._token("/match")

    def _token(self, path: str) -> str:
        page = self.http.open(f"{self.base}{path}", timeout=60).read().decode()
        found = TOKEN.search(page)
        if found is None:
            raise SystemExit(f"no CSRF token on {path}: did sign-in fail?")
        return found.group(1)

    def _post(self, path: str, data: dict[str, str], headers: dict[str, str] | None = None) -> str:
        body = urllib.parse.urlencode(data).encode()
        request = urllib.request.Request(f"{self.base}{path}", body, headers or {})
        return self.http.open(request, timeout=120).read().decode()

    def match(self, referral: dict[str, str]) -> float:
        start = time.perf_counter()
        page = self._post("/match", {**referral, "csrf_token": self.token}, {"HX-Request": "true"})
        if '<li class="option' not in page and "No option" not in page:
            raise SystemExit("a match returned no options page")
        return time.perf_counter() - start


def _run_user(user: User, offset: int, stop_at: float, times: list[float]) -> None:
    for n in range(REQUESTS):
        if time.perf_counter() > stop_at:
            return
        times.append(user.match(REFERRALS[(offset + n) % len(REFERRALS)]))


def web(args: object) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        server, base = _start(tmp)
        try:
            users = [User(base) for _ in range(USERS)]
            users[0].match(REFERRALS[0])  # the first match reads the catalog: not measured
            alone = [users[0].match(r) for r in REFERRALS]  # one user: the service time
            times: list[float] = []
            start = time.perf_counter()
            threads = [
                threading.Thread(target=_run_user, args=(u, i, start + DEADLINE_S, times))
                for i, u in enumerate(users)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            wall = time.perf_counter() - start
        finally:
            server.terminate()
            server.wait(timeout=30)
    _print(times, wall, alone)


def _print(times: list[float], wall: float, alone: list[float]) -> None:
    ms = sorted(t * 1000 for t in times)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    print(f"web: one user alone, {len(alone)} referrals one after the other")
    print(f"  median {statistics.median(alone) * 1000:7.1f} ms")
    print(f"web: {USERS} users x up to {REQUESTS} referrals each, POST /match on loopback")
    print(f"  requests {len(ms):,} in {wall:.1f} s ({len(ms) / wall:.1f}/s)")
    print(f"  median {statistics.median(ms):7.1f} ms  (target < 300 ms)")
    print(f"  p95    {p95:7.1f} ms")
    print(f"  max    {ms[-1]:7.1f} ms")


if __name__ == "__main__":
    web(None)
