"""Accounts of the web application, their browser sessions and login attempts (schema 0013).

Passwords arrive here already hashed (argon2id, ``amendwatch.web.accounts``); a session row
is keyed by the SHA-256 of the token its cookie carries, never by the token itself. Times are
UTC ISO strings, as everywhere in the store.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlite_utils import Database

from amendwatch.errors import InputError, NotFoundError
from store.rows import fetch_all, fetch_one, from_db_time, insert, to_db_time, write_transaction

ROLES: Final = ("viewer", "reviewer", "editor", "admin")  # each can do all the previous can


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: str
    disabled: bool
    created_at: datetime
    updated_at: datetime
    password_hash: str = ""

    def can(self, role: str) -> bool:
        """Whether this account has ``role`` or a higher one (and is not disabled)."""
        return not self.disabled and ROLES.index(self.role) >= ROLES.index(role)


@dataclass(frozen=True)
class Session:
    id: str  # the SHA-256 of the cookie's token
    user: User
    csrf_token: str
    created_at: datetime
    last_seen: datetime


def _user(row: dict[str, Any]) -> User:
    return User(
        id=row["id"],
        name=row["name"],
        role=row["role"],
        disabled=bool(row["disabled"]),
        created_at=from_db_time(row["created_at"]),
        updated_at=from_db_time(row["updated_at"]),
        password_hash=row["password_hash"],
    )


def check_role(role: str) -> str:
    if role not in ROLES:
        raise InputError(f"unknown role {role!r}", hint=f"use one of: {', '.join(ROLES)}")
    return role


def add_user(db: Database, name: str, role: str, password_hash: str, now: datetime) -> User:
    check_role(role)
    if find_user(db, name) is not None:
        raise InputError(f"user {name!r} exists", hint="choose another name, or `user passwd`")
    stamp = to_db_time(now)
    with write_transaction(db):
        insert(
            db,
            "INSERT INTO users (name, role, password_hash, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (name, role, password_hash, stamp, stamp),
        )
    return get_user(db, name)


def find_user(db: Database, name: str) -> User | None:
    row = fetch_one(db, "SELECT * FROM users WHERE name = ?", (name,))
    return None if row is None else _user(row)


def get_user(db: Database, name: str) -> User:
    found = find_user(db, name)
    if found is None:
        raise NotFoundError(f"no user {name!r}", hint="`amendwatch user list` shows the accounts")
    return found


def any_password_hash(db: Database) -> str | None:
    """The newest account's password hash (its parameters time a check for an unknown name)."""
    row = fetch_one(db, "SELECT password_hash FROM users ORDER BY updated_at DESC LIMIT 1")
    return None if row is None else str(row["password_hash"])


def list_users(db: Database) -> tuple[User, ...]:
    return tuple(_user(r) for r in fetch_all(db, "SELECT * FROM users ORDER BY name"))


def _update_user(db: Database, name: str, now: datetime, sql: str, params: tuple[Any, ...]) -> User:
    user = get_user(db, name)
    with write_transaction(db):
        db.execute(
            f"UPDATE users SET {sql}, updated_at = ? WHERE id = ?",
            (*params, to_db_time(now), user.id),
        )
        db.execute("DELETE FROM web_sessions WHERE user_id = ?", (user.id,))
    return get_user(db, name)


def set_disabled(db: Database, name: str, disabled: bool, now: datetime) -> User:
    """Disable (or enable) an account; its sessions end either way."""
    return _update_user(db, name, now, "disabled = ?", (int(disabled),))


def set_password_hash(db: Database, name: str, password_hash: str, now: datetime) -> User:
    """A new password: every session of the account ends."""
    return _update_user(db, name, now, "password_hash = ?", (password_hash,))


def set_role(db: Database, name: str, role: str, now: datetime) -> User:
    return _update_user(db, name, now, "role = ?", (check_role(role),))


# sessions ------------------------------------------------------------------------------
def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_session(db: Database, user: User, now: datetime, address: str = "") -> str:
    """A new session for ``user``; returns its token (only its digest is stored)."""
    token = secrets.token_urlsafe(32)
    stamp = to_db_time(now)
    with write_transaction(db):
        db.execute(
            "INSERT INTO web_sessions (id, user_id, csrf_token, created_at, last_seen, address)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (token_digest(token), user.id, secrets.token_urlsafe(32), stamp, stamp, address),
        )
    return token


def find_session(db: Database, token: str) -> Session | None:
    row = fetch_one(
        db,
        "SELECT s.id AS sid, s.csrf_token, s.created_at AS s_created, s.last_seen, u.*"
        " FROM web_sessions s JOIN users u ON u.id = s.user_id WHERE s.id = ?",
        (token_digest(token),),
    )
    if row is None:
        return None
    return Session(
        id=row["sid"],
        user=_user(row),
        csrf_token=row["csrf_token"],
        created_at=from_db_time(row["s_created"]),
        last_seen=from_db_time(row["last_seen"]),
    )


def touch_session(db: Database, session_id: str, now: datetime) -> None:
    db.execute("UPDATE web_sessions SET last_seen = ? WHERE id = ?", (to_db_time(now), session_id))


def delete_session(db: Database, session_id: str) -> None:
    db.execute("DELETE FROM web_sessions WHERE id = ?", (session_id,))


def delete_idle_sessions(db: Database, idle_before: datetime, created_before: datetime) -> int:
    cursor = db.execute(
        "DELETE FROM web_sessions WHERE last_seen < ? OR created_at < ?",
        (to_db_time(idle_before), to_db_time(created_before)),
    )
    return int(cursor.rowcount)


# login attempts ------------------------------------------------------------------------
def record_attempt(db: Database, username: str, address: str, ok: bool, now: datetime) -> None:
    db.execute(
        "INSERT INTO login_attempts (at, username, address, ok) VALUES (?, ?, ?, ?)",
        (to_db_time(now), username[:200], address, int(ok)),
    )


def failed_attempts(
    db: Database, since: datetime, *, username: str | None = None, address: str | None = None
) -> int:
    """Failed logins since ``since`` for one user name or from one address."""
    column, value = ("username", username[:200]) if username is not None else ("address", address)
    row = fetch_one(
        db,
        f"SELECT COUNT(*) AS n FROM login_attempts WHERE {column} = ? AND at >= ? AND ok = 0",
        (value, to_db_time(since)),
    )
    return int(row["n"]) if row else 0


def forget_attempts(db: Database, before: datetime) -> None:
    """Attempts older than any rate-limit window are no longer needed."""
    db.execute("DELETE FROM login_attempts WHERE at < ?", (to_db_time(before),))


# the application's own settings ----------------------------------------------------------
def meta_value(db: Database, name: str) -> str | None:
    row = fetch_one(db, "SELECT value FROM web_meta WHERE name = ?", (name,))
    return None if row is None else str(row["value"])


def set_meta(db: Database, name: str, value: str) -> None:
    db.execute(
        "INSERT INTO web_meta (name, value) VALUES (?, ?)"
        " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        (name, value),
    )


def signing_key(db: Database) -> str:
    """The key that signs session cookies: made once, kept in the database."""
    key = meta_value(db, "cookie_key")
    if key is None:
        db.execute(
            "INSERT OR IGNORE INTO web_meta (name, value) VALUES ('cookie_key', ?)",
            (secrets.token_hex(32),),
        )
        key = meta_value(db, "cookie_key")
    assert key is not None
    return key
