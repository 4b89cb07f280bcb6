"""Terminal escapes (issue 19, point 7): ANSI/OSC sequences and other control characters in
page titles and text never reach the terminal raw, whatever command prints them; they are
shown as ``\\u001b`` and so on. Through the real pipeline and command line on loopback."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from amendwatch.cli import cli
from amendwatch.cli.tools import SafeFormatter, terminal_safe
from tests.integration.minisite import MiniSite, chapter_html, contents_html

OSC_TITLE = "\x1b]0;pwned\x07"  # sets the terminal's window title
RED = "\x1b[31m"
TITLE = f"Assessments {OSC_TITLE}and {RED}Reviews\x1b[0m"
FILLER = " ".join(["Every assessment is recorded on the child's file with its reasons."] * 12)
RAW = ("\x1b", "\x07", "\x9b", "\u202e")


def chapter(extra: str) -> str:
    sections = [
        (f"1. Purpose {RED}", f"{FILLER} {OSC_TITLE}"),
        ("2. Timescales", f"{FILLER} The assessment must be completed within {extra}."),
    ]
    return chapter_html(TITLE, sections)


def run(db: Path, *args: str) -> Result:
    result = CliRunner().invoke(cli, ["--db", str(db), *args], catch_exceptions=False)
    assert "Traceback" not in result.output
    return result


def assert_inert(output: str) -> None:
    for char in RAW:
        assert char not in output, repr(output)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("terminal") / "aw.db"
    with MiniSite() as site:
        site.pages["/"] = contents_html(
            [("1.1", TITLE, "/a.html"), ("1.2", f"Elsewhere {RED}\x9b2J", "http://x.example/")]
        )
        site.pages["/a.html"] = chapter("45 working days")
        assert run(path, "manual", "add", "mini", f"{site.base_url}/").exit_code == 0
        first = run(path, "snapshot", "--verbose", "--at", "2026-11-09T09:00:00+00:00")
        site.pages["/a.html"] = chapter("35 working days \u202eevil")
        second = run(path, "snapshot", "--verbose", "--at", "2026-11-10T09:00:00+00:00")
    for result in (first, second):
        assert result.exit_code == 0, result.output
        assert_inert(result.output)
        assert "\\u001b[31m" in result.output  # the unwatched entry's title, shown escaped
    return path


@pytest.mark.parametrize(
    "args",
    [
        ("changes", "--since", "2026-11-01"),
        ("changes", "--since", "2026-11-01", "--format", "json"),
        ("history", "Assessments"),
        ("history", "Assessments", "--section", "2"),
        ("show", "Assessments", "--as-of", "2026-11-11"),
        ("show-manual", "mini", "--as-of", "2026-11-11"),
        ("show-manual", "mini", "--as-of", "2026-11-11", "--format", "json"),
        ("runs",),
        ("diff", "Assessments"),
        ("report", "--since", "2026-11-01", "--until", "2026-11-30", "--format", "md"),
        ("draft", "--period", "2026-11", "--format", "md"),
    ],
)
def test_no_control_character_reaches_the_terminal(db: Path, args: tuple[str, ...]) -> None:
    result = run(db, *args)
    assert result.exit_code == 0, result.output
    assert_inert(result.output)
    assert "pwned" in result.output or args[0] in ("runs", "draft", "report", "diff")


def test_json_output_stays_valid_json_with_the_same_text(db: Path) -> None:
    result = run(db, "changes", "--since", "2026-11-01", "--format", "json")
    (change,) = json.loads(result.output)["changes"]
    assert change["chapter_title"] == TITLE  # escaped on the terminal, exact once parsed
    assert "\u202e" in json.dumps(change, ensure_ascii=False)


def test_an_error_message_is_escaped_too(db: Path) -> None:
    result = CliRunner().invoke(cli, ["--db", str(db), "history", f"no such {OSC_TITLE}"])
    assert result.exit_code == 1
    assert_inert(result.output)
    assert "pwned" in result.output and result.output.startswith("Error: ")


def test_escaping_keeps_newlines_and_tabs_and_log_lines_are_escaped() -> None:
    assert terminal_safe(f"a\tb\nc{RED}\r") == "a\tb\nc\\u001b[31m\\u000d"
    record = logging.LogRecord("amendwatch", logging.INFO, __file__, 1, "run: %s", (TITLE,), None)
    line = SafeFormatter("%(message)s").format(record)
    assert_inert(line)
    assert line == f"run: {terminal_safe(TITLE)}"
