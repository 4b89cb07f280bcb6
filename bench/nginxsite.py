"""The synthetic site (bench/sitegen.py) written to disk and served by a real nginx on
127.0.0.1, as a publisher's web server would serve it.

- ``/static/``: plain files; nginx answers with ETag and Last-Modified and honours
  If-None-Match / If-Modified-Since (the 304 path).
- ``/dynamic/``: the same files through ``sub_filter``, which writes the request time and
  nginx's request id into a paragraph of the footer (text only, as a CMS stamps its render
  time), so the bytes differ on every request while the chapter does not; nginx then sends
  no validators.

Debian's ``nginx-light`` (``make nginx`` installs it as root) has the sub module.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

from sitegen import Site, footer

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

CONFIG = """
worker_processes 1;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
{user}
events {{ worker_connections 1024; }}
http {{
    access_log off;
    keepalive_requests 100000;
    types {{ text/html html; text/plain txt; }}
    default_type text/html;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        location = /robots.txt {{ return 200 "User-agent: *\\nAllow: /\\n"; }}
        location /static/ {{ alias {root}/; charset utf-8; }}
        location /dynamic/ {{
            alias {root}/;
            charset utf-8;
            sub_filter_types text/html;
            sub_filter '<!--render-->' 'Rendered $time_iso8601 ($request_id)';
            sub_filter_once on;
        }}
    }}
}}
"""


def nginx_available() -> str | None:
    """None when nginx can run here, else why not."""
    if not Path(NGINX).exists():
        return "nginx is not installed (make nginx installs Debian's nginx-light as root)"
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SiteFiles:
    """The site's pages as files under ``root`` (``contents.html``, ``ch/NNNNN.html``)."""

    def __init__(self, site: Site, root: Path) -> None:
        self.site, self.root = site, root
        (root / "ch").mkdir(parents=True, exist_ok=True)
        self.before, self.after = site.furniture()
        (root / "contents.html").write_text(site.contents_html(), encoding="utf-8")
        for number in range(1, site.chapters + 1):
            self.write(number)

    def write(self, number: int) -> None:
        head = self.before.replace("{title}", self.site.title_of(number))
        tail = self.after + '<p class="render"><!--render--></p>' + footer("2026-01-01", "static")
        page = head + self.site.chapter_main(number) + tail
        (self.root / "ch" / f"{number:05d}.html").write_text(page, encoding="utf-8")

    def advance(self, rate: float) -> list[int]:
        """One edit round over ``rate`` of the chapters; rewrites their files."""
        edited = sorted({number for number, _ in self.site.advance(rate)})
        for number in edited:
            self.write(number)
        return edited


class Nginx:
    """nginx in the foreground on a free loopback port, serving ``root``."""

    def __init__(self, root: Path, prefix: Path) -> None:
        prefix.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        user = "user root;" if _is_root() else ""
        text = CONFIG.format(prefix=prefix, port=self.port, root=root, user=user)
        (prefix / "nginx.conf").write_text(text)
        command = [NGINX, "-p", str(prefix), "-c", str(prefix / "nginx.conf")]
        self.proc = subprocess.Popen(command, stderr=subprocess.PIPE)
        self.base = f"http://127.0.0.1:{self.port}"
        _wait_for(self.port, self.proc)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


def _is_root() -> bool:
    return os.geteuid() == 0


def _wait_for(port: int, proc: subprocess.Popen[bytes]) -> None:
    for _ in range(100):
        if proc.poll() is not None:
            error = proc.stderr.read().decode() if proc.stderr else ""
            raise RuntimeError(f"nginx exited: {error.strip()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("nginx did not start listening")
