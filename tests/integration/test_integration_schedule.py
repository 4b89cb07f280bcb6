"""`amendwatch schedule run` as a real process: runs on its schedule, stops cleanly on SIGTERM,
catches up a missed run exactly once after downtime, shares the snapshot lock with the manual
`snapshot` command, and delivers the weekly report by email to a loopback SMTP server."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from amendwatch.api import Amendwatch
from amendwatch.cli import cli
from amendwatch.config import Settings
from amendwatch.demo.server import DemoServer
from amendwatch.scheduler import ensure_manuals, load_schedule_config
from store.db import open_db
from tests.delivery.conftest import Inbox, Smtp, serve_smtp
from tests.delivery.slowsite import SlowSite


@pytest.fixture
def smtp() -> Iterator[Smtp]:
    """A real SMTP server on 127.0.0.1 (aiosmtpd) keeping what it receives."""
    yield from serve_smtp(Inbox())


def finished_runs(db_path: Path) -> list[dict[str, object]]:
    if not db_path.exists():
        return []
    db = open_db(db_path)
    try:
        return list(db.query("SELECT * FROM runs WHERE finished_at IS NOT NULL ORDER BY id"))
    finally:
        db.close()


def test_schedule_runs_twice_and_stops_on_sigterm(tmp_path: Path, smtp: Smtp) -> None:
    db_path = tmp_path / "aw.db"
    config = tmp_path / "amendwatch.toml"
    with DemoServer() as server:
        config.write_text(
            "[schedule]\n"
            "interval_seconds = 1\n"
            "report_interval_seconds = 1\n"
            f'report_dir = "{tmp_path / "reports"}"\n'
            f'feed_dir = "{tmp_path / "feeds"}"\n'
            f'[email]\nhost = "127.0.0.1"\nport = {smtp.port}\n'
            'from = "aw@example.org"\nto = ["team@example.org"]\n'
            "[[manual]]\n"
            'name = "northmoor"\n'
            f'contents_url = "{server.base_url}/"\n'
        )
        env = {**os.environ, "AMENDWATCH_DB": str(db_path)}
        proc = subprocess.Popen(
            [sys.executable, "-m", "amendwatch", "schedule", "run", "--config", str(config)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            deadline = time.monotonic() + 30
            while len(finished_runs(db_path)) < 2 and time.monotonic() < deadline:
                time.sleep(0.2)
        finally:
            proc.send_signal(signal.SIGTERM)
            output, _ = proc.communicate(timeout=30)
    runs = finished_runs(db_path)
    assert len(runs) >= 2, output
    assert proc.returncode == 0, output
    assert all(run["kind"] == "scheduled" and run["checked"] == 12 for run in runs[:2])
    assert "Traceback" not in output
    assert re.search(r"run \d+: northmoor checked 12", output), output
    # the weekly report arrived by email (HTML, text, JSON attached) and in the week's folder
    assert smtp.inbox.messages, output
    message = smtp.inbox.messages[0]
    assert message.get_body(preferencelist=("plain",)) is not None
    assert message.get_body(preferencelist=("html",)) is not None
    (attachment,) = list(message.iter_attachments())
    assert "period" in json.loads(attachment.get_content())
    weeks = list((tmp_path / "reports").iterdir())
    assert [w.name for w in weeks] == [message["Subject"].rsplit(" ", 1)[-1]]
    assert {p.name for p in weeks[0].iterdir()} == {"report.html", "report.md", "report.json"}
    feed = ET.fromstring((tmp_path / "feeds" / "northmoor.atom").read_bytes())
    assert feed.tag == "{http://www.w3.org/2005/Atom}feed"


def test_schedule_list_shows_jobs_and_next_runs(tmp_path: Path) -> None:
    config = tmp_path / "amendwatch.toml"
    config.write_text(
        '[schedule]\nsnapshot = "0 2 * * *"\nreport = "0 7 * * mon"\n'
        '[[manual]]\nname = "m"\ncontents_url = "http://127.0.0.1:9/"\n'
    )
    result = CliRunner().invoke(
        cli, ["--db", str(tmp_path / "aw.db"), "schedule", "list", "--config", str(config)]
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("snapshot\tcron") and "next run" in lines[0]
    assert "T02:00:00" in lines[0]
    assert lines[1].startswith("report\tcron") and "T07:00:00" in lines[1]


def test_broken_toml_is_a_one_line_error(tmp_path: Path) -> None:
    config = tmp_path / "amendwatch.toml"
    config.write_text("[schedule\ninterval_seconds = \n")
    result = CliRunner().invoke(
        cli, ["--db", str(tmp_path / "aw.db"), "schedule", "run", "--config", str(config)]
    )
    assert result.exit_code == 1
    assert result.output.startswith("Error:") and "not valid TOML" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "aw.db").exists()


def all_runs(db_path: Path) -> list[dict[str, object]]:
    if not db_path.exists():
        return []
    db = open_db(db_path)
    try:
        return list(db.query("SELECT * FROM runs ORDER BY id"))
    finally:
        db.close()


def wait_for(condition: Callable[[], bool], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def running_run(db_path: Path, after: int = 0) -> int | None:
    ids = [int(str(r["id"])) for r in all_runs(db_path) if r["status"] == "running"]
    later = [run_id for run_id in ids if run_id > after]
    return later[0] if later else None


def start_scheduler(config: Path, db_path: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "AMENDWATCH_DB": str(db_path)}
    return subprocess.Popen(
        [sys.executable, "-m", "amendwatch", "schedule", "run", "--config", str(config)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_kill_downtime_catch_up_lock_and_sigterm(tmp_path: Path) -> None:
    """A run, then a manual snapshot during the next run is refused; SIGKILL mid-run; downtime over
    several fire times; on restart exactly one (coalesced) catch-up run; SIGTERM mid-run
    records the run interrupted and exits 0; no chapter ever gets a duplicate version."""
    db_path = tmp_path / "aw.db"
    config = tmp_path / "amendwatch.toml"
    with SlowSite(chapters=6, delay=0.1) as site:
        config.write_text(
            "[schedule]\ninterval_seconds = 1\nmisfire_grace_seconds = 60\n"
            f'[[manual]]\nname = "slow"\ncontents_url = "{site.base_url}/"\n'
        )
        open_db(db_path).close()  # created (and migrated) before two processes share it
        first = start_scheduler(config, db_path)
        try:
            wait_for(lambda: len(finished_runs(db_path)) >= 1)
            wait_for(lambda: running_run(db_path, after=1) is not None)
            refused = CliRunner().invoke(cli, ["--db", str(db_path), "snapshot", "--quiet"])
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        finally:
            first.kill()
            first.communicate()
        killed = max(int(str(r["id"])) for r in all_runs(db_path))
        time.sleep(2.2)  # two or more fire times pass while stopped
        second = start_scheduler(config, db_path)
        try:
            wait_for(lambda: any(int(str(r["id"])) > killed for r in finished_runs(db_path)))
            wait_for(lambda: running_run(db_path, after=killed + 1) is not None)
            second.send_signal(signal.SIGTERM)
            output, _ = second.communicate(timeout=30)
        finally:
            second.kill()
    assert refused.exit_code == 1
    assert "scheduled run" in refused.output and "holds the lock on aw.db" in refused.output
    assert second.returncode == 0, output
    assert "Traceback" not in output
    catch_ups = [line for line in output.splitlines() if "catch-up run" in line]
    assert len(catch_ups) == 1, output
    coalesced = re.search(r"catch-up run for (.*), missed while stopped", catch_ups[0])
    assert coalesced is not None and ", " not in coalesced.group(1)  # one run time, not several
    rows = all_runs(db_path)
    after_restart = [r for r in rows if int(str(r["id"])) > killed]
    assert after_restart[0]["status"] == "ok" and after_restart[0]["checked"] == 6
    assert after_restart[-1]["status"] == "interrupted", output
    # SIGKILL left no end; the next run under the lock marked it abandoned
    assert next(r for r in rows if r["id"] == killed)["status"] == "abandoned"
    db = open_db(db_path)
    try:
        counts = [
            r["n"] for r in db.query("SELECT COUNT(*) AS n FROM versions GROUP BY chapter_id")
        ]
        kinds = {r["kind"] for r in db.query("SELECT kind FROM runs")}
    finally:
        db.close()
    assert counts == [1] * 6
    assert kinds == {"scheduled"}


def test_schedule_config_passes_the_manual_sitemap_on(tmp_path: Path) -> None:
    config = tmp_path / "amendwatch.toml"
    config.write_text(
        '[schedule]\nsnapshot = "0 2 * * *"\n'
        '[[manual]]\nname = "m"\ncontents_url = "http://127.0.0.1:9/manual/"\n'
        'sitemap_url = "auto"\n'
    )
    app = Amendwatch.open(Settings(db_path=tmp_path / "aw.db"))
    try:
        ensure_manuals(app, load_schedule_config(config).manuals)
        (manual,) = app.manuals()
    finally:
        app.close()
    assert manual.sitemap_url == "auto"
