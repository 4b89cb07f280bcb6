"""Exit codes through the real command line against a loopback site (docs/commands.md):
0 ok, 1 error (nothing done), 2 usage, 3 the run completed but something was not checked;
and ``manual add``, which tries the contents page once and refuses one that fails."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from amendwatch.cli import cli
from amendwatch.config import ScheduleConfig
from amendwatch.scheduler import open_app
from amendwatch.scheduler import run_snapshot as scheduled_snapshot
from tests.integration.minisite import MiniSite, chapter_html, contents_html

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << >> endobj\n%%EOF\n".decode("latin-1")
SECTIONS = [("1.1 Scope", "This chapter applies to every ward. " * 8)]


def run(db: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--db", str(db), *args], catch_exceptions=False)


@pytest.fixture
def site() -> Iterator[MiniSite]:
    with MiniSite() as server:
        server.pages["/"] = contents_html(
            [("1", "Admissions", "/ch/admissions"), ("2", "Discharge", "/ch/discharge")]
        )
        server.pages["/ch/admissions"] = chapter_html("Admissions", SECTIONS)
        server.pages["/ch/discharge"] = chapter_html("Discharge", SECTIONS)
        yield server


def added(db: Path, site: MiniSite, *extra: str) -> Result:
    result = run(db, "manual", "add", "ward", f"{site.base_url}/", *extra)
    assert result.exit_code == 0, result.output
    return result


def last_run(db: Path) -> dict[str, object]:
    runs = json.loads(run(db, "runs", "--format", "json").output)["runs"]
    latest: dict[str, object] = runs[0]
    return latest


def test_exit_0_when_everything_was_checked(site: MiniSite, tmp_path: Path) -> None:
    db = tmp_path / "aw.db"
    assert "(2 chapters listed)" in added(db, site).output
    result = run(db, "snapshot", "--quiet")
    assert result.exit_code == 0, result.output
    assert "checked 2" in result.output and "not checked 0" in result.output
    assert last_run(db)["status"] == "ok"


def test_exit_3_when_a_chapter_answers_503(site: MiniSite, tmp_path: Path) -> None:
    db = tmp_path / "aw.db"
    added(db, site)
    site.statuses["/ch/discharge"] = 503
    result = run(db, "snapshot", "--quiet")
    assert result.exit_code == 3, result.output
    assert "not checked 1" in result.output
    assert f"not checked: {site.base_url}/ch/discharge" in result.output
    latest = last_run(db)
    assert latest["status"] == "partial" and latest["failed"] == 1
    assert any("ch/discharge" in error for error in latest["errors"])  # type: ignore[attr-defined]
    assert "partial" in run(db, "runs").output


def test_exit_3_when_the_contents_page_answers_404(site: MiniSite, tmp_path: Path) -> None:
    db = tmp_path / "aw.db"
    added(db, site)
    del site.pages["/"]
    result = run(db, "snapshot", "--quiet")
    assert result.exit_code == 3, result.output
    assert "contents page failed: HTTP 404" in result.output
    latest = last_run(db)
    assert latest["status"] == "failed" and latest["failed"] == 1
    runs_text = run(db, "runs").output
    assert "failed" in runs_text and "contents page failed: HTTP 404" in runs_text


def test_exit_3_when_the_contents_page_is_a_pdf(site: MiniSite, tmp_path: Path) -> None:
    db = tmp_path / "aw.db"
    added(db, site)
    assert run(db, "snapshot", "--quiet").exit_code == 0  # the baseline
    site.pages["/"] = PDF
    site.types["/"] = "application/pdf"
    result = run(db, "snapshot", "--quiet")
    assert result.exit_code == 3, result.output
    assert "contents page failed: not HTML (application/pdf)" in result.output
    assert "checked 2" in result.output  # the known chapters are still read
    assert last_run(db)["status"] == "partial"


def test_exit_1_when_the_database_is_malformed(site: MiniSite, tmp_path: Path) -> None:
    db = tmp_path / "aw.db"
    db.write_bytes(b"hello, this is not a database\n" * 10)
    result = run(db, "snapshot", "--quiet")
    assert result.exit_code == 1, result.output
    assert result.output.startswith("Error:")


def test_exit_2_on_a_usage_error(tmp_path: Path) -> None:
    db = tmp_path / "aw.db"
    assert run(db, "snapshot", "--no-such-option").exit_code == 2
    assert run(db, "manual", "add", "only-a-name").exit_code == 2
    assert not db.exists()


@pytest.mark.parametrize(
    ("path", "page", "content_type", "reason"),
    [
        ("/gone", None, None, "HTTP 404"),
        ("/manual.pdf", PDF, "application/pdf", "not HTML (application/pdf)"),
        ("/empty", "<html><body><p>Nothing here.</p></body></html>", None, "no chapter links"),
    ],
)
def test_manual_add_refuses_a_contents_page_that_fails(
    site: MiniSite,
    tmp_path: Path,
    path: str,
    page: str | None,
    content_type: str | None,
    reason: str,
) -> None:
    db = tmp_path / "aw.db"
    if page is not None:
        site.pages[path] = page
    if content_type is not None:
        site.types[path] = content_type
    result = run(db, "manual", "add", "ward", f"{site.base_url}{path}")
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error:"), result.output
    assert reason in lines[0] and "--no-check" in lines[0]
    assert not db.exists()  # nothing done
    accepted = run(db, "manual", "add", "ward", f"{site.base_url}{path}", "--no-check")
    assert accepted.exit_code == 0, accepted.output
    assert "chapters listed" not in accepted.output


def test_manual_add_refuses_an_unreachable_site(tmp_path: Path) -> None:
    db = tmp_path / "aw.db"
    with MiniSite() as down:
        url = f"{down.base_url}/"
    result = run(db, "manual", "add", "ward", url)
    assert result.exit_code == 1, result.output
    assert "contents page" in result.output and "--no-check" in result.output
    assert not db.exists()
    assert run(db, "manual", "add", "ward", url, "--no-check").exit_code == 0
    snapshot = run(db, "snapshot", "--quiet")
    assert snapshot.exit_code == 3, snapshot.output
    assert "contents page failed:" in snapshot.output
    assert last_run(db)["status"] == "failed"


def test_a_scheduled_run_that_missed_pages_is_logged_not_ok(
    site: MiniSite, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "aw.db"
    added(db, site)
    del site.pages["/"]
    app = open_app(str(db), ScheduleConfig())
    try:
        with caplog.at_level(logging.INFO, logger="amendwatch.scheduler"):
            report = scheduled_snapshot(app, ScheduleConfig())
    finally:
        app.close()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(
        w.startswith(f"run {report.run_id}: ward: contents page failed: HTTP 404") for w in warnings
    )
    assert f"run {report.run_id}: failed" in warnings
