"""The weekly report written into a folder per week, and `amendwatch deliver`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner

from amendwatch import delivery
from amendwatch.api import Amendwatch
from amendwatch.cli import cli
from tests.delivery.conftest import WEEK_OF_CHANGES, Smtp


def test_previous_week_is_the_week_just_ended() -> None:
    assert delivery.previous_week(datetime(2026, 11, 16, 7, 0, tzinfo=UTC)) == "2026-W46"
    assert delivery.previous_week(datetime(2027, 1, 4, 7, 0, tzinfo=UTC)) == "2026-W53"


def test_folder_per_week_holds_three_formats(app: Amendwatch, tmp_path: Path) -> None:
    report = delivery.weekly_report(app, WEEK_OF_CHANGES)
    target = delivery.write_folder(report, tmp_path / "reports")
    assert target == tmp_path / "reports" / WEEK_OF_CHANGES
    assert sorted(p.name for p in target.iterdir()) == ["report.html", "report.json", "report.md"]
    assert json.loads((target / "report.json").read_text("utf-8")) == json.loads(report.json)
    assert "Domestic Abuse" in (target / "report.md").read_text("utf-8")


def test_deliver_command_writes_folder_and_sends_email(
    app: Amendwatch, tmp_path: Path, smtp: Smtp
) -> None:
    config = tmp_path / "amendwatch.toml"
    config.write_text(
        f'[schedule]\nreport_dir = "{tmp_path / "out"}"\n'
        f'[email]\nhost = "127.0.0.1"\nport = {smtp.port}\n'
        'from = "aw@example.org"\nto = "team@example.org"\n'
    )
    args = ["--db", str(app.settings.db_path), "deliver", "--config", str(config)]
    result = CliRunner().invoke(cli, [*args, "--week", WEEK_OF_CHANGES])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / WEEK_OF_CHANGES / "report.html").exists()
    assert "emailed team@example.org" in result.output
    (message,) = smtp.inbox.messages
    assert WEEK_OF_CHANGES in message["Subject"]


def test_deliver_without_destination_is_an_error(app: Amendwatch, tmp_path: Path) -> None:
    config = tmp_path / "amendwatch.toml"
    config.write_text("[schedule]\n")
    result = CliRunner().invoke(
        cli, ["--db", str(app.settings.db_path), "deliver", "--config", str(config)]
    )
    assert result.exit_code == 1
    assert result.output.startswith("Error:") and "report_dir" in result.output
