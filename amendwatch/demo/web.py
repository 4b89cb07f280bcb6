"""``amendwatch demo --web``: the demo, then the web application over its database, with a
demo account, on 127.0.0.1 until Ctrl-C.

The demo's editions are dated November 2026; the web application is given a clock that runs
from the morning after the last edition (the real clock, shifted), so that its dashboard's
"this week" shows the demo's last changes while sessions still expire in real time.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from amendwatch.api import Amendwatch, utc_now
from amendwatch.config import Settings
from amendwatch.demo.runner import run_demo, snapshot_times
from amendwatch.demo.server import SITE_DIR, count_editions
from amendwatch.snapshotrun import Clock

if TYPE_CHECKING:
    from amendwatch.web.server import WebServer

DEMO_USER = "demo"
DEMO_ROLE = "admin"  # the demo shows every page, the admin's too


def demo_morning() -> datetime:
    """An hour after the demo's last snapshot."""
    return snapshot_times(count_editions(SITE_DIR))[-1][1] + timedelta(hours=1)


def shifted_clock(start: datetime, now: Clock = utc_now) -> Clock:
    """A clock that reads ``start`` now and runs on in real time."""
    offset = now() - start
    return lambda: now() - offset


def add_demo_account(settings: Settings, clock: Clock) -> str:
    """The demo account (an admin) with a new random password, which is returned."""
    from amendwatch.web.accounts import add_account  # noqa: PLC0415 - argon2 loads here

    password = secrets.token_urlsafe(12)
    app = Amendwatch.open(settings, clock)
    try:
        add_account(app, DEMO_USER, DEMO_ROLE, password, who="demo")
    finally:
        app.close()
    return password


def prepare_demo_web(
    settings: Settings,
    output: Path,
    announce: Callable[[str], None],
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
) -> WebServer:
    """Run the demo into ``output``, add the demo account and bind the web application over
    the demo's database (not serving yet); tells ``announce`` the URL and the login."""
    from amendwatch.web.options import WebOptions  # noqa: PLC0415 - starlette loads here
    from amendwatch.web.server import Listen, WebServer  # noqa: PLC0415

    announce(run_demo(settings, output))
    settings = replace(settings, db_path=output / "amendwatch.db")
    clock = shifted_clock(demo_morning())
    password = add_demo_account(settings, clock)
    server = WebServer(settings, Listen(host, port), WebOptions(bound_host=host), clock)
    announce("")
    announce(f"The web application: {server.url}")
    announce(f"Log in as {DEMO_USER} with the password {password} (Ctrl-C to stop)")
    return server


def demo_web(
    settings: Settings,
    output: Path,
    announce: Callable[[str], None],
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
) -> None:
    """``amendwatch demo --web``: the demo, then the web application until Ctrl-C."""
    prepare_demo_web(settings, output, announce, host=host, port=port).run()
