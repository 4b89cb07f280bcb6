"""The fault site with hostile answers of the fetch layer (issue 19): decompression bombs,
unknown and too many content codings, ranges, a page sent a byte at a time, redirects to
another port, unsolicited 304s and credentials in a redirect.

``HostileSite`` is a ``FaultSite``: ``site.faults[path] = Fault(kind)`` with one of
``HOSTILE_KINDS`` (the fault site's own kinds still work). ``OtherOrigin`` is a second
loopback server that only counts what reaches it (it must stay at 0 for refused origins).
The bombs are built without compressing a gibibyte: deflate blocks of zeros made
independent by a full flush are repeated, then wrapped (gzip or zlib) with the checksums of
the whole expansion.
"""

from __future__ import annotations

import threading
import time
import zlib
from collections import Counter
from functools import cache
from types import TracebackType

import zstandard

from tests.loopback import LoopbackServer, QuietHandler
from tests.reliability.faultsite import FaultSite

GIB = 1 << 30
_MIB = 1 << 20
HOSTILE_KINDS = (
    "bomb-gzip-gzip",
    "bomb-gzip",
    "bomb-zstd",
    "bomb-deflate",
    "zstd-wide-window",
    "coding-br",
    "coding-unknown",
    "three-codings",
    "gzip",
    "gzip-zstd",
    "gzip-cut",
    "partial-206",
    "content-range",
    "trickle",
    "other-port",
    "other-scheme",
    "unsolicited-304",
    "304-with-length",
    "credentials-redirect",
)


# -- bombs --------------------------------------------------------------------------------


def _zero_deflate(size: int) -> tuple[bytes, int, int]:
    """Raw deflate of ``size`` zero bytes, with their CRC-32 and Adler-32."""
    block = bytes(_MIB)
    squeeze = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS, 9)
    piece = squeeze.compress(block) + squeeze.flush(zlib.Z_FULL_FLUSH)  # independent of history
    crc, adler = 0, 1
    for _ in range(size // _MIB):
        crc, adler = zlib.crc32(block, crc), zlib.adler32(block, adler)
    last = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS).flush()  # the final empty block
    return piece * (size // _MIB) + last, crc, adler


@cache
def gzip_bomb(size: int = GIB) -> bytes:
    """One gzip member expanding to ``size`` zero bytes (about 1 MB for 1 GiB)."""
    raw, crc, _ = _zero_deflate(size)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    return header + raw + crc.to_bytes(4, "little") + (size % (1 << 32)).to_bytes(4, "little")


@cache
def deflate_bomb(size: int = GIB) -> bytes:
    """zlib-wrapped deflate expanding to ``size`` zero bytes."""
    raw, _, adler = _zero_deflate(size)
    return b"\x78\xda" + raw + adler.to_bytes(4, "big")


@cache
def gzip_gzip_bomb(size: int = GIB) -> bytes:
    """``Content-Encoding: gzip, gzip``: a few KB expanding to ``size`` bytes."""
    squeeze = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS, 9)
    return squeeze.compress(gzip_bomb(size)) + squeeze.flush()


