"""Accounts: argon2id password hashes, and adding, disabling and changing users (each action in
the audit log). The ``amendwatch user`` commands and the admin pages both call these."""

from __future__ import annotations

import functools
import re
from typing import Final

from argon2 import PasswordHasher, extract_parameters
from argon2.exceptions import InvalidHashError, VerificationError

from amendwatch.api import Amendwatch
from amendwatch.errors import InputError
from store import auditlog, users
from store.users import ROLES, User

__all__ = [
    "MIN_PASSWORD",
    "ROLES",
    "add_account",
    "check_password",
    "disable_account",
    "hash_password",
    "set_account_role",
    "set_password",
    "verify_password",
]

MIN_PASSWORD: Final = 10
MAX_PASSWORD: Final = 1024
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
_HASHER = PasswordHasher()  # argon2id with argon2-cffi's RFC 9106 "low memory" parameters
_FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)  # tests only


def hash_password(password: str, *, fast: bool = False) -> str:
    """An argon2id hash (``fast``: the cheapest parameters, for tests)."""
    return (_FAST_HASHER if fast else _HASHER).hash(password)


@functools.cache
def _dummy_hash(like: str | None) -> str:
    """A hash made with the parameters of ``like`` (another account's hash; the default
    parameters when there is none)."""
    hasher = _HASHER
    if like is not None:
        try:
            hasher = PasswordHasher.from_parameters(extract_parameters(like))
        except InvalidHashError:
            hasher = _HASHER
    return hasher.hash("not a password of anyone")


def verify_password(stored: str | None, password: str, *, like: str | None = None) -> bool:
    """Whether ``password`` matches ``stored``. None (no such user) is False, after as long a
    check as for an account whose hash is ``like`` (so that timing tells no user names)."""
    try:
        return _HASHER.verify(stored or _dummy_hash(like), password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise InputError(
            f"{name!r} is not a usable user name",
            hint="letters, digits and . _ @ - (up to 64, starting with a letter or digit)",
        )
    return name


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD or len(password) > MAX_PASSWORD:
        raise InputError(
            f"a password needs at least {MIN_PASSWORD} characters",
            hint="choose a longer one (a passphrase of a few words is easy to type)",
        )
    return password


def add_account(
    app: Amendwatch, name: str, role: str, password: str, *, who: str, address: str = "",
    fast: bool = False,
) -> User:  # fmt: skip
    users.check_role(role)
    check_name(name)
    check_password(password)
    if users.find_user(app.db, name) is not None:  # before the (slow) hash
        raise InputError(f"user {name!r} exists", hint="choose another name, or `user passwd`")
    user = users.add_user(app.db, name, role, hash_password(password, fast=fast), app.clock())
    _log(app, who, "user add", name, f"role={role}", address)
    return user


def set_password(
    app: Amendwatch, name: str, password: str, *, who: str, address: str = "", fast: bool = False
) -> User:
    check_password(password)
    user = users.set_password_hash(app.db, name, hash_password(password, fast=fast), app.clock())
    _log(app, who, "user passwd", name, "", address)
    return user


def disable_account(
    app: Amendwatch, name: str, *, who: str, address: str = "", disabled: bool = True
) -> User:
    user = users.set_disabled(app.db, name, disabled, app.clock())
    _log(app, who, "user disable" if disabled else "user enable", name, "", address)
    return user


def set_account_role(app: Amendwatch, name: str, role: str, *, who: str, address: str = "") -> User:
    user = users.set_role(app.db, name, role, app.clock())
    _log(app, who, "user role", name, f"role={role}", address)
    return user


def _log(app: Amendwatch, who: str, action: str, name: str, detail: str, address: str) -> None:
    auditlog.log_action(
        app.db, who=who, action=action, target=f"user {name}", detail=detail, address=address,
        now=app.clock(),
    )  # fmt: skip
