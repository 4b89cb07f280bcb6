"""Content codings (``Content-Encoding``), decoded by amendwatch itself, incrementally and
under a cap: a response body is read raw (``iter_raw``) and pushed through one decoder per
coding, each handing on bounded pieces, into a sink that refuses more than ``max_bytes``.
A 2 KB body that would expand to gigabytes is refused after a few megabytes, not decoded.

``gzip`` (several members too), ``deflate`` (zlib or raw) and ``zstd`` (windows up to
8 MiB) are decoded; ``identity`` is no coding; anything else, or more codings than the
policy allows, is refused before the body is read. Every refusal is a ``BodyError`` whose
message becomes the failed observation's reason.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Protocol

import httpx
import zstandard

from amendwatch.errors import BodyError

__all__ = ["ACCEPT_ENCODING", "SUPPORTED", "BodyReader", "coding_problem", "content_codings"]

SUPPORTED = ("gzip", "deflate", "zstd")
ACCEPT_ENCODING = ", ".join(SUPPORTED)
CHUNK = 64 * 1024  # the most a zlib decoder hands on at a time
ZSTD_SLICE = 256  # compressed bytes per zstd call: at most about 8 MB out of one call
ZSTD_MAX_WINDOW = 8 * 1024 * 1024  # what RFC 9659 asks of HTTP decoders, and no more
_ALIASES = {"x-gzip": "gzip"}
_GZIP_MAGIC = b"\x1f\x8b"


def content_codings(headers: httpx.Headers) -> tuple[str, ...]:
    """The codings of a body in the order they were applied (``identity`` left out)."""
    named = (
        part.strip().lower()
        for value in headers.get_list("content-encoding")
        for part in value.split(",")
    )
    return tuple(_ALIASES.get(name, name) for name in named if name and name != "identity")


def coding_problem(codings: Sequence[str], most: int) -> str | None:
    """Why a body in ``codings`` is refused before it is read, or None."""
    unknown = [name for name in codings if name not in SUPPORTED]
    if unknown:
        shown = unknown[0][:40]
        return f"refused: unknown content coding {shown!r} (amendwatch decodes {ACCEPT_ENCODING})"
    if len(codings) > most:
        shown = ", ".join(codings[: most + 1]) + (", …" if len(codings) > most + 1 else "")
        return f"refused: {len(codings)} content codings ({shown}), at most {most}"
    return None


class _Stage(Protocol):
    def write(self, data: bytes) -> None: ...

    def close(self) -> None: ...


class _Sink:
    """The decoded body; refuses a byte over ``limit``."""

    def __init__(self, limit: int, codings: Sequence[str]) -> None:
        self.body = bytearray()
        self._limit, self._codings = limit, codings

    def write(self, data: bytes) -> None:
        if len(self.body) + len(data) > self._limit:
            raise BodyError(
                f"over the size limit: more than {self._limit} bytes once decoded"
                f" ({', '.join(self._codings)})"
            )
        self.body += data

    def close(self) -> None:
        return


class _Inflate:
    """``gzip`` (one member after another) or ``deflate`` (zlib-wrapped or raw)."""

    def __init__(self, coding: str, down: _Stage) -> None:
        self._coding, self._down = coding, down
        self._zlib: zlib._Decompress | None = None
        self._head = b""  # the first bytes of a member, until its kind is known
        self._members = 0
        self._ended = False  # past the end of the stream: trailing bytes are ignored

    def write(self, data: bytes) -> None:
        while data and not self._ended:
            if self._zlib is None:
                data, self._head = self._head + data, b""
                if len(data) < 2:
                    self._head = data
                    return
                if self._members and not data.startswith(_GZIP_MAGIC):
                    self._ended = True  # bytes after the last gzip member
                    return
                self._zlib = zlib.decompressobj(self._wbits(data))
                self._members += 1
            data = self._inflate(self._zlib, data)

    def _wbits(self, head: bytes) -> int:
        if self._coding == "gzip":
            return 16 + zlib.MAX_WBITS
        wrapped = head[0] & 0x0F == 8 and (head[0] << 8 | head[1]) % 31 == 0
        return zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS

    def _inflate(self, stream: zlib._Decompress, data: bytes) -> bytes:
        """Decode ``data``, handing on at most ``CHUNK`` bytes at a time; returns the bytes
        after the end of the stream (a next gzip member), else b""."""
        while True:
            out = stream.decompress(data, CHUNK)
            if out:
                self._down.write(out)
            if stream.eof:
                self._zlib = None
                self._ended = self._coding != "gzip"
                return stream.unused_data
            data = stream.unconsumed_tail
            if not data and len(out) < CHUNK:
                return b""

    def close(self) -> None:
        stream = self._zlib
        if stream is None:
            if self._head and not self._members:
                raise BodyError(f"truncated: the {self._coding} stream stops at its start")
            return
        while not stream.eof:
            out = stream.decompress(stream.unconsumed_tail, CHUNK)
            if not out:
                break
            self._down.write(out)
        if not stream.eof:
            raise BodyError(f"truncated: the {self._coding} stream stops before its end")


class _Zstd:
    """``zstd``: fed a few hundred compressed bytes at a time, so one call can never
    produce more than about 8 MB (a zstd block is at most 128 KB from at least 4 bytes)."""

    def __init__(self, down: _Stage) -> None:
        self._down = down
        self._context = zstandard.ZstdDecompressor(max_window_size=ZSTD_MAX_WINDOW)
        self._frame = self._context.decompressobj(write_size=CHUNK)
        self._fed = False

    def write(self, data: bytes) -> None:
        for start in range(0, len(data), ZSTD_SLICE):
            if self._frame.eof:
                return  # bytes after the frame are ignored
            out = self._frame.decompress(data[start : start + ZSTD_SLICE])
            self._fed = True
            if out:
                self._down.write(out)

    def close(self) -> None:
        if self._fed and not self._frame.eof:
            raise BodyError("truncated: the zstd stream stops before its end")


def _stage(coding: str, down: _Stage) -> _Stage:
    return _Zstd(down) if coding == "zstd" else _Inflate(coding, down)


class BodyReader:
    """Raw (encoded) bytes in, the decoded body out. Refuses (``BodyError``) a body of more
    than ``limit`` bytes as sent or once decoded, and a coding that is corrupt or cut short.
    ``codings`` are in the order they were applied (the last one is decoded first)."""

    def __init__(self, codings: Sequence[str], limit: int) -> None:
        self.raw = 0  # bytes received as sent
        self._limit = limit
        self._sink = _Sink(limit, codings)
        self._stages: list[_Stage] = []
        down: _Stage = self._sink
        for coding in codings:
            down = _stage(coding, down)
            self._stages.append(down)
        self._head = down

    def feed(self, raw: bytes) -> None:
        self.raw += len(raw)
        if self.raw > self._limit:
            raise BodyError(f"over the size limit (more than {self._limit} bytes)")
        with _decoding():
            self._head.write(raw)

    def finish(self) -> bytes:
        """The whole decoded body (each decoder checked for a complete stream)."""
        with _decoding():
            for stage in reversed(self._stages):
                stage.close()
        return bytes(self._sink.body)


@contextmanager
def _decoding() -> Iterator[None]:
    """Library errors of a corrupt coding become a ``BodyError`` (the reason recorded)."""
    try:
        yield
    except (zlib.error, zstandard.ZstdError) as exc:
        raise BodyError(f"undecodable body: {exc}") from exc
