"""Start-up: `amendwatch --version` and `--help` import none of the heavy modules (the
commands of the ``amendwatch.cli.*`` modules are loaded lazily), and the lazy listing is the
listing the real commands give (docs/benchmarks.md, "Start-up"; bench/startup.py measures the
time)."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from amendwatch.cli import LAZY_COMMANDS, cli
from amendwatch.cli.tools import AmendwatchGroup

ROOT = Path(__file__).resolve().parents[2]
HEAVY = (
    "httpx", "bs4", "lxml", "sqlite_utils", "jinja2", "rich", "apscheduler", "sqlalchemy",
    "zstandard", "warcio", "diff_match_patch", "amendwatch.api", "amendwatch.config",
    "amendwatch.pipeline", "amendwatch.views", "reports.render", "store.db",
)  # fmt: skip
PROBE = """
import json, sys
heavy = json.loads(sys.argv[2])
sys.argv = ["amendwatch", *json.loads(sys.argv[1])]
from amendwatch.cli import main
try:
    main()
except SystemExit:
    pass
print(json.dumps(sorted(name for name in heavy if name in sys.modules)), file=sys.stderr)
"""


def first_paragraph(command: click.Command) -> str:
    return " ".join((command.help or "").partition("\n\n")[0].split())


def command_modules() -> list[str]:
    """Every module of amendwatch/cli/ that registers commands on the top-level group."""
    names = sorted(f"cli.{path.stem}" for path in (ROOT / "amendwatch" / "cli").glob("*.py"))
    return [
        name for name in names if hasattr(importlib.import_module(f"amendwatch.{name}"), "register")
    ]


def test_the_lazy_table_is_what_the_modules_register() -> None:
    lazy = {entry.name: entry for entry in LAZY_COMMANDS}
    registered: set[str] = set()
    for name in command_modules():
        group = click.Group()
        importlib.import_module(f"amendwatch.{name}").register(group)
        for command_name, command in group.commands.items():
            hint = (
                f"add LazyCommand({command_name!r}, 'amendwatch.{name}:...', ...) to LAZY_COMMANDS"
            )
            assert command_name in lazy, hint
            entry = lazy[command_name]
            assert entry.target.startswith(f"amendwatch.{name}:") and entry.load() is command
            assert entry.summary == first_paragraph(command), f"update {command_name}'s summary"
            assert command.short_help is None and not command.hidden and not command.deprecated
            registered.add(command_name)
    assert registered == set(lazy)
    assert not registered & {name for name in cli.commands if name not in lazy}  # no clash


@pytest.mark.parametrize("width", [60, 80, 120])
def test_the_lazy_listing_is_the_real_commands_help(width: int) -> None:
    lazy = {entry.name for entry in LAZY_COMMANDS}
    own = {name: command for name, command in cli.commands.items() if name not in lazy}
    fresh = AmendwatchGroup(
        name="amendwatch", commands=own, params=cli.params, help=cli.help, lazy=LAZY_COMMANDS
    )
    real = click.Group(
        name="amendwatch",
        commands={**own, **{entry.name: entry.load() for entry in LAZY_COMMANDS}},
        params=cli.params,
        help=cli.help,
    )

    def listing(group: click.Group) -> str:
        context = click.Context(group, info_name="amendwatch", terminal_width=width)
        context.max_content_width = width
        return group.get_help(context)

    assert not fresh.commands.keys() & lazy  # nothing loaded: the listing comes from the table
    assert listing(fresh) == listing(real)
    assert not fresh.commands.keys() & lazy  # and listing did not load them
    assert all(f"  {name} " in listing(fresh) for name in real.commands)


def test_a_lazy_command_runs() -> None:
    result = CliRunner().invoke(cli, ["draft", "--help"])
    assert result.exit_code == 0 and "--preview" in result.output


@pytest.mark.parametrize(
    "args",
    [["--version"], ["--help"], ["draft", "--help"], ["manual", "--help"],
     ["export", "--help"], ["schedule", "--help"], ["snapshot", "--help"]],
)  # fmt: skip
def test_help_and_version_import_nothing_heavy(args: list[str]) -> None:
    probe = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(args), json.dumps(HEAVY)],
        capture_output=True, text=True, cwd=ROOT, timeout=30, check=True,
    )  # fmt: skip
    assert json.loads(probe.stderr.strip().splitlines()[-1]) == [], probe.stderr
    assert "amendwatch" in probe.stdout


@pytest.mark.slow
def test_version_and_help_answer_within_150_ms() -> None:
    """The installed command, timed as bench/startup.py does (on demand: timing depends on
    what else the machine runs)."""
    cli_path = Path(sys.executable).parent / "amendwatch"
    bench = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "startup.py"), "--runs", "15", "--json",
         "--cli", str(cli_path)],
        capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    results = json.loads(bench.stdout)["results"]
    assert {name: figures["median_ms"] < 150 for name, figures in results.items()} == {
        "--version": True,
        "--help": True,
    }, results


SNAPSHOT_HEAVY = ("bs4", "soupsieve", "jinja2", "rich")
IMPORT_PROBE = """
import importlib, json, sys
for name in json.loads(sys.argv[1]):
    importlib.import_module(name)
