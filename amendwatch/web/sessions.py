"""Session cookies and CSRF tokens.

The session cookie carries a random token signed with the database's key (itsdangerous); the
server keeps only the token's SHA-256 (``web_sessions``), so logout, disabling an account or a
new password end a session for good, and a new session is made at each login (a token planted
before login is never promoted). A session ends after ``idle_minutes`` unused and
``session_hours`` after its login. Each session has its own CSRF token, which every POST form
carries; the login form, before any session exists, carries one that must match a signed
cookie of its own (double submit)."""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime, timedelta
from typing import Final

from itsdangerous import BadSignature, Signer
from sqlite_utils import Database
from starlette.requests import Request
from starlette.responses import Response

from amendwatch.web.options import WebOptions
from store import users
from store.users import Session

SESSION_COOKIE: Final = "aw_session"
LOGIN_COOKIE: Final = "aw_login"
TOUCH_EVERY: Final = timedelta(minutes=1)  # last_seen is written at most this often


def _signer(key: str, purpose: str) -> Signer:
    return Signer(key, salt=f"amendwatch.{purpose}")


def read_cookie(request: Request, name: str, key: str) -> str | None:
    """The token a signed cookie carries; None when absent or not signed by ``key``."""
    raw = request.cookies.get(name)
    if not raw:
        return None
    try:
        return _signer(key, name).unsign(raw).decode()
    except (BadSignature, UnicodeDecodeError):
        return None


def is_secure(request: Request, options: WebOptions) -> bool:
    if options.secure_cookies is not None:
        return options.secure_cookies
    return request.url.scheme == "https"


def set_cookie(
    response: Response,
    name: str,
    token: str,
    key: str,
    *,
    secure: bool,
    max_age: int | None = None,
) -> None:
    response.set_cookie(
        name,
        _signer(key, name).sign(token).decode(),
        max_age=max_age,
        path="/",
        secure=secure,
        httponly=True,
        samesite="lax",
    )


def clear_cookie(response: Response, name: str, *, secure: bool) -> None:
    response.delete_cookie(name, path="/", secure=secure, httponly=True, samesite="lax")


def current_session(
    db: Database, request: Request, options: WebOptions, now: datetime, key: str
) -> Session | None:
    """The live session the request's cookie names; an expired one is deleted here."""
    token = read_cookie(request, SESSION_COOKIE, key)
    if token is None:
        return None
    session = users.find_session(db, token)
    if session is None:
        return None
    idle = now - session.last_seen > timedelta(minutes=options.idle_minutes)
    old = now - session.created_at > timedelta(hours=options.session_hours)
    if idle or old or session.user.disabled:
        users.delete_session(db, session.id)
        return None
    if now - session.last_seen >= TOUCH_EVERY:
        users.touch_session(db, session.id, now)
    return session


def csrf_matches(expected: str | None, given: object) -> bool:
    """Constant-time comparison of a form's ``csrf_token`` with the expected one."""
    if not expected or not isinstance(given, str) or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


def new_token() -> str:
    return secrets.token_urlsafe(32)
