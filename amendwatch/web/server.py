"""Serving the web application with uvicorn: on a socket bound here (so that port 0 picks a
free port and the real one can be printed), 127.0.0.1 unless told otherwise."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType

import uvicorn

from amendwatch.api import utc_now
from amendwatch.config import Settings
from amendwatch.errors import ConfigError
from amendwatch.snapshotrun import Clock
from amendwatch.web.app import create_app
from amendwatch.web.options import WebOptions


@dataclass(frozen=True)
class Listen:
    """Where and how uvicorn listens."""

    host: str = "127.0.0.1"
    port: int = 8080
    max_connections: int = 64  # concurrent connections; more are answered 503
    idle_timeout: float = 10.0  # seconds a kept-alive connection may stay silent
    forwarded_allow_ips: str = "127.0.0.1"  # proxies trusted for X-Forwarded-For/-Proto


def bind(host: str, port: int) -> socket.socket:
    """A listening socket (port 0: any free port); a one-line ConfigError when refused."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise ConfigError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}", "choose another --port"
        ) from exc
    sock.set_inheritable(True)
    return sock


class WebServer:
    """The application under uvicorn on a bound socket; ``run`` blocks (Ctrl-C stops it),
    ``with`` serves it in a thread (tests, the demo)."""

    def __init__(
        self,
        settings: Settings,
        listen: Listen = Listen(),
        options: WebOptions | None = None,
        clock: Clock = utc_now,
    ) -> None:
        options = options or WebOptions(bound_host=listen.host)
        self.socket = bind(listen.host, listen.port)
        app = create_app(settings, clock, options)
        config = uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            limit_concurrency=listen.max_connections,
            timeout_keep_alive=max(1, int(listen.idle_timeout)),
            proxy_headers=True,
            forwarded_allow_ips=listen.forwarded_allow_ips,
            server_header=False,
            lifespan="off",
        )
        self.server = uvicorn.Server(config)
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.socket.getsockname()[:2]
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}/"

    def run(self) -> None:
        try:
            self.server.run(sockets=[self.socket])
        except KeyboardInterrupt:
            pass
        finally:
            self.socket.close()

    def __enter__(self) -> WebServer:
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()
        while not self.server.started and self.thread.is_alive():
            self.thread.join(0.01)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.server.should_exit = True
        if self.thread is not None:
            self.thread.join(10)


def serve(
    settings: Settings,
    listen: Listen,
    options: WebOptions,
    announce: Callable[[str], None],
    clock: Clock = utc_now,
) -> None:
    """Serve until interrupted, telling ``announce`` the URL first."""
    server = WebServer(settings, listen, options, clock)
    announce(f"serving on {server.url} (Ctrl-C to stop)")
    server.run()
