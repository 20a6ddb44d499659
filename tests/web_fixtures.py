"""Fixtures of the web app tests: a database with one user of each role, signed-in clients."""

from __future__ import annotations

from pathlib import Path

import pytest

from matcher.storage.users import add_user
from matcher.web.passwords import hash_password
from tests.conftest import copy_db
from tests.web_client import PASSWORD, TestClient, sign_in


@pytest.fixture(scope="module")
def _team_db(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Path:
    """A database copy with one user of each role (hashing is slow: made once a module)."""
    path = tmp_path_factory.mktemp("web") / "team.db"
    copy_db(request.getfixturevalue("_session_db"), path)
    hashed = hash_password(PASSWORD)
    for name, role in (("mei", "coordinator"), ("cura", "curator"), ("boss", "admin")):
        add_user(path, name, role, hashed, by="test")
    return path


@pytest.fixture
def web_db(_team_db: Path, tmp_path: Path) -> Path:
    path = tmp_path / "web.db"
    copy_db(_team_db, path)
    return path


@pytest.fixture
def app(web_db: Path):
    """The app on its own database copy; its bulk jobs' files removed afterwards, as the app
    removes them when it stops (the test client runs no shutdown)."""
    from matcher.web.app import create_app

    built = create_app(web_db)
    yield built
    state = built.app.app.state.web
    if state.jobs is not None:
        state.jobs.close()


@pytest.fixture
def anonymous(app) -> TestClient:
    return TestClient(app)


@pytest.fixture
def coordinator(app) -> TestClient:
    client = TestClient(app)
    assert sign_in(client, "mei").status_code == 303
    return client


@pytest.fixture
def admin(app) -> TestClient:
    client = TestClient(app)
    assert sign_in(client, "boss").status_code == 303
    return client
