"""Command-line and packaging conventions (issue 17, part 6): one version everywhere, the
licence metadata, `report` as Markdown on a terminal, bad and busy ports as one-line errors,
and `schedule run -v` without httpx's and httpcore's request logs."""

from __future__ import annotations

import importlib.metadata
import logging
import os
import pty
import re
import signal
import socket
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result

from amendwatch import __version__
from amendwatch.cli import cli
from amendwatch.cli.delivery import quiet_http_logs
from scraper.policy import FetchPolicy
from store.db import open_db
from tests.integration.minisite import MiniSite, chapter_html, contents_html

ROOT = Path(__file__).resolve().parents[2]
TEXT = "This chapter applies to every ward and to every member of staff on it. " * 4


def run(db: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--db", str(db), *args], catch_exceptions=False)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "aw.db"
    assert run(path, "manual", "add", "ward", "http://127.0.0.1:9/", "--no-check").exit_code == 0
    return path


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port on 127.0.0.1 another program is listening on."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        yield listener.getsockname()[1]


# one version, the licence ------------------------------------------------------------------
def test_the_version_has_one_source() -> None:
    assert importlib.metadata.version("amendwatch") == __version__
    result = CliRunner().invoke(cli, ["--version"])
    assert result.output == f"amendwatch, version {__version__}\n"
    assert (
        FetchPolicy().user_agent
        == f"amendwatch/{__version__} (+https://example.invalid/amendwatch)"
    )
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert "version" not in project and project["dynamic"] == ["version"]


def test_licence_metadata_and_dependencies() -> None:
    metadata = importlib.metadata.metadata("amendwatch")
    assert metadata["License-Expression"] == "MIT"
    assert metadata.get_all("License-File") == ["LICENSE"]
    licence = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert licence.startswith("MIT License") and "2026 the amendwatch authors" in licence
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "httpx>=0.27,<1" in pyproject["project"]["dependencies"]
    assert "dev" not in pyproject["project"]["optional-dependencies"]  # a group, not an extra
    dev = pyproject["dependency-groups"]["dev"]
    assert "pytest>=8" in dev and not any(name.startswith("types-beautifulsoup4") for name in dev)


# report on a terminal ----------------------------------------------------------------------
def on_terminal(*args: str) -> str:
    """What the real command prints when its standard output is a terminal (a pty)."""
    main, tty = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "amendwatch", *args],
        stdin=subprocess.DEVNULL, stdout=tty, stderr=subprocess.PIPE, cwd=ROOT,
    )  # fmt: skip
    os.close(tty)
    chunks = []
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # EIO: the command closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(main)
    assert process.wait(30) == 0, process.stderr.read() if process.stderr else ""
    return b"".join(chunks).decode().replace("\r\n", "\n")


def test_report_prints_markdown_on_a_terminal_and_html_elsewhere(db: Path) -> None:
    assert on_terminal("--db", str(db), "report").startswith("# Change report")
    assert run(db, "report").output.startswith("<!DOCTYPE html>")  # a pipe: as before
    assert run(db, "report", "--format", "md").output.startswith("# Change report")
    written = db.parent / "report.html"
    assert run(db, "report", "-o", str(written)).exit_code == 0
    assert written.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


# ports ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "args",
    [("serve", "--port", "70000"), ("serve", "--port", "-1"), ("browse", "--port", "0"),
     ("browse", "--port", "65536"), ("serve", "--port", "http")],
)  # fmt: skip
def test_a_bad_port_is_a_usage_error(db: Path, args: tuple[str, ...]) -> None:
    result = run(db, *args)
    assert result.exit_code == 2
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "Invalid value for '--port'" in errors[0]


@pytest.mark.parametrize("command", ["serve", "browse"])
def test_a_port_in_use_is_a_one_line_error(db: Path, busy_port: int, command: str) -> None:
    result = run(db, command, "--port", str(busy_port))
    assert result.exit_code == 1
    assert result.stdout == ""  # (serve, the old name of web, first says so on stderr)
    assert result.stderr.splitlines()[-1:] == [
        f"Error: cannot listen on 127.0.0.1:{busy_port}: Address already in use"
        " (choose another --port)"
    ]
    assert "Traceback" not in result.output