heavy = json.loads(sys.argv[2])
loaded = sorted(name for name in heavy if name in sys.modules)
print(json.dumps({"loaded": loaded, "httpx_main_blocked": sys.modules.get("httpx._main") is None}))
"""


@pytest.mark.parametrize(
    "modules",
    [
        ["amendwatch.api", "amendwatch.views"],
        # everything `amendwatch snapshot` imports, and the stages a run reaches without
        # parsing HTML (a reused contents listing, 304 answers)
        ["amendwatch.cli", "amendwatch.cli.main", "amendwatch.api", "amendwatch.views",
         "amendwatch.afterrun", "amendwatch.config", "amendwatch.snapshotrun", "reports.periods",
         "scraper.session", "amendwatch.pipeline", "amendwatch.contentsstage"],
    ],
)  # fmt: skip
def test_what_snapshot_imports_leaves_the_html_parser_templates_and_rich_out(
    modules: list[str],
) -> None:
    probe = subprocess.run(
        [sys.executable, "-c", IMPORT_PROBE, json.dumps(modules), json.dumps(SNAPSHOT_HEAVY)],
        capture_output=True, text=True, cwd=ROOT, timeout=30, check=True,
    )  # fmt: skip
    seen = json.loads(probe.stdout.strip().splitlines()[-1])
    assert seen == {"loaded": [], "httpx_main_blocked": True}, probe.stderr


# What `amendwatch snapshot` imports only when a run needs it: the reports' dataclasses and the
# read side of the store (history, drafts, evidence, compaction), the differ (a change), lxml
# and BeautifulSoup (a page to parse), the sitemap reader (a manual with one), the TOML reader
# (--config), and importlib.metadata (sqlite-utils' plugin search, which amendwatch skips).
SNAPSHOT_LAZY = (
    "reports", "reports.models", "reports.periods", "reports.reconcile", "differ.chapter",
    "differ.classify", "differ.align", "differ.textdiff", "diff_match_patch", "lxml", "bs4",
    "scraper.fingerprint", "scraper.extract", "scraper.discover", "scraper.sitemap",
    "store.history", "store.pointintime", "store.readmodels", "store.drafts", "store.compact",
    "store.evidence", "store.reviews", "store.chainhead", "amendwatch.amendmentspage",
    "tomllib", "importlib.metadata", "jinja2", "rich",
)  # fmt: skip


def snapshot_probe(db: Path) -> tuple[list[str], str]:
    """Run `amendwatch --db DB snapshot --quiet` in a fresh interpreter: the modules of
    SNAPSHOT_LAZY it loaded, and its output."""
    args = ["--db", str(db), "snapshot", "--quiet"]
    probe = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(args), json.dumps(SNAPSHOT_LAZY)],
        capture_output=True, text=True, cwd=ROOT, timeout=60, check=True,
    )  # fmt: skip
    loaded: list[str] = json.loads(probe.stderr.strip().splitlines()[-1])
    return loaded, probe.stdout + probe.stderr


def test_the_snapshot_command_imports_none_of_what_a_run_loads_lazily(tmp_path: Path) -> None:
    """Everything the command imports, and the database opened (no manual to snapshot)."""
    loaded, output = snapshot_probe(tmp_path / "empty.db")
    assert "no manuals to snapshot" in output
    assert loaded == [], output


def test_a_snapshot_that_changes_nothing_parses_diffs_and_reports_nothing(
    tmp_path: Path,
) -> None:
    from tests.integration.minisite import MiniSite, chapter_html, contents_html  # noqa: PLC0415

    db = tmp_path / "site.db"
    chapters = [("1.1", "Referrals", "/referrals.html"), ("1.2", "Assessments", "/assess.html")]
    text = "Practitioners must record every referral and the decision made on it the same day."
    with MiniSite() as site:
        site.pages["/"] = contents_html(chapters)
        for _, title, path in chapters:
            site.pages[path] = chapter_html(title, [("1. Purpose", text), ("2. Scope", text)])
        added = CliRunner().invoke(cli, ["--db", str(db), "manual", "add", "m", site.base_url])
        assert added.exit_code == 0, added.output
        first, output = snapshot_probe(db)  # the baseline parses every page: the probe sees it
        assert {"bs4", "lxml", "scraper.fingerprint"} <= set(first), output
        again, output = snapshot_probe(db)  # the same bytes again: nothing to parse or diff
    assert "m: checked 2, changed 0, not checked 0" in output
    assert again == [], output
