"""Helpers of the web app tests: the test client, signing in, posting a form with its token."""

from __future__ import annotations

import re
import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's note on httpx, not ours
    from fastapi.testclient import TestClient

PASSWORD = "correct-horse-battery"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def token_of(client: TestClient, path: str = "/login") -> str:
    return TOKEN.search(client.get(path).text).group(1)


def sign_in(client: TestClient, name: str, password: str = PASSWORD, next_path: str = "/match"):
    data = {"name": name, "password": password, "next": next_path}
    return client.post(
        "/login", data={**data, "csrf_token": token_of(client)}, follow_redirects=False
    )


def post(client: TestClient, path: str, data: dict, **kwargs):
    """A POST with the page's CSRF token, as a browser sends the form."""
    return client.post(path, data={**data, "csrf_token": token_of(client, "/match")}, **kwargs)


__all__ = ["PASSWORD", "TestClient", "post", "sign_in", "token_of"]
