"""`amendwatch serve` under hostile clients (issue 19, point 7): a Host allow-list against DNS
rebinding (421 for another host, 400 without one), a bound on connection threads (one more
connection is answered 503 without a thread) and an idle timeout that closes silent ones."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from amendwatch.api import Amendwatch
from amendwatch.config import Settings
from amendwatch.serve import make_server

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 8
IDLE = 0.5


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    settings = Settings(db_path=tmp_path / "aw.db")
    Amendwatch.open(settings).close()
    return settings


@pytest.fixture
def server(settings: Settings) -> Iterator[ThreadingHTTPServer]:
    running = make_server(
        settings, "127.0.0.1", 0, allowed_hosts=["feeds.example.org:8080"],
        max_connections=LIMIT, idle_timeout=IDLE,
    )  # fmt: skip
    thread = threading.Thread(target=running.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield running
    running.shutdown()
    running.server_close()


def url(server: ThreadingHTTPServer) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}/"


def raw_request(server: ThreadingHTTPServer, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", server.server_address[1]), timeout=5) as conn:
        conn.sendall(request)
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize(
    ("host", "status"),
    [
        ("evil.example", 421),
        ("evil.example:8080", 421),
        ("127.0.0.1.evil.example", 421),
        ("127.0.0.1", 200),
        ("localhost:8080", 200),
        ("[::1]:8080", 200),
        ("FEEDS.example.org", 200),  # --allow-host, any port, any case
    ],
)
def test_only_allowed_hosts_are_served(server: ThreadingHTTPServer, host: str, status: int) -> None:
    answer = httpx.get(url(server), headers={"Host": host})
    assert answer.status_code == status
    if status == 421:
        assert "amendwatch" not in answer.text  # nothing of the database is shown


def test_a_request_without_host_is_400(server: ThreadingHTTPServer) -> None:
    assert raw_request(server, b"GET / HTTP/1.0\r\n\r\n").startswith(b"HTTP/1.0 400")


def connection_threads() -> int:
    return sum(1 for t in threading.enumerate() if t.name.startswith("Thread-") and t.daemon)


def test_idle_connections_hold_at_most_the_limit_and_are_closed(
    server: ThreadingHTTPServer,
) -> None:
    before = connection_threads()
    port = server.server_address[1]
    idle = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(50)]
    try:
        time.sleep(IDLE / 2)
        assert connection_threads() - before <= LIMIT
        started = time.monotonic()
        answers = []
        for conn in idle:  # each ends: 503 at once beyond the limit, closed when idle
            chunks = []
            while chunk := conn.recv(4096):
                chunks.append(chunk)
            answers.append(b"".join(chunks))
        assert time.monotonic() - started < IDLE + 3
    finally:
        for conn in idle:
            conn.close()
    busy = [a for a in answers if a.startswith(b"HTTP/1.1 503")]
    assert len(busy) >= 50 - LIMIT
    deadline = time.monotonic() + 3
    while connection_threads() > before and time.monotonic() < deadline:
        time.sleep(0.02)
    assert connection_threads() <= before
    assert httpx.get(url(server)).status_code == 200  # every slot was given back


def test_the_command_line_takes_allow_host(settings: Settings) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "amendwatch", "--db", str(settings.db_path), "serve",
         "--port", "0", "--allow-host", "feeds.example.org", "--max-connections", "4",
         "--idle-timeout", "2"],
        cwd=ROOT, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stderr is not None
        assert "serve is now `amendwatch web`" in process.stderr.readline()
        line = process.stderr.readline()
        base = line.split("serving on ", 1)[1].split(" ", 1)[0]
        health = f"{base.rstrip('/')}/healthz"
        assert httpx.get(health, headers={"Host": "feeds.example.org"}).status_code == 200
        assert httpx.get(health, headers={"Host": "rebind.example"}).status_code == 421
    finally:
        process.terminate()
        process.wait(5)
