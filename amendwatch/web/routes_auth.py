"""Login and logout: the form, the rate limit, session rotation and the audit log."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from starlette.responses import Response
from starlette.routing import Route

from amendwatch.web import sessions
from amendwatch.web.accounts import verify_password
from amendwatch.web.core import Ctx, page, redirect
from store import users


def _safe_next(target: str) -> str:
    """Only a path on this site (never ``//host`` or a scheme): no open redirect."""
    parts = urlsplit(target)
    if not target.startswith("/") or target.startswith("//") or parts.scheme or parts.netloc:
        return "/"
    return target if "\\" not in target else "/"


def _login_form(ctx: Ctx, status: int = 200, message: str = "") -> Response:
    token = sessions.read_cookie(ctx.request, sessions.LOGIN_COOKIE, ctx.web.key(ctx.api))
    token = token or sessions.new_token()
    response = ctx.render(
        "login.html.j2", status, login_token=token, message=message,
        next=_safe_next(ctx.query("next") or ctx.field("next") or "/"),
    )  # fmt: skip
    secure = sessions.is_secure(ctx.request, ctx.web.options)
    sessions.set_cookie(response, sessions.LOGIN_COOKIE, token, ctx.web.key(ctx.api), secure=secure)
    return response


def login_page(ctx: Ctx) -> Response:
    """The form (also when logged in: logging in again, maybe as someone else, starts a new
    session and ends the current one)."""
    return _login_form(ctx)


def _rate_limited(ctx: Ctx, name: str) -> bool:
    options = ctx.web.options
    since = ctx.now - timedelta(minutes=options.login_window_minutes)
    by_user = users.failed_attempts(ctx.api.db, since, username=name)
    by_address = users.failed_attempts(ctx.api.db, since, address=ctx.address)
    return by_user >= options.max_failures_per_user or (
        by_address >= options.max_failures_per_address
    )


def login_submit(ctx: Ctx) -> Response:
    key = ctx.web.key(ctx.api)
    expected = sessions.read_cookie(ctx.request, sessions.LOGIN_COOKIE, key)
    if not sessions.csrf_matches(expected, ctx.field("csrf_token")):
        return ctx.error(403, "This login form has expired or did not come from this site.",
                         "Open the login page again.")  # fmt: skip
    name, password = ctx.field("username").strip(), ctx.field("password")
    if _rate_limited(ctx, name):  # not logged: the failures that led here were
        response = _login_form(ctx, 429, "Too many failed logins: wait a few minutes.")
        response.headers["Retry-After"] = str(int(ctx.web.options.login_window_minutes * 60))
        return response
    user = users.find_user(ctx.api.db, name) if name else None
    like = None if user else users.any_password_hash(ctx.api.db)
    ok = verify_password(user.password_hash if user else None, password, like=like)
    users.record_attempt(ctx.api.db, name, ctx.address, ok and user is not None, ctx.now)
    if not ok or user is None or user.disabled:
        ctx.audit("login failed", f"user {name}", who=name or "-")
        return _login_form(ctx, 400, "Wrong user name or password, or the account is disabled.")
    return _start_session(ctx, user, key)


def _start_session(ctx: Ctx, user: users.User, key: str) -> Response:
    if ctx.session is not None:  # a new session id at every login: the old one ends
        users.delete_session(ctx.api.db, ctx.session.id)
    old = sessions.read_cookie(ctx.request, sessions.SESSION_COOKIE, key)
    if old is not None:
        found = users.find_session(ctx.api.db, old)
        if found is not None:
            users.delete_session(ctx.api.db, found.id)
    token = users.create_session(ctx.api.db, user, ctx.now, ctx.address)
    ctx.audit("login", f"user {user.name}", who=user.name)
    users.forget_attempts(
        ctx.api.db, ctx.now - timedelta(minutes=10 * ctx.web.options.login_window_minutes)
    )
    response = redirect(_safe_next(ctx.field("next") or "/"))
    secure = sessions.is_secure(ctx.request, ctx.web.options)
    max_age = int(ctx.web.options.session_hours * 3600)
    sessions.set_cookie(
        response, sessions.SESSION_COOKIE, token, key, secure=secure, max_age=max_age
    )
    sessions.clear_cookie(response, sessions.LOGIN_COOKIE, secure=secure)
    return response


def logout(ctx: Ctx) -> Response:
    assert ctx.session is not None  # the route needs a login
    users.delete_session(ctx.api.db, ctx.session.id)
    ctx.audit("logout", f"user {ctx.user.name}")
    response = redirect("/login")
    secure = sessions.is_secure(ctx.request, ctx.web.options)
    sessions.clear_cookie(response, sessions.SESSION_COOKIE, secure=secure)
    return response


ROUTES = [
    Route("/login", page(login_page, None), methods=["GET"]),
    Route("/login", page(login_submit, None), methods=["POST"]),
    Route("/logout", page(logout, "viewer"), methods=["POST"]),
]
