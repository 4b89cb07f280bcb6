"""An httpcore network backend on asyncio's own transports, for the fetch layer's connection
pools (``scraper.client``).

httpcore reaches asyncio through anyio, whose cancel scopes, task lookups and socket
attribute queries cost about 0.3 ms a request on this project's pages: a third of the CPU a
fetch process spends receiving a 130 KB page. httpcore's network backend is public API
(``httpcore.AsyncNetworkBackend``; https://www.encode.io/httpcore/network-backends/); this
one is a ``asyncio.Protocol`` with a receive buffer, and maps errors as httpcore's own
backends do: a timeout to ``*Timeout``, an ``OSError`` (refused, reset, no such host) or a
TLS failure to ``ConnectError``/``ReadError``/``WriteError``.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from collections.abc import Iterable
from typing import Any

import httpcore

__all__ = ["AsyncioBackend", "AsyncioStream"]

HIGH_WATER = 1024 * 1024  # received bytes held before the socket is no longer read


class _Receiver(asyncio.Protocol):
    """What a connection received and not read yet, its end, and write flow control."""

    def __init__(self) -> None:
        self.chunks: deque[bytes] = deque()
        self.size = 0
        self.ended = False
        self.lost: BaseException | None = None
        self.transport: asyncio.Transport | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._drained: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.chunks.append(data)
        self.size += len(data)
        if self.size > HIGH_WATER and self.transport is not None:
            self.transport.pause_reading()
        self._wake()

    def eof_received(self) -> bool:
        self.ended = True
        self._wake()
        return False  # the transport closes itself

    def connection_lost(self, exc: Exception | None) -> None:
        self.ended, self.lost = True, exc
        self._wake()
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)

    def pause_writing(self) -> None:
        self._drained = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)
        self._drained = None

    async def received(self) -> None:
        """Wait until something was received or the connection ended."""
        while not self.chunks and not self.ended:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None

    async def drained(self) -> None:
        if self._drained is not None:
            await self._drained

    def take(self, most: int) -> bytes:
        """Up to ``most`` of the bytes received, in order (a received chunk is handed on as it
        is when it fits, the usual case)."""
        pieces: list[bytes] = []
        room = most
        while self.chunks and room > 0:
            chunk = self.chunks[0]
            if len(chunk) <= room:
                pieces.append(self.chunks.popleft())
            else:
                pieces.append(chunk[:room])
                self.chunks[0] = chunk[room:]
            room -= len(pieces[-1])
        taken = pieces[0] if len(pieces) == 1 else b"".join(pieces)
        self.size -= len(taken)
        if self.size <= HIGH_WATER and self.transport is not None and not self.ended:
            self.transport.resume_reading()
        return taken

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)


class AsyncioStream(httpcore.AsyncNetworkStream):
    """One connection (plain, or TLS after ``start_tls``)."""

    def __init__(self, transport: asyncio.Transport, receiver: _Receiver) -> None:
        self._transport, self._receiver = transport, receiver

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        receiver = self._receiver
        if not receiver.chunks:
            try:
                async with asyncio.timeout(timeout):
                    await receiver.received()
            except TimeoutError as exc:
                raise httpcore.ReadTimeout("timed out reading from the server") from exc
        if receiver.chunks:
            return receiver.take(max_bytes)
        if receiver.lost is not None:
            raise httpcore.ReadError(str(receiver.lost)) from receiver.lost
        return b""  # the server closed the connection

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        if self._receiver.lost is not None or self._transport.is_closing():
            raise httpcore.WriteError("the connection is closed")
        try:
            self._transport.write(buffer)
            async with asyncio.timeout(timeout):
                await self._receiver.drained()
        except TimeoutError as exc:
            raise httpcore.WriteTimeout("timed out writing to the server") from exc
        except OSError as exc:
            raise httpcore.WriteError(str(exc)) from exc

    async def aclose(self) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection at once (no await: the transport closes in the loop)."""
        self._transport.close()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> AsyncioStream:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                transport = await loop.start_tls(
                    self._transport, self._receiver, ssl_context, server_hostname=server_hostname
                )
        except TimeoutError as exc:
            self._transport.close()
            raise httpcore.ConnectTimeout("timed out in the TLS handshake") from exc
        except (OSError, ssl.SSLError, ConnectionError) as exc:
            self._transport.close()
            raise httpcore.ConnectError(str(exc)) from exc
        if transport is None:
            raise httpcore.ConnectError("the TLS handshake did not complete")
        assert isinstance(transport, asyncio.Transport)
        self._receiver.transport = transport
        return AsyncioStream(transport, self._receiver)

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":  # an idle connection that received anything is not reusable
            return bool(self._receiver.chunks) or self._receiver.ended
        if info == "client_addr":
            return self._transport.get_extra_info("sockname")
        if info == "server_addr":
            return self._transport.get_extra_info("peername")
        if info in ("ssl_object", "socket"):
            return self._transport.get_extra_info(info)
        return None


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    """Connections on asyncio's selector transports (TCP_NODELAY set, as asyncio does)."""

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> AsyncioStream:
        loop = asyncio.get_running_loop()
        local = None if local_address is None else (local_address, 0)
        try:
            async with asyncio.timeout(timeout):
                transport, receiver = await loop.create_connection(
                    _Receiver, host, port, local_addr=local
                )
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"timed out connecting to {host}:{port}") from exc
        except (OSError, UnicodeError) as exc:  # UnicodeError: a name IDNA cannot encode
            raise httpcore.ConnectError(str(exc)) from exc
        sock = transport.get_extra_info("socket")
        for option in socket_options or ():
            sock.setsockopt(*option)
        assert isinstance(transport, asyncio.Transport)
        return AsyncioStream(transport, receiver)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("connections over a Unix socket are not supported")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
