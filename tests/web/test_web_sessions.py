"""Sessions: a new session id at every login (a planted or earlier cookie is never promoted),
a real logout, idle expiry, disabled accounts; the login rate limit per user name and per
address; cookie flags; no open redirect after login."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

from amendwatch.web.options import WebOptions
from amendwatch.web.sessions import SESSION_COOKIE
from store.users import token_digest
from tests.web.conftest import (
    PASSWORD,
    Clock,
    TestClient,
    logged_in,
    login,
    login_token,
    make_client,
)


def _cookie(client: TestClient) -> str:
    value = client.cookies.get(SESSION_COOKIE, domain="127.0.0.1")
    assert value is not None
    return value


def _use(client: TestClient, value: str) -> None:
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, value, domain="127.0.0.1")


def _sessions(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [row[0] for row in conn.execute("SELECT id FROM web_sessions")]


def test_login_makes_a_new_session_and_logout_ends_it(db_path: Path, clock: Clock) -> None:
    with make_client(db_path, clock) as client:
        _use(client, "planted.by-an-attacker")
        assert client.get("/").status_code == 303  # a cookie not signed here is no session
        first_token = logged_in(client, "viewer")
        first = _cookie(client)
        assert first != "planted.by-an-attacker"
        stored = _sessions(db_path)
        assert len(stored) == 1 and first.split(".")[0] not in stored  # only a digest is kept
        assert token_digest(first.split(".")[0]) == stored[0]

        second_token = logged_in(client, "reviewer")  # logging in again, over a live session
        second = _cookie(client)
        assert second != first and second_token != first_token
        assert len(_sessions(db_path)) == 1  # the earlier session ended

        _use(client, first)
        assert client.get("/").status_code == 303  # the old id is dead
        _use(client, second)
        assert client.get("/").status_code == 200

        assert client.post("/logout", data={"csrf_token": second_token}).status_code == 303
        assert _sessions(db_path) == []
        _use(client, second)  # replaying the cookie after logout
        answer = client.get("/")
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login")


def test_a_session_ends_when_idle(db_path: Path, clock: Clock) -> None:
    with make_client(db_path, clock, WebOptions(idle_minutes=30)) as client:
        logged_in(client, "viewer")
        clock.advance(timedelta(minutes=29))
        assert client.get("/").status_code == 200  # and this use counts as activity
        clock.advance(timedelta(minutes=29))
        assert client.get("/").status_code == 200
        clock.advance(timedelta(minutes=31))
        assert client.get("/").status_code == 303
        assert _sessions(db_path) == []


def test_disabling_an_account_ends_its_sessions(db_path: Path, clock: Clock) -> None:
    with make_client(db_path, clock) as admin, make_client(db_path, clock) as viewer:
        token = logged_in(admin, "admin")
        logged_in(viewer, "viewer")
        done = admin.post("/admin/users/disable", data={"name": "viewer", "csrf_token": token})
        assert done.status_code == 303
        assert viewer.get("/").status_code == 303
        assert login(viewer, "viewer").status_code == 400  # and it cannot log in again
        admin.post("/admin/users/enable", data={"name": "viewer", "csrf_token": token})
        assert login(viewer, "viewer").status_code == 303


def test_failed_logins_are_limited_per_user_name(db_path: Path, clock: Clock) -> None:
    options = WebOptions(max_failures_per_user=3, login_window_minutes=15)
    with make_client(db_path, clock, options) as client:
        for _ in range(3):
            assert login(client, "editor", "wrong password!").status_code == 400
        refused = login(client, "editor")  # the right password, but too late
        assert refused.status_code == 429 and "Retry-After" in refused.headers
        assert login(client, "viewer").status_code == 303  # another user is not held up
        clock.advance(timedelta(minutes=16))
        assert login(client, "editor").status_code == 303


def test_failed_logins_are_limited_per_address(db_path: Path, clock: Clock) -> None:
    options = WebOptions(max_failures_per_user=100, max_failures_per_address=4)
    with make_client(db_path, clock, options) as client:
        for name in ("nobody", "reviewer", "editor", "viewer"):
            assert login(client, name, "not the password").status_code == 400
        assert login(client, "admin").status_code == 429  # every name, from this address
    with sqlite3.connect(db_path) as conn:
        actions = [r[0] for r in conn.execute("SELECT action FROM audit_log ORDER BY id")]
    assert actions.count("login failed") == 4 and actions[-1] == "login failed"


def test_cookies_are_httponly_samesite_and_secure_over_https(db_path: Path, clock: Clock) -> None:
    with make_client(db_path, clock) as client:
        answer = login(client, "viewer")
        cookie = answer.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
    with make_client(db_path, clock, WebOptions(secure_cookies=True)) as client:
        cookie = client.get("/login").headers["set-cookie"].lower()  # behind a TLS proxy
        assert "; secure" in cookie and "httponly" in cookie
    from amendwatch.config import Settings  # noqa: PLC0415
    from amendwatch.web.app import create_app  # noqa: PLC0415

    app = create_app(Settings(db_path=db_path), clock)
    with TestClient(app, base_url="https://127.0.0.1", follow_redirects=False) as client:
        form = client.get("/login")
        answer = client.post(
            "/login",
            data={"username": "viewer", "password": PASSWORD, "csrf_token": login_token(form)},
        )
        assert answer.status_code == 303 and "; secure" in answer.headers["set-cookie"].lower()


def test_login_redirects_only_within_the_site(db_path: Path, clock: Clock) -> None:
    with make_client(db_path, clock) as client:
        first = client.get("/changes?status=open")
        assert first.headers["location"] == "/login?next=%2Fchanges%3Fstatus%3Dopen"
        for target, expected in (
            ("/changes?status=open", "/changes?status=open"),
            ("https://evil.example/", "/"),
            ("//evil.example/x", "/"),
            ("/\\evil.example", "/"),
        ):
            form = client.get("/login")
            answer = client.post(
                "/login",
                data={"username": "viewer", "password": PASSWORD, "next": target,
                      "csrf_token": login_token(form)},
            )  # fmt: skip
            assert answer.headers["location"] == expected, target
