"""The dashboard keeps its ranked changes in memory between requests, and a new change or run
makes it look again (issue 16, performance on a large database)."""

from __future__ import annotations

import re
import sqlite3
from datetime import timedelta
from pathlib import Path

from starlette.testclient import TestClient

from tests.web.conftest import Clock, logged_in

LISTED = re.compile(r'<li><a href="/changes/(\d+)">')


def listed(client: TestClient) -> list[int]:
    page = client.get("/")
    assert page.status_code == 200
    return [int(found) for found in LISTED.findall(page.text)]


def test_a_new_change_reaches_the_dashboard_at_once(
    client: TestClient, db_path: Path, clock: Clock
) -> None:
    logged_in(client, "viewer")
    before = listed(client)
    assert before == listed(client)  # served again as it was
    with sqlite3.connect(db_path) as conn:
        row = conn.execute("SELECT * FROM changes ORDER BY id DESC LIMIT 1").fetchone()
        names = [c[1] for c in conn.execute("PRAGMA table_info(changes)")]
        copy = dict(zip(names, row, strict=True))
        copy["id"] = int(copy["id"]) + 1000
        copy["detected_at"] = (clock.now - timedelta(hours=1)).isoformat()
        marks = ", ".join("?" * len(copy))
        conn.execute(
            f"INSERT INTO changes ({', '.join(copy)}) VALUES ({marks})", tuple(copy.values())
        )
    conn.close()
    after = listed(client)
    assert copy["id"] in after and set(before) <= set(after)
