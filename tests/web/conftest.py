"""The web application over a real database: the demo manual served on loopback, snapshotted
through the CLI at three editions (once per session), with drafts and one account per role;
each test gets its own copy of the file and a Starlette TestClient (real HTTP semantics, the
ASGI app in process)."""

from __future__ import annotations

import re
import shutil
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result

with warnings.catch_warnings():  # starlette 1.x would rather have httpx2: httpx works as well
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from amendwatch.cli import cli
from amendwatch.config import Settings
from amendwatch.demo.server import DemoServer
from amendwatch.web.accounts import hash_password
from amendwatch.web.app import create_app
from amendwatch.web.options import WebOptions
from store.db import open_db
from store.users import ROLES, add_user

NOW = datetime(2026, 11, 17, 10, 0, tzinfo=UTC)  # the day after edition 3 was snapshotted
PASSWORD = "correct horse battery staple"
EDITIONS = (
    (1, "2026-11-02T09:00:00+00:00"),
    (2, "2026-11-09T09:00:00+00:00"),
    (3, "2026-11-16T09:00:00+00:00"),
)
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def run(db: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--db", str(db), *args], catch_exceptions=False)


def build(path: Path) -> Path:
    with DemoServer(dynamic=False) as server:
        added = run(path, "manual", "add", "northmoor", f"{server.base_url}/")
        assert added.exit_code == 0, added.output
        for edition, at in EDITIONS:
            server.set_edition(edition)
            result = run(path, "snapshot", "--at", at)
            assert result.exit_code == 0, result.output
    assert run(path, "draft", "--period", "2026-11", "--format", "json").exit_code == 0
    assert run(path, "draft", "approve", "1", "--who", "editor").exit_code == 0
    return build_users(path)


def build_users(path: Path) -> Path:
    """One account per role, named after it (cheap hashes: tests only)."""
    db = open_db(path)
    for role in ROLES:
        add_user(db, role, role, hash_password(PASSWORD, fast=True), NOW)
    db.close()
    return path


@pytest.fixture(scope="session")
def web_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("web") / "aw.db")


@pytest.fixture
def db_path(web_db: Path, tmp_path: Path) -> Path:
    target = tmp_path / "web.db"
    shutil.copyfile(web_db, target)
    return target


@dataclass
class Clock:
    """A clock the test moves (idle expiry, rate-limit windows)."""

    now: datetime = NOW
    steps: list[timedelta] = field(default_factory=list)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture
def clock() -> Clock:
    return Clock()


def make_client(
    db: Path, clock: Callable[[], datetime], options: WebOptions | None = None
) -> TestClient:
    app = create_app(Settings(db_path=db), clock, options)
    return TestClient(app, base_url="http://127.0.0.1", follow_redirects=False)


@pytest.fixture
def client(db_path: Path, clock: Clock) -> Iterator[TestClient]:
    with make_client(db_path, clock) as test_client:
        yield test_client


def csrf_of(page: httpx.Response) -> str:
    found = _TOKEN.search(page.text)
    assert found is not None, page.text[:500]
    return found.group(1)


def login_token(page: httpx.Response) -> str:
    """The login form's own token (a logged-in page also has the logout form's)."""
    form = page.text[page.text.index('action="/login"') :]
    found = _TOKEN.search(form)
    assert found is not None, page.text[:500]
    return found.group(1)


def login(client: TestClient, name: str, password: str = PASSWORD) -> httpx.Response:
    form = client.get("/login")
    assert form.status_code == 200
    return client.post(
        "/login",
        data={"username": name, "password": password, "csrf_token": login_token(form)},
    )


def logged_in(client: TestClient, name: str) -> str:
    """Log ``name`` in; returns the session's CSRF token (from the dashboard's logout form)."""
    answer = login(client, name)
    assert answer.status_code == 303, answer.text[:500]
    return csrf_of(client.get("/"))