# schedule run -v -----------------------------------------------------------------------------
def finished_runs(db_path: Path) -> int:
    if not db_path.exists():
        return 0
    db = open_db(db_path)
    try:
        return int(
            db.execute("SELECT COUNT(*) FROM runs WHERE finished_at IS NOT NULL").fetchone()[0]
        )
    finally:
        db.close()


@pytest.mark.slow  # about 2.5 s: test_schedule_run_sets_the_http_loggers checks the wiring
def test_schedule_run_verbose_logs_chapters_not_http(tmp_path: Path) -> None:
    db_path, config = tmp_path / "aw.db", tmp_path / "amendwatch.toml"
    with MiniSite() as site:
        site.pages["/"] = contents_html([("1", "Admissions", "/ch/admissions")])
        site.pages["/ch/admissions"] = chapter_html("Admissions", [("1.1 Scope", TEXT)])
        config.write_text(
            f'[schedule]\ninterval_seconds = 1\n[[manual]]\nname = "ward"\n'
            f'contents_url = "{site.base_url}/"\n'
        )
        process = subprocess.Popen(
            [sys.executable, "-m", "amendwatch", "--db", str(db_path), "schedule", "run",
             "-v", "--config", str(config)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 20
            while finished_runs(db_path) < 1 and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            process.send_signal(signal.SIGTERM)
            output, _ = process.communicate(timeout=20)
    assert process.returncode == 0, output
    assert re.search(r"DEBUG amendwatch\.scheduler: run \d+: \S+ .*/ch/admissions", output), output
    assert "httpcore" not in output and "HTTP Request" not in output, output


@pytest.fixture
def logs() -> Iterator[list[logging.LogRecord]]:
    """Every record that reaches the root logger at DEBUG; logging restored afterwards."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep()
    root, httpx_logger, httpcore = (logging.getLogger(n) for n in ("", "httpx", "httpcore"))
    saved = (root.level, httpx_logger.level, httpcore.level, list(httpx_logger.filters))
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    httpx_logger.setLevel(logging.INFO)  # as scheduler.configure_logging sets it for -v
    try:
        yield records
    finally:
        root.removeHandler(handler)
        root.setLevel(saved[0])
        httpx_logger.setLevel(saved[1])
        httpcore.setLevel(saved[2])
        httpx_logger.filters[:] = saved[3]


@pytest.mark.parametrize(("verbosity", "shown"), [(0, False), (1, False), (2, True)])
def test_http_logs_only_with_vv(logs: list[logging.LogRecord], verbosity: int, shown: bool) -> None:
    quiet_http_logs(verbosity)
    with MiniSite() as site:
        site.pages["/"] = "<p>hello</p>"
        assert httpx.get(f"{site.base_url}/").status_code == 200
    names = {record.name.split(".")[0] for record in logs}
    assert ({"httpx", "httpcore"} <= names) is shown, names
    if not shown:
        assert not names & {"httpx", "httpcore"}


@pytest.mark.parametrize(("flag", "httpcore_level", "httpx_quiet"), [
    ("-v", logging.WARNING, True), ("-vv", logging.DEBUG, False), ("-q", logging.WARNING, True),
])  # fmt: skip
def test_schedule_run_sets_the_http_loggers(
    logs: list[logging.LogRecord],
    tmp_path: Path,
    flag: str,
    httpcore_level: int,
    httpx_quiet: bool,
) -> None:
    missing = tmp_path / "none.toml"  # the loggers are set before the file is read
    result = run(tmp_path / "aw.db", "schedule", "run", flag, "--config", str(missing))
    assert result.exit_code == 1 and "Error:" in result.output
    assert logging.getLogger("httpcore").level == httpcore_level
    record = logging.LogRecord("httpx", logging.INFO, __file__, 1, "HTTP Request", None, None)
    assert logging.getLogger("httpx").filter(record) is not httpx_quiet
