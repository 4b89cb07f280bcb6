"""Every route × every role: without a login a page redirects to /login; with too small a role
it is 403; with the role it needs it answers (200, or 303 after a POST). A POST without its
CSRF token, or with a wrong one, is 403; every answer carries the security headers."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from store.db import SCHEMA_VERSION
from store.users import ROLES
from tests.web.conftest import Clock, csrf_of, logged_in, make_client


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    role: str
    form: dict[str, str] = field(default_factory=dict)


GETS = [
    Route("GET", path, "viewer")
    for path in (
        "/", "/changes", "/changes/1", "/changes?status=open&impact=high", "/reports",
        "/reports/latest.html", "/reports/2026-W47.html", "/drafts", "/drafts?period=2026-11",
        "/drafts/1", "/drafts/export?period=2026-11&format=html",
        "/drafts/export?period=2026-11&format=md", "/chapters", "/chapters/1",
        "/chapters/1?as_of=2026-11-10", "/chapters/1?section=1:1:0", "/chapters/1/compare",
        "/manuals/northmoor", "/manuals/northmoor?as_of=2026-11-05", "/search",
        "/search?q=conference", "/runs", "/feeds", "/feeds/northmoor.atom",
    )
] + [
    Route("GET", path, "admin") for path in ("/admin/users", "/admin/manuals", "/admin/audit")
]  # fmt: skip
POSTS = [
    Route("POST", "/changes/1/review", "reviewer", {"status": "acknowledged", "impact": "low"}),
    Route("POST", "/drafts/generate", "editor", {"period": "2026-11"}),
    Route("POST", "/drafts/2/edit", "editor", {"details": "The chapter was updated."}),
    Route("POST", "/drafts/2/approve", "editor"),
    Route("POST", "/drafts/3/reject", "editor"),
    Route("POST", "/admin/users/add", "admin",
          {"name": "newcomer", "role": "viewer", "password": "a fine long password"}),
    Route("POST", "/admin/users/role", "admin", {"name": "newcomer", "role": "reviewer"}),
    Route("POST", "/admin/manuals/add", "admin",
          {"name": "second", "contents_url": "http://127.0.0.1:9/contents.html"}),
]  # fmt: skip
ROUTES = GETS + POSTS


def _answer(client: object, route: Route, token: str) -> int:
    form = {**route.form, "csrf_token": token}
    if route.method == "GET":
        return int(client.get(route.path).status_code)  # type: ignore[attr-defined]
    return int(client.post(route.path, data=form).status_code)  # type: ignore[attr-defined]


@pytest.mark.parametrize("role", ROLES)
def test_each_route_answers_each_role_as_its_rank_allows(
    role: str, db_path: Path, clock: Clock
) -> None:
    wrong = []
    with make_client(db_path, clock) as client:
        token = logged_in(client, role)
        for route in ROUTES:
            allowed = ROLES.index(role) >= ROLES.index(route.role)
            expected = (200 if route.method == "GET" else 303) if allowed else 403
            status = _answer(client, route, token)
            if status != expected:
                wrong.append(f"{route.method} {route.path}: {status}, expected {expected}")
    assert not wrong, "\n".join(wrong)


def test_without_a_login_every_route_redirects_to_the_login_page(
    db_path: Path, clock: Clock
) -> None:
    with make_client(db_path, clock) as client:
        for route in [*ROUTES, Route("POST", "/logout", "viewer")]:
            answer = (
                client.get(route.path)
                if route.method == "GET"
                else client.post(route.path, data=route.form)
            )
            assert answer.status_code == 303, route
            assert answer.headers["location"].startswith("/login?next="), route
        assert client.get("/login").status_code == 200
        assert client.get("/healthz").json() == {"status": "ok", "schema": SCHEMA_VERSION}


def test_a_post_without_or_with_a_wrong_csrf_token_is_refused(db_path: Path, clock: Clock) -> None:
    with make_client(db_path, clock) as client, make_client(db_path, clock) as other:
        token = logged_in(client, "admin")
        foreign = logged_in(other, "admin")  # a valid token, of another session
        form = {"status": "done", "impact": "high"}
        for given in (None, "", "forged-token", foreign, token[:-1]):
            data = form if given is None else {**form, "csrf_token": given}
            answer = client.post("/changes/1/review", data=data)
            assert answer.status_code == 403, given
            assert "did not come from this site" in answer.text
        assert client.post("/logout", data={}).status_code == 403
        assert client.get("/").status_code == 200  # still logged in: the logout was refused
        done = client.post("/changes/1/review", data={**form, "csrf_token": token})
        assert done.status_code == 303
        assert "done" in client.get("/changes/1").text


def test_the_login_form_needs_its_own_token(db_path: Path, clock: Clock) -> None:
    with make_client(db_path, clock) as client:
        login = {"username": "admin", "password": "correct horse battery staple"}
        assert client.post("/login", data=login).status_code == 403  # no login cookie
        token = csrf_of(client.get("/login"))
        assert client.post("/login", data={**login, "csrf_token": "x" + token}).status_code == 403
        assert client.post("/login", data={**login, "csrf_token": token}).status_code == 303


def test_every_answer_carries_the_security_headers(db_path: Path, clock: Clock) -> None:
    with make_client(db_path, clock) as client:
        logged_in(client, "viewer")
        for path in ("/login", "/", "/changes/1", "/chapters/1", "/static/app.css", "/nowhere"):
            headers = client.get(path).headers
            policy = headers["content-security-policy"]
            assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, path
            assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy, path
            assert headers["x-content-type-options"] == "nosniff"
            assert headers["referrer-policy"] == "same-origin"
            assert headers["x-frame-options"] == "DENY"
        report = client.get("/reports/latest.html")  # its own <style>, allowed by its hash
        policy = report.headers["content-security-policy"]
        assert "'sha256-" in policy and "unsafe-inline" not in policy
        assert "script-src" not in policy and "default-src 'none'" in policy
        page = client.get("/")
        assert "<script>" not in page.text and " style=" not in page.text
        assert 'src="/static/app.js"' in page.text


def test_an_unknown_host_is_refused(db_path: Path, clock: Clock) -> None:
    with make_client(db_path, clock) as client:
        assert client.get("/login", headers={"Host": "rebind.example"}).status_code == 421
        assert client.get("/login", headers={"Host": "localhost:8080"}).status_code == 200
