"""Fixtures for the delivery tests: a database holding real changes of the demo manual, and
a real SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it receives: in cleartext, with
STARTTLS or with implicit TLS (a self-signed certificate for 127.0.0.1 made by ``openssl``)."""

from __future__ import annotations

import email
import email.policy
import shutil
import socket
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from amendwatch.api import Amendwatch
from amendwatch.config import Settings
from amendwatch.demo.server import DemoServer

EDITION_1 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
EDITION_2 = EDITION_1 + timedelta(days=7)  # Monday of ISO week 2026-W46
WEEK_OF_CHANGES = "2026-W46"


@pytest.fixture(scope="session")
def changed_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with the demo manual's first two editions (edition 2 changes chapters)."""
    path = tmp_path_factory.mktemp("changed") / "aw.db"
    with DemoServer() as server:
        app = Amendwatch.open(Settings(db_path=path), clock=lambda: EDITION_2)
        try:
            app.add_manual("northmoor", f"{server.base_url}/")
            app.snapshot(at=EDITION_1)
            server.set_edition(2)
            app.snapshot(at=EDITION_2)
        finally:
            app.close()
    return path


@pytest.fixture
def app(changed_db: Path, tmp_path: Path) -> Iterator[Amendwatch]:
    copy = tmp_path / "aw.db"
    copy.write_bytes(changed_db.read_bytes())
    opened = Amendwatch.open(Settings(db_path=copy), clock=lambda: EDITION_2 + timedelta(days=7))
    try:
        yield opened
    finally:
        opened.close()


@dataclass
class Inbox:
    """What the loopback SMTP server received."""

    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    attempts: list[str] = field(default_factory=list)  # every AUTH tried, good or bad
    secure: list[bool] = field(default_factory=list)  # was each message sent over TLS

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        tls = server.transport.get_extra_info("ssl_object") if server.transport else None
        self.secure.append(session.ssl is not None or tls is not None)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"


@dataclass
class Smtp:
    inbox: Inbox
    port: int


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def serve_smtp(inbox: Inbox, **kwargs: Any) -> Iterator[Smtp]:
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        yield Smtp(inbox, port)
    finally:
        controller.stop()


@pytest.fixture
def smtp() -> Iterator[Smtp]:
    yield from serve_smtp(Inbox())


class Authenticator:
    """Accepts one user and password (PLAIN/LOGIN over loopback, without TLS)."""

    def __init__(self, inbox: Inbox, user: str, password: str) -> None:
        self.inbox, self.user, self.password = inbox, user, password

    def __call__(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        from aiosmtpd.smtp import AuthResult, LoginPassword  # noqa: PLC0415

        self.inbox.attempts.append(mechanism)
        ok = (
            isinstance(data, LoginPassword)
            and data.login.decode() == self.user
            and data.password.decode() == self.password
        )
        if ok:
            self.inbox.logins.append(self.user)
        return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp_auth() -> Iterator[Smtp]:
    inbox = Inbox()
    yield from serve_smtp(
        inbox,
        authenticator=Authenticator(inbox, "digest", "s3cret-pw"),
        auth_require_tls=False,
        auth_exclude_mechanism=["LOGIN"],  # smtplib then tries PLAIN only
    )


@dataclass(frozen=True)
class TlsFiles:
    cert: Path  # also the CA file a client trusts it with
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    """A self-signed certificate for 127.0.0.1 (skipped where ``openssl`` is missing)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    files = TlsFiles(folder / "cert.pem", folder / "key.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(files.key), "-out", str(files.cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return files


@pytest.fixture
def smtp_starttls(tls_files: TlsFiles) -> Iterator[Smtp]:
    """Offers STARTTLS (and AUTH only once TLS is on, aiosmtpd's default)."""
    inbox = Inbox()
    yield from serve_smtp(
        inbox,
        tls_context=tls_files.server_context(),
        authenticator=Authenticator(inbox, "digest", "s3cret-pw"),
        auth_exclude_mechanism=["LOGIN"],
    )


@pytest.fixture
def smtp_implicit(tls_files: TlsFiles) -> Iterator[Smtp]:
    """TLS from the first byte (what port 465 speaks)."""
    inbox = Inbox()
    yield from serve_smtp(
        inbox,
        ssl_context=tls_files.server_context(),
        authenticator=Authenticator(inbox, "digest", "s3cret-pw"),
        auth_require_tls=False,  # aiosmtpd only counts STARTTLS; this socket is TLS throughout
        auth_exclude_mechanism=["LOGIN"],
    )
