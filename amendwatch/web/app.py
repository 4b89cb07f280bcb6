"""The ASGI application: :func:`create_app` wires the routes, the static files and the security
middleware (Host allow-list, Content-Security-Policy and the other headers on every answer)."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from amendwatch.api import utc_now
from amendwatch.config import Settings
from amendwatch.serve import allowed_host_names, host_of
from amendwatch.snapshotrun import Clock
from amendwatch.web import routes_admin, routes_auth, routes_chapters, routes_drafts, routes_review
from amendwatch.web.core import Web
from amendwatch.web.options import WebOptions
from amendwatch.web.templating import environment, report_css

STATIC: Final = Path(__file__).parent / "static"
# no inline script or style, nothing from elsewhere, no framing, forms only to this site
POLICY: Final = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)
HEADERS: Final = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), interest-cohort=()"),
)


class SecurityHeaders:
    """Pure ASGI middleware: answers a request for an unknown Host 421 (400 without one, so a
    DNS-rebinding page cannot read the app) and adds the security headers to every answer
    (a page that sets its own Content-Security-Policy keeps it)."""

    def __init__(self, app: ASGIApp, options: WebOptions) -> None:
        self.app = app
        self.allowed = allowed_host_names(options.bound_host, options.allowed_hosts)
        self.hsts = options.hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        host = dict(scope["headers"]).get(b"host", b"").decode("latin-1")
        if not host or host_of(host) not in self.allowed:
            status = 400 if not host else 421
            answer = Response("unknown host\n" if host else "a Host header is required\n",
                              status_code=status, media_type="text/plain")  # fmt: skip
            await answer(scope, receive, self._sending(send))
            return
        static = str(scope.get("path", "")).startswith("/static/")
        await self.app(scope, receive, self._sending(send, static))

    def _sending(self, send: Send, static: bool = False) -> Send:
        cache = b"max-age=3600" if static else b"no-store"

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                if b"content-security-policy" not in names:
                    headers.append((b"content-security-policy", POLICY.encode()))
                if b"cache-control" not in names:
                    headers.append((b"cache-control", cache))
                headers.extend(HEADERS)
                if self.hsts:
                    headers.append((b"strict-transport-security", b"max-age=31536000"))
                message = {**message, "headers": headers}
            await send(message)

        return sending


def _routes(css: str) -> list[BaseRoute]:
    async def report_stylesheet(request: Request) -> Response:
        return Response(css, media_type="text/css", headers={"Cache-Control": "max-age=3600"})

    async def no_icon(request: Request) -> Response:
        return Response(status_code=204, headers={"Cache-Control": "max-age=86400"})

    return [
        *routes_auth.ROUTES,
        *routes_review.ROUTES,
        *routes_drafts.ROUTES,
        *routes_chapters.ROUTES,
        *routes_admin.ROUTES,
        Route("/static/report.css", report_stylesheet),
        Route("/favicon.ico", no_icon),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]


def create_app(
    settings: Settings, clock: Clock = utc_now, options: WebOptions | None = None
) -> ASGIApp:
    """The web application over ``settings.db_path`` (each request opens the database)."""
    options = options or WebOptions()
    env = environment()
    starlette = Starlette(routes=_routes(report_css(env)))
    starlette.state.web = Web(settings, clock, options, env)
    return SecurityHeaders(starlette, options)
