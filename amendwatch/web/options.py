"""The web application's own options (from the ``amendwatch web`` command line)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class WebOptions:
    """How the web application behaves; the defaults suit 127.0.0.1 behind nothing."""

    # Secure cookies: True always, False never, None when the request came over HTTPS (as a
    # reverse proxy's X-Forwarded-Proto tells uvicorn, from --forwarded-allow-ips)
    secure_cookies: bool | None = None
    idle_minutes: float = 30.0  # a session unused this long has ended
    session_hours: float = 12.0  # and every session ends this long after its login
    login_window_minutes: float = 15.0  # failed logins are counted over this window
    max_failures_per_user: int = 5  # then that user name is refused until the window passes
    max_failures_per_address: int = 20  # then that address is refused
    bound_host: str = "127.0.0.1"  # the Host names served: loopback, this, allowed_hosts
    allowed_hosts: tuple[str, ...] = ()
    hsts: bool = False  # Strict-Transport-Security on every answer (only behind HTTPS)
