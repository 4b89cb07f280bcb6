"""A fast asyncio HTTP/1.1 server for the synthetic site (127.0.0.1 only; run as a process).

    python bench/server.py --chapters 2000 --port 0 --cache DIR     (prints "PORT n" when ready)

/static/...  answers with ETag and Last-Modified and honours If-None-Match / If-Modified-Since
             (the 304 path);
/dynamic/... has no validators and a footer with the current time and a random token, so the
             bytes differ on every request while the chapter content does not;
/_admin/advance?rate=0.02  runs one edit round and answers the edits as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import secrets
import sys
import time
from email.utils import formatdate
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sitegen import Site, footer

EPOCH = 1_780_000_000  # Last-Modified of round 0; each round is one week later


class Server:
    def __init__(self, site: Site, cache: Path) -> None:
        self.site = site
        self.cache = cache
        self.cache.mkdir(parents=True, exist_ok=True)
        self.before, self.after = site.furniture()
        self.contents = site.contents_html().encode()
        self.versions: dict[int, tuple[int, int]] = {}  # number -> (version, round)

    def main_path(self, number: int) -> Path:
        edits = self.site.edits.get(number, ())
        key = hashlib.sha1(repr([(e.kind, e.section, e.seed) for e in edits]).encode()).hexdigest()
        path = self.cache / f"{self.site.seed}-{number:05d}-{key[:12]}.html"
        if not path.exists():
            path.write_bytes(self.site.chapter_main(number).encode())
        return path

    def warm(self) -> None:
        for number in range(1, self.site.chapters + 1):
            self.main_path(number)

    def chapter(
        self, number: int, dynamic: bool, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        version = self.site.version_of(number)
        edits = self.site.edits.get(number, ())
        changed_round = edits[-1].round if edits else 0
        head = self.before.replace("{title}", self.site.title_of(number))
        main = self.main_path(number).read_bytes()
        if dynamic:
            token = secrets.token_hex(8)
            stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()) + f".{time.time_ns() % 10**9}"
            body = head.encode() + main + (self.after + footer(stamp, token)).encode()
            return 200, {}, body
        etag = f'"{number}-{version}"'
        modified = formatdate(EPOCH + changed_round * 7 * 86400, usegmt=True)
        validators = {"ETag": etag, "Last-Modified": modified}
        if headers.get("if-none-match") == etag or (
            "if-none-match" not in headers and headers.get("if-modified-since") == modified
        ):
            return 304, validators, b""
        body = head.encode() + main + (self.after + footer("2026-01-01", "static")).encode()
        return 200, validators, body

    def answer(self, target: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        parts = urlsplit(target)
        path = parts.path
        if path == "/robots.txt":
            return 200, {"Content-Type": "text/plain"}, b"User-agent: *\nAllow: /\n"
        if path == "/_admin/advance":
            rate = float(parse_qs(parts.query).get("rate", ["0.02"])[0])
            done = self.site.advance(rate)
            for number, _ in done:
                self.main_path(number)
            payload = [[n, e.kind, e.section, e.round] for n, e in done]
            return 200, {"Content-Type": "application/json"}, json.dumps(payload).encode()
        for prefix, dynamic in (("/static/", False), ("/dynamic/", True)):
            if path.startswith(prefix):
                rest = path[len(prefix) :]
                if rest in ("", "contents.html"):
                    return 200, {}, self.contents
                if rest.startswith("ch/") and rest.endswith(".html"):
                    number = int(rest[3:-5])
                    if 1 <= number <= self.site.chapters:
                        return self.chapter(number, dynamic, headers)
        return 404, {}, b"<html><body><h1>Not found</h1></body></html>"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                raw = await reader.readuntil(b"\r\n\r\n")
                lines = raw.decode("latin-1").split("\r\n")
                _method, target, _version = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        key, value = line.split(":", 1)
                        headers[key.strip().lower()] = value.strip()
                status, extra, body = self.answer(target, headers)
                head = [f"HTTP/1.1 {status} {'OK' if status == 200 else 'X'}"]
                extra.setdefault("Content-Type", "text/html; charset=utf-8")
                head += [f"{k}: {v}" for k, v in extra.items()]
                head.append(f"Content-Length: {len(body)}")
                writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
                await writer.drain()
                if headers.get("connection", "").lower() == "close":
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()


async def serve(server: Server, port: int) -> None:
    listener = await asyncio.start_server(server.handle, "127.0.0.1", port, backlog=512)
    print(f"PORT {listener.sockets[0].getsockname()[1]}", flush=True)
    async with listener:
        await listener.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chapters", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--cache", type=Path, required=True)
    args = parser.parse_args()
    server = Server(Site(args.chapters, args.seed), args.cache)
    server.warm()
    asyncio.run(serve(server, args.port))


if __name__ == "__main__":
    main()