@cache
def zstd_bomb(size: int = GIB) -> bytes:
    """One zstd frame expanding to ``size`` zero bytes (about 32 KB for 1 GiB)."""
    squeeze = zstandard.ZstdCompressor(level=3).compressobj()
    block = bytes(_MIB)
    return b"".join(squeeze.compress(block) for _ in range(size // _MIB)) + squeeze.flush()


@cache
def zstd_wide_window() -> bytes:
    """A zstd frame that asks for a 64 MiB window (decoders may refuse over 8 MiB)."""
    params = zstandard.ZstdCompressionParameters.from_level(3, window_log=26)
    squeeze = zstandard.ZstdCompressor(compression_params=params).compressobj()
    return squeeze.compress(bytes(16 * _MIB)) + squeeze.flush()


def gzip(data: bytes) -> bytes:
    squeeze = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return squeeze.compress(data) + squeeze.flush()


# -- the servers ----------------------------------------------------------------------------


class OtherOrigin(LoopbackServer):
    """Another service on the same host: answers everything, counts every request."""

    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        other = self

        class Handler(QuietHandler):
            def get(self) -> None:
                other.hits[self.path] += 1
                self.answer(200, b"<html><body><main><h1>Another service</h1></main></body>")

        super().__init__(Handler)


class HostileSite(FaultSite):
    def __init__(self, chapters: int = 8) -> None:
        super().__init__(chapters)
        self.other_url = "http://127.0.0.1:9"  # where "other-port" redirects (set by a test)
        self.byte_seconds = 1.0  # "trickle": seconds between two bytes
        self.closing = threading.Event()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.closing.set()
        super().__exit__(kind, exc, tb)

    def misbehave(self, handler: QuietHandler, kind: str, path: str, page: str) -> None:
        if kind not in HOSTILE_KINDS:
            super().misbehave(handler, kind, path, page)
            return
        try:
            self._hostile(handler, kind, path, page.encode("utf-8"))
        except OSError:  # the client gave up (a deadline, a refusal): that is the point
            handler.close_connection = True

    def _hostile(self, handler: QuietHandler, kind: str, path: str, body: bytes) -> None:
        encoded = {
            "bomb-gzip-gzip": (gzip_gzip_bomb, "gzip, gzip"),
            "bomb-gzip": (gzip_bomb, "gzip"),
            "bomb-zstd": (zstd_bomb, "zstd"),
            "bomb-deflate": (deflate_bomb, "deflate"),
        }
        if kind in encoded:
            make, coding = encoded[kind]
            handler.answer(200, make(GIB), headers=[("Content-Encoding", coding)])
        elif kind == "zstd-wide-window":
            handler.answer(200, zstd_wide_window(), headers=[("Content-Encoding", "zstd")])
        elif kind in ("coding-br", "coding-unknown", "three-codings"):
            self._odd_coding(handler, kind, body)
        elif kind in ("gzip", "gzip-zstd", "gzip-cut"):
            self._good_coding(handler, kind, body)
        elif kind in ("partial-206", "content-range"):
            cut = body[: len(body) * 3 // 4]
            shown = f"bytes 0-{len(cut) - 1}/{len(body)}"
            status, sent = (206, cut) if kind == "partial-206" else (200, body)
            handler.answer(status, sent, headers=[("Content-Range", shown)])
        elif kind == "trickle":
            self._trickle(handler, body)
        else:
            self._elsewhere(handler, kind, path)

    def _odd_coding(self, handler: QuietHandler, kind: str, body: bytes) -> None:
        if kind == "three-codings":
            handler.answer(
                200, gzip(gzip(gzip(body))), headers=[("Content-Encoding", "gzip, " * 2 + "gzip")]
            )
        else:
            coding = "br" if kind == "coding-br" else "x-secret-squeeze"
            handler.answer(200, body, headers=[("Content-Encoding", coding)])

    def _good_coding(self, handler: QuietHandler, kind: str, body: bytes) -> None:
        if kind == "gzip":
            handler.answer(200, gzip(body), headers=[("Content-Encoding", "gzip")])
        elif kind == "gzip-zstd":
            sent = zstandard.ZstdCompressor().compress(gzip(body))
            handler.answer(200, sent, headers=[("Content-Encoding", "gzip, zstd")])
        else:  # a gzip stream cut short, its Content-Length telling the truth about the cut
            sent = gzip(body)[: len(gzip(body)) * 3 // 5]
            handler.answer(200, sent, headers=[("Content-Encoding", "gzip")])

    def _trickle(self, handler: QuietHandler, body: bytes) -> None:
        """The whole page with a correct Content-Length, one byte at a time."""
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.flush()
        for index in range(len(body)):
            if self.closing.wait(self.byte_seconds):
                return
            handler.wfile.write(body[index : index + 1])
            handler.wfile.flush()

    def _elsewhere(self, handler: QuietHandler, kind: str, path: str) -> None:
        if kind in ("unsolicited-304", "304-with-length"):
            handler.send_response(304)
            if kind == "304-with-length":  # RFC 9110 allows the length a 200 would have
                handler.send_header("Content-Length", "1234")
            handler.end_headers()
            return
        targets = {
            "other-port": f"{self.other_url}{path}",
            "other-scheme": f"https://127.0.0.1:{self.port}{path}",
            "credentials-redirect": f"http://reader:s3cret-pw@127.0.0.1:{self.port}{path}?x",
        }
        handler.answer(302, b"", headers=[("Location", targets[kind])])


def wait_for(condition: object, seconds: float = 10.0) -> None:
    """Poll ``condition()`` until it is true (or fail after ``seconds``)."""
    assert callable(condition)
    end = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < end, "timed out waiting"
        time.sleep(0.02)
