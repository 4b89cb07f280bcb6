"""Output files (issue 19, point 7): evidence packs that cannot run the page's scripts,
writes that replace a good file only with a whole new one, a full disk as one line (files
and the database), and the mode of every file written. Through the command line on a real
database built from a loopback site."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import stat
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner, Result

import amendwatch.api
import amendwatch.outputs
from amendwatch.cli import cli
from amendwatch.errors import DiskFullError
from amendwatch.outputs import atomic_file, write_output
from store.db import open_db
from store.seals import seal_pending
from tests.integration.minisite import MiniSite, chapter_html, contents_html

SCRIPT = "<script>document.title='pwned'</script><img src=x onerror=\"alert('pwned')\">"
TEXT = "The assessment must be completed within 45 working days of the referral."
WEEK = "2026-W46"
AT = ("2026-11-09T09:00:00+00:00", "2026-11-10T09:00:00+00:00")


def page(text: str) -> str:
    html = chapter_html("Assessments", [("1. Purpose", "Agencies respond."), ("2. Time", text)])
    return html.replace("</h1>", f"</h1>{SCRIPT}").replace("</head>", f"{SCRIPT}</head>")


def run(db: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    result = CliRunner(env=env).invoke(cli, ["--db", str(db), *args], catch_exceptions=False)
    assert "Traceback" not in result.output
    return result


def one_line_error(result: Result, needle: str) -> None:
    assert result.exit_code == 1, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and needle in errors[0], result.output


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("outputs") / "aw.db"
    with MiniSite() as site:
        site.pages["/"] = contents_html([("1.1", "Assessments", "/a.html")])
        site.pages["/a.html"] = page(TEXT)
        assert run(path, "manual", "add", "mini", f"{site.base_url}/").exit_code == 0
        assert run(path, "snapshot", "--at", AT[0]).exit_code == 0
        site.pages["/a.html"] = page(TEXT.replace("45", "35"))
        assert run(path, "snapshot", "--at", AT[1]).exit_code == 0
    return path


@pytest.fixture
def db(built: Path, tmp_path: Path) -> Iterator[Path]:
    copy = tmp_path / "aw.db"
    shutil.copyfile(built, copy)
    yield copy


# evidence packs ------------------------------------------------------------------------------
def test_no_html_file_of_an_evidence_pack_can_run_the_page(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "pack.zip"
    assert run(db, "export", "evidence", "Assessments", "-o", str(out)).exit_code == 0
    with zipfile.ZipFile(out) as pack:
        listed = json.loads(pack.read("manifest.json"))["files"]
        manifest = {item["path"]: item["sha256"] for item in listed}
        files = {name: pack.read(name) for name in pack.namelist()}
    pages = {name: data.decode() for name, data in files.items() if name.endswith(".html")}
    assert "before/capture-view.html" in pages and "diff/section-diff.html" in pages
    for name, text in pages.items():
        soup = BeautifulSoup(text, "html.parser")
        assert not soup.find_all("script"), name
        handlers = [a for tag in soup.find_all(True) for a in tag.attrs if a.startswith("on")]
        assert not handlers, name
        assert "<script" not in text.lower(), name
    view = BeautifulSoup(pages["after/capture-view.html"], "html.parser")
    policy = view.find("meta", attrs={"http-equiv": "Content-Security-Policy"})
    assert policy is not None and "default-src 'none'" in str(policy["content"])
    (frame,) = view.find_all("iframe")
    assert frame.has_attr("sandbox") and not frame["sandbox"]  # sandboxed, nothing allowed
    assert "pwned" in str(frame["srcdoc"])
    for side in ("before", "after"):
        raw = files[f"{side}/capture.html.txt"]  # the exact bytes, under a name no browser runs
        observation = json.loads(files[f"{side}/observation.json"])
        assert hashlib.sha256(raw).hexdigest() == observation["body_sha256"]
        assert manifest[f"{side}/capture.html.txt"] == observation["body_sha256"]
        assert b"<script>document.title='pwned'</script>" in raw


# atomic writes and a full disk ---------------------------------------------------------------
def full_disk(*args: object) -> None:
    raise OSError(errno.ENOSPC, "No space left on device")


def config_file(tmp_path: Path, extra: str = "") -> Path:
    config = tmp_path / "amendwatch.toml"
    config.write_text(f'[schedule]\nreport_dir = "{tmp_path / "reports"}"\n{extra}')
    return config


def write_commands(tmp_path: Path) -> dict[str, tuple[list[str], Path]]:
    """Each command that writes a file, with the file it writes."""
    folder = tmp_path / "reports" / WEEK
    return {
        "report": (["report", "--week", WEEK, "-o", str(tmp_path / "r.html")], tmp_path / "r.html"),
        "draft": (
            ["draft", "--period", "2026-11", "-o", str(tmp_path / "d.md")],
            tmp_path / "d.md",
        ),
        "feed": (["feed", "mini", "-o", str(tmp_path / "f.atom")], tmp_path / "f.atom"),
        "warc": (["export", "warc", "-o", str(tmp_path / "w.warc.gz")], tmp_path / "w.warc.gz"),
        "evidence": (
            ["export", "evidence", "Assessments", "-o", str(tmp_path / "e.zip")],
            tmp_path / "e.zip",
        ),
        "deliver": (
            ["deliver", "--config", str(config_file(tmp_path)), "--week", WEEK],
            folder / "report.html",
        ),
    }


COMMANDS = ["report", "draft", "feed", "warc", "evidence", "deliver"]


@pytest.mark.parametrize("name", COMMANDS)
def test_a_full_disk_leaves_the_good_file_and_says_so_in_one_line(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    args, target = write_commands(tmp_path)[name]
    assert run(db, *args).exit_code == 0
    good = target.read_bytes()
    monkeypatch.setattr(amendwatch.outputs.os, "fsync", full_disk)
    one_line_error(run(db, *args), "the disk is full")
    assert target.read_bytes() == good
    assert sorted(p.name for p in target.parent.iterdir() if p.name.endswith(".part")) == []


def test_a_writer_that_fails_midway_replaces_nothing(tmp_path: Path) -> None:
    target = tmp_path / "report.md"
    write_output(target, "the good report\n")
    with pytest.raises(DiskFullError, match="disk is full"), atomic_file(target) as out:
        out.write(b"half a rep")
        full_disk()
    with pytest.raises(RuntimeError), atomic_file(target) as out:
        out.write(b"half a rep")
        raise RuntimeError("the renderer failed")
    assert target.read_text() == "the good report\n"
    assert [p.name for p in tmp_path.iterdir()] == ["report.md"]


def test_a_full_database_during_a_snapshot_is_one_line_and_no_run_stays_running(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = amendwatch.api.open_db

    def full(path: object) -> object:
        opened = original(path)  # type: ignore[arg-type]
        pages = opened.execute("PRAGMA page_count").fetchone()[0]
        opened.execute(f"PRAGMA max_page_count = {pages}")  # not a page more: a full disk
        return opened

    with MiniSite() as site:
        moved = open_db(db)  # through the store, so the moved URLs are sealed
        moved.execute("UPDATE manuals SET contents_url = ?", (f"{site.base_url}/",))
        moved.execute("UPDATE chapters SET url = ?", (f"{site.base_url}/a.html",))
        seal_pending(moved)
        moved.close()
        site.pages["/"] = contents_html([("1.1", "Assessments", "/a.html")])
        noise = " ".join(f"Officer {os.urandom(6).hex()} signs step {n}." for n in range(4000))
        site.pages["/a.html"] = page(f"{TEXT} {noise}")
        monkeypatch.setattr(amendwatch.api, "open_db", full)
        one_line_error(run(db, "snapshot", "--at", "2026-11-11T09:00:00+00:00"), "disk is full")
        monkeypatch.setattr(amendwatch.api, "open_db", original)
        assert run(db, "snapshot", "--at", "2026-11-12T09:00:00+00:00").exit_code == 0
    store = open_db(db)
    statuses = [row[0] for row in store.execute("SELECT status FROM runs ORDER BY id")]
    store.close()
    assert statuses == ["ok", "ok", "failed", "ok"]
    assert run(db, "verify").exit_code == 0


# file modes ----------------------------------------------------------------------------------
def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("name", COMMANDS)
def test_files_are_written_0600_unless_configured(db: Path, tmp_path: Path, name: str) -> None:
    old_umask = os.umask(0o022)
    try:
        args, target = write_commands(tmp_path)[name]
        assert run(db, *args).exit_code == 0
        assert mode_of(target) == 0o600
        env = {"AMENDWATCH_FILE_MODE": "0644"}
        if name == "deliver":  # the scheduler's file: [output] file_mode
            config_file(tmp_path, '[output]\nfile_mode = "0644"\n')
            env = {}
        assert run(db, *args, env=env).exit_code == 0
        assert mode_of(target) == 0o644
    finally:
        os.umask(old_umask)


@pytest.mark.parametrize("value", ["644 ", "rw-r--r--", "0o1777", "9"])
def test_a_bad_file_mode_is_one_line(db: Path, tmp_path: Path, value: str) -> None:
    result = run(db, "report", "-o", str(tmp_path / "r.md"), env={"AMENDWATCH_FILE_MODE": value})
    if value.strip() == "644":
        assert result.exit_code == 0 and mode_of(tmp_path / "r.md") == 0o644
        return
    one_line_error(result, "file_mode")
