"""`/reports/latest.html` (amendwatch serve) reconciles like `amendwatch report`: a declared
amendment whose change was detected in an earlier week is matched, not "no change detected".

The demo manual's database, served on 127.0.0.1 a week after its last edition: the Amendments
page declares November's entries, whose changes were detected on 9 and 16 November, outside
the served week (18-24 November).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner

from amendwatch.cli import cli
from amendwatch.config import Settings
from amendwatch.serve import make_server

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)  # the served week: 18-24 November


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # one demo run per test session, shared with the other folders' demo fixtures
    out = tmp_path_factory.getbasetemp() / "demo-shared"
    if not (out / "report-2026-11.html").exists():
        result = CliRunner().invoke(cli, ["demo", "--output", str(out)], catch_exceptions=False)
        assert result.exit_code == 0, result.output
    return out / "amendwatch.db"


@pytest.fixture
def base_url(demo_db: Path, tmp_path: Path) -> Iterator[str]:
    copy = tmp_path / "served.db"
    with sqlite3.connect(demo_db) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    server = make_server(Settings(db_path=copy), "127.0.0.1", 0, clock=lambda: NOW)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_latest_report_matches_amendments_detected_in_earlier_weeks(base_url: str) -> None:
    reply = httpx.get(f"{base_url}/reports/latest.html", timeout=30)
    assert reply.status_code == 200
    soup = BeautifulSoup(reply.text, "lxml")
    assert soup.h1.get_text() == "Change report – 18–24 November 2026"
    rows = {
        tr.td.get_text(): tr.find_all("td")[2].get_text()
        for tr in soup.select("section.reconciliation tbody tr")
    }
    assert rows["Initial Child Protection Conferences"] == "detected 9 Nov (change 2)"
    assert rows["Domestic Abuse"] == "detected 9 Nov (change 3)"
    assert rows["Child Protection Review Conferences"] == "detected 16 Nov (change 4)"
    assert rows["Harmful Sexual Behaviour"] == "detected 16 Nov (change 6)"
    # declared in the same month but never made (EDITIONS.md): the one honest "no change"
    no_change = [chapter for chapter, found in rows.items() if found == "no change detected"]
    assert no_change == ["Information Sharing and Confidentiality"]
    assert "No changes were detected in this period." in soup.get_text()
