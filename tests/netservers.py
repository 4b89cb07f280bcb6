"""Raw HTTP/1.1 servers on 127.0.0.1 inside a test's own event loop, for tests of the fetch
layer's network backend (tests/scraper/test_scraper_netbackend.py): ``serving(serve)`` runs
``serve(reader, writer, number)`` for each connection and counts them; ``site`` answers
``/bytes/N`` and ``/chunked/N`` with N bytes of ``body_of(N)``; ``make_tls`` makes a
self-signed certificate for 127.0.0.1 (no CA anyone trusts issued it)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import hashlib
import ipaddress
import random
import socket
import ssl
import struct
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

MB = 1024 * 1024

Serve = Callable[[asyncio.StreamReader, asyncio.StreamWriter, int], Awaitable[None]]


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@functools.cache
def body_of(size: int) -> bytes:
    return random.Random(size).randbytes(size)


@dataclass
class Served:
    port: int = 0
    scheme: str = "http"
    connections: int = 0  # accepted (and, with TLS, handshaken) so far
    writers: list[asyncio.StreamWriter] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}{path}"


@contextlib.asynccontextmanager
async def serving(serve: Serve, tls: ssl.SSLContext | None = None) -> AsyncIterator[Served]:
    """``serve(reader, writer, number)`` for each connection (numbered from 1); an error in
    it (other than the client going away) fails the ``async with`` block at its end."""
    served = Served(scheme="https" if tls else "http")
    handlers: list[asyncio.Task[Any]] = []

    async def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            handlers.append(task)
        served.connections += 1
        served.writers.append(writer)
        try:
            await serve(reader, writer, served.connections)
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass  # the client went away
        except Exception as exc:  # noqa: BLE001 - a broken test server must fail the test
            served.errors.append(exc)
        writer.close()

    server = await asyncio.start_server(connected, "127.0.0.1", 0, ssl=tls)
    served.port = server.sockets[0].getsockname()[1]
    try:
        yield served
    finally:
        server.close()
        for writer in served.writers:
            writer.close()
        if handlers:
            await asyncio.wait(handlers, timeout=2)
        await server.wait_closed()
    assert not served.errors


async def paths(reader: asyncio.StreamReader) -> AsyncIterator[str]:
    """The path of each request on a connection, until the client closes it."""
    while True:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        yield head.split(b" ", 2)[1].decode()


def whole(body: bytes) -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%b" % (len(body), body)


def chunked(body: bytes) -> bytes:
    """``body`` in chunks of 1 and 999 bytes, then of 300,000."""
    parts, at = [b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"], 0
    while at < len(body):
        size = (1, 999)[len(parts) % 2] if len(parts) < 6 else 300_000
        piece = body[at : at + size]
        parts.append(b"%x\r\n%b\r\n" % (len(piece), piece))
        at += len(piece)
    return b"".join([*parts, b"0\r\n\r\n"])


def answer(path: str) -> bytes:
    """``/bytes/N`` (Content-Length) or ``/chunked/N``: N bytes of ``body_of(N)``."""
    _, kind, size = path.split("/")
    body = body_of(int(size))
    return chunked(body) if kind == "chunked" else whole(body)


async def site(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
    async for path in paths(reader):
        writer.write(answer(path))
        await writer.drain()


async def answer_once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
    async for path in paths(reader):
        writer.write(answer(path))
        await writer.drain()
        return


async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
    await reader.read()  # everything, until the client gives up


async def never_read(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
    assert isinstance(writer.transport, asyncio.ReadTransport)
    writer.transport.pause_reading()
    await reader.read()  # only its end: the connection is not read


async def not_tls(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
    writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")  # at once


def after_first_answer(how: str, answered: asyncio.Event) -> Serve:
    """Once the client has read the first answer (``answered`` is set), the server closes
    its connection (``closed``) or sends on it a whole answer nobody asked for (``unasked``)."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        async for path in paths(reader):
            writer.write(answer(path))
            await writer.drain()
            if n == 1:
                await answered.wait()
                if how == "closed":
                    return
                writer.write(whole(b"stale"))
                await writer.drain()

    return serve


def cut_mid_body(how: str) -> Serve:
    """Promises 100,000 bytes, sends 10, then closes (``close``) or resets (``reset``)."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"x" * 10)
        await writer.drain()
        if how == "reset":
            linger = struct.pack("ii", 1, 0)
            writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
            writer.transport.abort()

    return serve


async def hash_upload(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
    """Reads a request body slowly and answers its SHA-256 (hex)."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
    received = hashlib.sha256()
    while length > 0:
        await asyncio.sleep(0)  # a slow reader: the client's buffer fills
        chunk = await reader.read(min(length, 65536))
        received.update(chunk)
        length -= len(chunk)
    writer.write(whole(received.hexdigest().encode()))


@contextlib.contextmanager
def full_backlog() -> Iterator[int]:
    """A port whose listen queue is full: Linux drops a SYN to it, so a connect hangs."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = int(listener.getsockname()[1])
        waiting = [socket.socket() for _ in range(3)]
        for queued in waiting:
            queued.setblocking(False)
            queued.connect_ex(("127.0.0.1", port))
        try:
            yield port
        finally:
            for queued in waiting:
                queued.close()


@dataclass(frozen=True)
class Tls:
    server: ssl.SSLContext
    trusting: ssl.SSLContext  # a client context that trusts only that certificate


def write_self_signed(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (no CA anyone trusts issued it), written to
    ``folder``: the paths of the certificate and of its key (PEM)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def make_tls(folder: Path) -> Tls:
    """A self-signed certificate for 127.0.0.1, written to ``folder``, and its contexts."""
    cert_path, key_path = write_self_signed(folder)
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert_path, key_path)
    return Tls(server, ssl.create_default_context(cafile=str(cert_path)))


RESET = b"<reset>"  # a ``scripted`` reply: reset the connection (RST) instead of answering
Reply = Callable[[int, int, str], bytes | None]  # (connection number, request on it, path)


def reset(writer: asyncio.StreamWriter) -> None:
    """Ends the connection with a TCP reset (RST), not a clean close."""
    linger = struct.pack("ii", 1, 0)
    writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
    writer.transport.abort()


def scripted(reply: Reply, close: bool = False, ended: list[int] | None = None) -> Serve:
    """Answers request k (from 1) of connection n with the bytes ``reply(n, k, path)``
    (None: ends the connection without answering; RESET: resets it); ``close``: ends the
    connection after each answer; ``ended`` gets n once the client ended connection n."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        k = 0
        async for path in paths(reader):
            k += 1
            data = reply(n, k, path)
            if data == RESET:
                reset(writer)
            if data is None or data == RESET:
                return
            writer.write(data)
            await writer.drain()
            if close:
                return
        if ended is not None:
            ended.append(n)

    return serve


async def until(condition: Callable[[], bool], seconds: float = 2.0) -> None:
    """Waits (polling) until ``condition()`` holds; fails after ``seconds``."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "the condition never held"
        await asyncio.sleep(0.005)
