"""Secrets come from the environment and never reach logs, output, reports or the database;
a database amendwatch creates is readable by its owner only."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from amendwatch.cli import cli
from amendwatch.config import ENV_SMTP_PASSWORD, load_settings
from tests.reliability.faultsite import Fault, FaultSite, chapter_path

SECRET = "s3cr3t-Pa55w0rd-7d1f"
AT = "2026-11-02T09:00:00+00:00"
LATER = "2026-11-03T09:00:00+00:00"


def run(db: Path, *args: str) -> Result:
    return CliRunner().invoke(
        cli, ["--db", str(db), *args], env={ENV_SMTP_PASSWORD: SECRET}, catch_exceptions=False
    )


def test_the_password_comes_from_the_environment_and_is_not_in_repr() -> None:
    settings = load_settings("x.db", env={ENV_SMTP_PASSWORD: SECRET})
    assert settings.smtp_password == SECRET
    assert SECRET not in repr(settings) and SECRET not in str(settings)
    assert load_settings("x.db", env={}).smtp_password is None


def test_the_password_is_nowhere_after_snapshots_and_reports(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    db = tmp_path / "aw.db"
    outputs: list[str] = []
    with FaultSite() as site:
        outputs.append(run(db, "manual", "add", "m", f"{site.base_url}/").output)
        outputs.append(run(db, "snapshot", "--at", AT).output)
        site.edition = 2
        site.faults[chapter_path(1)] = Fault("404")  # not retried: no backoff wait
        outputs.append(run(db, "snapshot", "--at", LATER).output)
    for fmt in ("html", "md", "json"):
        report = tmp_path / f"report.{fmt}"
        done = run(db, "report", "--since", "2026-11-01", "--until", "2026-11-30", "--format", fmt)
        outputs.append(done.output)
        report.write_text(done.output)
        assert done.exit_code == 0, done.output
    outputs.append(run(db, "draft", "--period", "2026-11", "--format", "md").output)
    outputs.append(run(db, "runs").output)
    outputs.append(run(db, "changes", "--since", "2026-11-01", "--format", "json").output)
    assert "Not checked" in outputs[3]  # the reports really ran over a failure
    for text in [*outputs, caplog.text]:
        assert SECRET not in text
    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("aw.db"))
    assert len(stored) > 10_000
    assert SECRET.encode() not in stored
    assert db.stat().st_mode & 0o077 == 0
