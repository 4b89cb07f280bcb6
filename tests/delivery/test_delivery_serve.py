"""`amendwatch serve`: feeds over HTTP with Last-Modified and 304 Not Modified."""

from __future__ import annotations

import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime

import httpx
import pytest

from amendwatch.api import Amendwatch
from amendwatch.serve import make_server
from reports.periods import parse_range

NOW = datetime(2026, 11, 20, tzinfo=UTC)


@pytest.fixture
def base_url(app: Amendwatch) -> Iterator[str]:
    server = make_server(app.settings, "127.0.0.1", 0, clock=lambda: NOW)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_feed_has_last_modified_and_answers_304(app: Amendwatch, base_url: str) -> None:
    newest = max(c.detected_at for c in app.changes(parse_range("2026-01-01", "2026-12-31")))
    first = httpx.get(f"{base_url}/feeds/northmoor.atom")
    assert first.status_code == 200
    assert first.headers["content-type"].startswith("application/atom+xml")
    ET.fromstring(first.content)
    modified = first.headers["last-modified"]
    assert parsedate_to_datetime(modified) == newest.replace(microsecond=0)

    same = httpx.get(f"{base_url}/feeds/northmoor.atom", headers={"If-Modified-Since": modified})
    assert same.status_code == 304 and same.content == b""
    older = format_datetime(newest - timedelta(days=1), usegmt=True)
    stale = httpx.get(f"{base_url}/feeds/northmoor.atom", headers={"If-Modified-Since": older})
    assert stale.status_code == 200 and stale.content == first.content


def test_index_report_and_unknown_paths(base_url: str) -> None:
    index = httpx.get(f"{base_url}/")
    assert index.status_code == 200 and 'href="/feeds/northmoor.atom"' in index.text
    assert httpx.get(f"{base_url}/reports/latest.html").status_code == 200
    assert httpx.get(f"{base_url}/feeds/unknown.atom").status_code == 404
    assert httpx.get(f"{base_url}/etc/passwd").status_code == 404
    head = httpx.head(f"{base_url}/feeds/northmoor.atom")
    assert head.status_code == 200 and head.content == b""
