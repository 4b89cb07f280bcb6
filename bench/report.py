"""Collect the harness's figures, print them beside their targets, write docs/benchmarks.md."""

from __future__ import annotations

import argparse
import sqlite3
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

START, END = "<!-- bench:start (written by bench/run.py) -->", "<!-- bench:end -->"


def _mm(values: list[float], fmt: str = "{:.0f}") -> str:
    return f"{fmt.format(min(values))} / {fmt.format(statistics.median(values))}"


def _pct(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


class Figures:
    def __init__(self, args: argparse.Namespace, machine: dict[str, str], command: str) -> None:
        self.args = args
        self.machine = machine
        self.command = command
        self.rows: list[tuple[str, str, str, str]] = []
        self.notes: list[str] = []
        self.rates: dict[str, list[float]] = {}
        self.rss: list[float] = []
        self.example: list[str] = []

    def row(self, what: str, measured: str, target: str, met: bool | None) -> None:
        verdict = "—" if met is None else ("met" if met else "**missed**")
        self.rows.append((what, measured, target, verdict))

    def add_runs(self, name: str, runs: list[dict[str, Any]]) -> None:
        rates = [r["rate"] for r in runs]
        self.rates[name] = rates
        self.rss += [r["rss_mb"] for r in runs]
        label, target, goal = {
            "cold": ("cold first run, chapters/s", "(none)", None),
            "304": ("unchanged, 304 path, chapters/s", "≥ 800", 800.0),
            "dynamic-first": (
                "unchanged, dynamic path, first run after the baseline"
                " (fingerprint + guard per page), chapters/s",
                "(none)",
                None,
            ),
            "dynamic": ("unchanged, dynamic path, chapters/s", "≥ 300", 300.0),
            "dynamic-warm": (
                "unchanged, dynamic path, 2nd run in one process, chapters/s",
                "≥ 300",
                300.0,
            ),
        }[name]
        met = None if goal is None else statistics.median(rates) >= goal
        shown = _mm(rates) if len(rates) > 1 else f"{rates[0]:.0f}"
        self.row(label + ("" if len(rates) == 1 else " (min / median)"), shown, target, met)

    def add_changed(self, runs: list[dict[str, Any]], every: list[dict[str, Any]]) -> None:
        diffs: list[float] = []
        for run in [*runs, *every]:
            diffs += run["diff_times"]
            self.rss.append(run["rss_mb"])
        self.row(
            "run with 5 % changed, chapters/s (min / median)",
            _mm([r["rate"] for r in runs]),
            "(none)",
            None,
        )
        rates = [r["rate"] for r in every]
        self.row(
            "every chapter changed (end to end), chapters/s (min / median)",
            _mm(rates),
            "≥ 25",
            statistics.median(rates) >= 25,
        )
        if diffs:
            ms = [d * 1000 for d in diffs]
            self.row(
                f"diff per changed chapter, ms p50 / p95 ({len(ms)} diffs)",
                f"{_pct(ms, 0.5):.1f} / {_pct(ms, 0.95):.1f}",
                "p95 < 20",
                _pct(ms, 0.95) < 20,
            )
        self.row(
            f"peak RSS, MB (N = {self.args.chapters})",
            f"{max(self.rss):.0f}",
            "< 300 at N = 10,000",
            max(self.rss) < 300 if self.args.chapters >= 10_000 else None,
        )

    def add_memory(self, chapters: int, runs: list[dict[str, Any]]) -> None:
        peak = max(r["rss_mb"] for r in runs)
        rates = ", ".join(f"{r['rate']:.0f}" for r in runs)
        self.row(
            f"peak RSS, MB (N = {chapters}: cold, first unchanged and quick-path run)",
            f"{peak:.0f} (at {rates} chapters/s)",
            "< 300 at N = 10,000",
            peak < 300 if chapters >= 10_000 else None,
        )

    def add_urlwatch(self, path: str, rates: list[float]) -> None:
        ours = self.rates["304" if path == "static" else "dynamic"]
        ratio = statistics.median(ours) / statistics.median(rates)
        name = "304 path" if path == "static" else "dynamic path (css main + html2text)"
        self.row(f"urlwatch, {name}, chapters/s (min / median)", _mm(rates), "(reference)", None)
        target, goal = ("≥ 1.0", 1.0) if path == "static" else ("≥ 2.0", 2.0)
        self.row(f"ratio amendwatch / urlwatch, {name}", f"{ratio:.2f}", target, ratio >= goal)

    def compare_edit(
        self, db: Path, edits: list[list[Any]], report_for: Callable[[str, int], str], report: str
    ) -> None:
        """What each tool reports for the same edit (a section inserted, if there was one)."""
        edits = sorted(edits, key=lambda e: e[1] != "section")
        number, kind = edits[0][0], edits[0][1]
        with sqlite3.connect(db) as conn:
            row = conn.execute(
                "SELECT c.summary FROM changes c JOIN chapters ch ON ch.id = c.chapter_id"
                " WHERE ch.url LIKE ? ORDER BY c.id DESC LIMIT 1",
                (f"%/ch/{number:05d}.html",),
            ).fetchone()
        theirs = report_for(report, number)
        lines = [
            line
            for line in theirs.splitlines()
            if line[:1] in "+-" and line[:3] not in ("+++", "---")
        ]
        self.example = [
            f"Edit: chapter {number}, {kind} (round of 5 % changed).",
            f"- amendwatch: {row[0] if row else '(no change recorded)'}",
            f"- urlwatch: {len(lines)} changed lines in a unified diff"
            + (f", first: `{lines[0][:100]}`" if lines else " (no report for it)"),
        ]

    def add_dbsize(self, result: dict[str, Any], seconds: float) -> None:
        size_mb = result["bytes"] / 1e6
        what = f"database after {result['weeks']} weeks × {result['chapters']} chapters, MB"
        full = result["chapters"] >= 10_000 and result["weeks"] >= 52
        self.row(what, f"{size_mb:.0f}", "< 1,000 (10,000 × 52)", size_mb < 1000 if full else None)
        self.row(
            "`show --as-of` on that database, ms (median)",
            f"{result['as_of_ms']:.1f}",
            "(none)",
            None,
        )
        self.notes.append(f"database simulation took {seconds:.0f} s; tables: {result['tables']}")

    def render(self) -> str:
        m = self.machine
        lines = [
            START,
            "## The in-process harness (`make bench-harness`)",
            "",
            f"Command: `{self.command}` (N = {self.args.chapters}, {self.args.runs} runs each,"
            f" per-host concurrency {self.args.per_host or 'default (2)'},"
            f" batch {self.args.batch}).",
            f"Machine: {m['nproc']} CPUs, {m['cpu']}, Python {m['python']}, {m['os']}.",
            "",
            "| figure | measured | target | |",
            "|---|---|---|---|",
            *(f"| {a} | {b} | {c} | {d} |" for a, b, c, d in self.rows),
            "",
            *(
                ["### The same edit, as each tool reports it", "", *self.example, ""]
                if self.example
                else []
            ),
            *(f"- {note}" for note in self.notes),
            END,
        ]
        return "\n".join(lines)


def write_doc(path: Path, text: str) -> None:
    """Replace the harness section of ``path``, keeping every other section as it is."""
    old = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n\n"
    if START in old and END in old:
        head, rest = old.split(START, 1)
        new = head + text + rest.split(END, 1)[1]
    else:
        new = old.rstrip("\n") + "\n\n" + text + "\n"
    path.write_text(new, encoding="utf-8")
