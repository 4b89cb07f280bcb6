"""`amendwatch schedule run` as a real process: runs on its schedule, stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner

from amendwatch.cli import cli
from amendwatch.demo.server import DemoServer
from store.db import open_db


def finished_runs(db_path: Path) -> list[dict[str, object]]:
    if not db_path.exists():
        return []
    db = open_db(db_path)
    try:
        return list(db.query("SELECT * FROM runs WHERE finished_at IS NOT NULL ORDER BY id"))
    finally:
        db.close()


def test_schedule_runs_twice_and_stops_on_sigterm(tmp_path: Path) -> None:
    db_path = tmp_path / "aw.db"
    config = tmp_path / "amendwatch.toml"
    with DemoServer() as server:
        config.write_text(
            "[schedule]\n"
            "interval_seconds = 1\n"
            f'report_dir = "{tmp_path / "reports"}"\n'
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
