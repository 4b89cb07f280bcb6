"""Driving the real CLI as a subprocess (``amendwatch --db DB ...``), and reading its database
read-only for what the CLI does not print per chapter (versions stored, suspect fetches)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

WEEK = timedelta(days=7)


@dataclass(frozen=True)
class CliRun:
    args: tuple[str, ...]
    code: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def ok(self) -> bool:
        return self.code == 0

    def failure(self) -> str:
        tail = (self.stderr or self.stdout).strip().splitlines()[-3:]
        return f"`amendwatch {' '.join(self.args)}` exited {self.code}: {' / '.join(tail)}"


class Cli:
    """``amendwatch --db DB`` run as a subprocess; every call is kept (``runs``)."""

    def __init__(self, exe: Path, db: Path) -> None:
        self.exe, self.db = exe, db
        self.runs: list[CliRun] = []

    def run(self, *args: str, timeout: float = 900) -> CliRun:
        start = time.perf_counter()
        try:
            done = subprocess.run(
                [str(self.exe), "--db", str(self.db), *args],
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
            code, out, err = done.returncode, done.stdout, done.stderr
        except subprocess.TimeoutExpired:
            code, out, err = -1, "", f"timed out after {timeout:.0f} s"
        run = CliRun(args, code, out, err, time.perf_counter() - start)
        self.runs.append(run)
        return run

    def changes(self, since: datetime, until: datetime) -> tuple[list[dict[str, Any]], CliRun]:
        run = self.run(
            "changes",
            "--since",
            since.isoformat(),
            "--until",
            until.isoformat(),
            "--format",
            "json",
        )
        if not run.ok:
            return [], run
        items: list[dict[str, Any]] = json.loads(run.stdout).get("changes", [])
        return items, run

    def show(self, url: str, at: datetime) -> tuple[dict[str, Any] | None, CliRun]:
        run = self.run("show", url, "--as-of", at.isoformat(), "--format", "json")
        if not run.ok:
            return None, run
        data: dict[str, Any] = json.loads(run.stdout)
        return data, run


def week_of(when: str, start: datetime) -> int:
    """The weekly run an ISO time belongs to (runs are at ``start`` + n weeks)."""
    moment = datetime.fromisoformat(when)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=start.tzinfo)
    return int((moment - start + timedelta(hours=1)) // WEEK)


@dataclass
class Stored:
    """Per chapter URL: its manual, the times of its versions, its fetch outcomes in order."""

    manual: dict[str, str] = field(default_factory=dict)
    versions: dict[str, list[str]] = field(default_factory=dict)
    outcomes: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)
    error: str = ""


_CHAPTERS = "SELECT c.id, c.url, m.name FROM chapters c JOIN manuals m ON m.id = c.manual_id"
_VERSIONS = "SELECT chapter_id, valid_from FROM versions ORDER BY valid_from"
_OUTCOMES = (
    "SELECT chapter_id, observed_at, outcome, reason FROM observations"
    " WHERE role = 'chapter' AND chapter_id IS NOT NULL ORDER BY observed_at, id"
)


def read_store(db: Path) -> Stored:
    """Chapters, version times and chapter fetch outcomes, read-only (sqlite3 ``mode=ro``)."""
    stored = Stored()
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            urls: dict[int, str] = {}
            for chapter_id, url, manual in conn.execute(_CHAPTERS):
                urls[chapter_id] = url
                stored.manual[url] = manual
                stored.versions[url], stored.outcomes[url] = [], []
            for chapter_id, valid_from in conn.execute(_VERSIONS):
                if chapter_id in urls:
                    stored.versions[urls[chapter_id]].append(valid_from)
            for chapter_id, observed_at, outcome, reason in conn.execute(_OUTCOMES):
                if chapter_id in urls:
                    stored.outcomes[urls[chapter_id]].append((observed_at, outcome, reason))
    except sqlite3.Error as exc:
        stored.error = f"could not read {db}: {exc}"
    return stored


def longest_suspect(outcomes: list[tuple[str, str, str]], start: datetime) -> tuple[int, bool, str]:
    """(most consecutive weekly runs whose last fetch of the chapter was suspect or failed,
    whether it still was at the last run, the last such reason)."""
    last: dict[int, tuple[str, str]] = {}
    for observed_at, outcome, why in outcomes:
        last[week_of(observed_at, start)] = (outcome, why)
    longest = current = 0
    reason = ""
    for week in sorted(last):
        outcome, why = last[week]
        if outcome in ("suspect", "failed"):
            current += 1
            longest, reason = max(longest, current), why
        else:
            current = 0
    return longest, current > 0, reason
