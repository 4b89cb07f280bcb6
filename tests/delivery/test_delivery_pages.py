"""The frequent contents/Amendments check: a manual whose listing or declared amendments
changed is snapshotted at once; an unchanged one is left alone."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from amendwatch import scheduler as sched
from amendwatch.api import Amendwatch
from amendwatch.config import Settings
from amendwatch.demo.server import DemoServer

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def server() -> Iterator[DemoServer]:
    with DemoServer() as running:
        yield running


@pytest.fixture
def watched(tmp_path: Path, server: DemoServer) -> Iterator[Amendwatch]:
    app = Amendwatch.open(Settings(db_path=tmp_path / "aw.db"), clock=lambda: T0 + timedelta(1))
    app.add_manual(
        "northmoor", f"{server.base_url}/", amendments_url=f"{server.base_url}/amendments.html"
    )
    app.snapshot(at=T0)
    yield app
    app.close()


def test_unchanged_pages_need_no_snapshot(watched: Amendwatch) -> None:
    (manual,) = watched.manuals()
    assert sched.pages_changed(watched, manual) is None


def test_new_declared_amendments_or_chapters_need_a_snapshot(
    watched: Amendwatch, server: DemoServer
) -> None:
    (manual,) = watched.manuals()
    server.set_edition(2)
    assert sched.pages_changed(watched, manual) == "Amendments page declares new entries"
    server.set_edition(3)
    assert sched.pages_changed(watched, manual) == "contents page lists other chapters"


def test_pages_job_snapshots_only_when_needed(
    watched: Amendwatch, server: DemoServer, tmp_path: Path
) -> None:
    config = tmp_path / "amendwatch.toml"
    config.write_text("[schedule]\n")
    db = str(watched.settings.db_path)
    runs_before = len(watched.runs())
    sched.pages_job(db, str(config))
    assert len(watched.runs()) == runs_before
    server.set_edition(3)
    sched.pages_job(db, str(config))
    (latest, *_) = watched.runs()
    assert len(watched.runs()) == runs_before + 1
    assert latest.kind == "scheduled" and latest.status == "ok" and latest.changed > 0
