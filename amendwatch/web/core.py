"""What every page shares: the application's state, one request's context, and :func:`page`,
which turns a handler into an endpoint that opens the database, finds the session, enforces the
role and the CSRF token, runs the handler and turns expected failures into error pages.

A handler runs in a worker thread with its own SQLite connection (opened and closed around it:
connections are not shared between threads); the form is read before, in the event loop.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from jinja2 import Environment
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from amendwatch.api import Amendwatch
from amendwatch.config import Settings
from amendwatch.errors import AmendwatchError, InputError, LockError, NotFoundError
from amendwatch.snapshotrun import Clock
from amendwatch.web import sessions
from amendwatch.web.options import WebOptions
from store import auditlog, users
from store.users import Session, User

log = logging.getLogger("amendwatch.web")
Handler = Callable[["Ctx"], Response]
Endpoint = Callable[[Request], Awaitable[Response]]
MAX_FIELDS = 64


@dataclass(frozen=True)
class Web:
    """The application: settings, clock, options and templates, shared by every request."""

    settings: Settings
    clock: Clock
    options: WebOptions
    env: Environment
    cache: dict[str, str] = field(default_factory=dict)  # the cookie key, once read
    # the dashboard's ranked changes, kept while no run or change was added (one entry)
    memo: dict[tuple[object, ...], Any] = field(default_factory=dict)

    def key(self, api: Amendwatch) -> str:
        if "key" not in self.cache:
            self.cache["key"] = users.signing_key(api.db)
        return self.cache["key"]


@dataclass(frozen=True)
class Ctx:
    """One request, as a handler sees it."""

    web: Web
    api: Amendwatch
    request: Request
    form: FormData | None
    session: Session | None
    now: datetime

    @property
    def user(self) -> User:
        assert self.session is not None, "only pages that need a login use ctx.user"
        return self.session.user

    @property
    def address(self) -> str:
        return self.request.client.host if self.request.client else ""

    def field(self, name: str, default: str = "") -> str:
        value = self.form.get(name) if self.form is not None else None
        return value if isinstance(value, str) else default

    def query(self, name: str, default: str = "") -> str:
        return self.request.query_params.get(name, default)

    def render(self, template: str, code: int = 200, **values: Any) -> HTMLResponse:
        page = self.web.env.get_template(template).render(
            user=self.session.user if self.session else None,
            csrf_token=self.session.csrf_token if self.session else "",
            path=self.request.url.path,
            tz=UTC,
            **values,
        )
        return HTMLResponse(page, status_code=code)

    def audit(self, action: str, target: str = "", detail: str = "", who: str = "") -> None:
        auditlog.log_action(
            self.api.db, who=who or self.user.name, action=action, target=target,
            detail=detail, address=self.address, now=self.now,
        )  # fmt: skip

    def error(self, status: int, message: str, hint: str = "") -> HTMLResponse:
        return self.render("error.html.j2", status, status=status, message=message, hint=hint)


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def login_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return redirect(f"/login?next={quote(target, safe='')}")


def page(handler: Handler, role: str | None) -> Endpoint:
    """An endpoint for ``handler``: ``role`` None is public (the handler checks what it must);
    else a login with that role or a higher one is needed, and a POST needs the CSRF token."""

    async def endpoint(request: Request) -> Response:
        web: Web = request.app.state.web
        form = await _form(request) if request.method == "POST" else None
        return await run_in_threadpool(_run, web, handler, role, request, form)

    endpoint.__name__ = handler.__name__
    return endpoint


async def _form(request: Request) -> FormData:
    try:
        return await request.form(max_files=0, max_fields=MAX_FIELDS)
    except (HTTPException, ValueError) as exc:
        raise HTTPException(400, "the form could not be read") from exc


def _run(
    web: Web, handler: Handler, role: str | None, request: Request, form: FormData | None
) -> Response:
    try:
        api = Amendwatch.open(web.settings, web.clock)
    except AmendwatchError as exc:
        log.error("cannot open the database: %s", exc)
        return HTMLResponse(f"<h1>Service unavailable</h1><p>{_plain(exc)}</p>", 503)
    try:
        now = web.clock()
        session = sessions.current_session(api.db, request, web.options, now, web.key(api))
        ctx = Ctx(web, api, request, form, session, now)
        refused = _refusal(ctx, role)
        return refused if refused is not None else _handle(ctx, handler)
    finally:
        api.close()


def _refusal(ctx: Ctx, role: str | None) -> Response | None:
    if role is None:
        return None
    if ctx.session is None:
        return login_redirect(ctx.request)
    if ctx.request.method == "POST" and not sessions.csrf_matches(
        ctx.session.csrf_token, ctx.field("csrf_token")
    ):
        return ctx.error(403, "This form has expired or did not come from this site.",
                         "Go back, reload the page and try again.")  # fmt: skip
    if not ctx.user.can(role):
        return ctx.error(403, f"This needs the {role} role; you are a {ctx.user.role}.",
                         "Ask an administrator if you need it.")  # fmt: skip
    return None


def _handle(ctx: Ctx, handler: Handler) -> Response:
    try:
        return handler(ctx)
    except NotFoundError as exc:
        return ctx.error(404, _message(exc), exc.hint)
    except LockError as exc:
        return ctx.error(503, _message(exc), exc.hint)
    except InputError as exc:
        return ctx.error(400, _message(exc), exc.hint)
    except AmendwatchError as exc:
        log.error("%s %s: %s", ctx.request.method, ctx.request.url.path, exc)
        return ctx.error(500, _message(exc), exc.hint)


def _message(exc: AmendwatchError) -> str:
    return str(exc.args[0]) if exc.args else str(exc)


def _plain(exc: AmendwatchError) -> str:
    from html import escape  # noqa: PLC0415

    return escape(str(exc))


def int_param(value: str, default: int | None = None) -> int:
    """A positive integer from a query or form value (InputError otherwise)."""
    if not value and default is not None:
        return default
    if not value.isdigit():
        raise InputError(f"{value!r} is not a number")
    return int(value)


def choices(value: str, allowed: Mapping[str, Any] | tuple[str, ...]) -> str:
    """``value`` when allowed, else "" (filters: anything unknown means "any")."""
    return value if value in allowed else ""
