"""The quality benchmark: `make quality` (or .venv/bin/python bench/quality.py [--docs N]).

Renders every version of the corpus documents (../shared/devcorpus, Markdown) as chapter pages
of two manuals, one per page template (bench/quality_pages.py), serves them on 127.0.0.1 one
published version per weekly run (each version on two runs: published, then re-rendered with
fresh furniture), drives the real CLI (`manual add`, `snapshot --at` weekly, `changes --format
json`, `show --format json`), derives the truth from the Markdown (bench/quality_truth.py),
and prints section recall and precision, false alarms on re-renders and cosmetic-only pairs,
heading recall and precision, discovery faults and the longest held-back change, per template
and overall, into docs/quality.md. Exit status 0 whenever the harness ran (it is a measurement);
"TARGET MISSED" lines name the targets not met.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from quality_cli import WEEK, Cli, Stored, longest_suspect, read_store, week_of  # noqa: E402
from quality_corpus import Doc, load_corpus, weeks_for  # noqa: E402
from quality_doc import machine, write_doc  # noqa: E402
from quality_eval import ChapterObserved, evaluate_chapter, heading_score, held_back  # noqa: E402
from quality_pages import TEMPLATES  # noqa: E402
from quality_report import (  # noqa: E402
    Discovery,
    HeldBack,
    Outcome,
    Suspect,
    figures,
    missed_targets,
    patterns,
    table,
    worst_alarms,
    worst_misses,
)
from quality_site import Site, SiteServer  # noqa: E402

START = "2026-01-05T09:00:00+00:00"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "devcorpus")
    parser.add_argument("--docs", type=int, help="only the first N documents (quick mode)")
    parser.add_argument("--templates", default="a,b", help="page templates, comma-separated")
    parser.add_argument("--weeks", type=int, help="weekly runs (default: 2 per version)")
    parser.add_argument("--start", default=START, help="time of the first weekly run")
    parser.add_argument("--exe", type=Path, default=ROOT / ".venv" / "bin" / "amendwatch")
    parser.add_argument("--keep", type=Path, help="keep the database and rendered site here")
    parser.add_argument("--json", type=Path, help="write the raw results (per doc/week) here")
    parser.add_argument(
        "--doc", type=Path, help="page to write (default docs/quality.md, none with --docs)"
    )
    return parser.parse_args(argv)


def url_key(url: str) -> str:
    """A chapter URL as compared here: path without a trailing slash, and the query."""
    parts = urlsplit(url)
    path = parts.path.rstrip("/") or "/"
    return path + (f"?{parts.query}" if parts.query else "")


@dataclass
class Run:
    """What one harness run gathered from the CLI."""

    base_url: str
    start: datetime
    weeks: int
    snapshots: list[dict[str, Any]] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)
    shown: dict[str, dict[str, Any] | None] = field(default_factory=dict)  # by url_key
    stored: Stored = field(default_factory=Stored)
    errors: list[str] = field(default_factory=list)

    def at(self, week: int) -> datetime:
        return self.start + week * WEEK


def drive(site: Site, cli: Cli, run: Run, keep: Path | None) -> None:
    """manual add, a snapshot per week, then changes, the store, and show per chapter."""
    for template in site.templates:
        added = cli.run(
            "manual", "add", f"quality-{template.name}", run.base_url + template.contents_path
        )
        if not added.ok:
            raise SystemExit(added.failure())
    for week in range(run.weeks):
        site.week = week
        if keep:
            site.write(keep / "site" / f"week-{week:02d}")
        snap = cli.run("snapshot", "--at", run.at(week).isoformat(), "--quiet")
        run.snapshots.append(
            {
                "week": week,
                "code": snap.code,
                "seconds": round(snap.seconds, 2),
                "summary": snap.stdout.strip(),
            }
        )
        if snap.code not in (0, 3):
            run.errors.append(f"week {week}: {snap.failure()}")
        print(f"  week {week:2d}: snapshot exit {snap.code} in {snap.seconds:.1f} s", flush=True)
    run.changes, changes = cli.changes(run.start - timedelta(days=1), run.at(run.weeks))
    if not changes.ok:
        run.errors.append(changes.failure())
    run.stored = read_store(cli.db)
    if run.stored.error:
        run.errors.append(run.stored.error)
    show_all(site, cli, run)
    if keep:
        (keep / "changes.json").write_text(json.dumps({"changes": run.changes}, indent=1))
        (keep / "shown.json").write_text(json.dumps(run.shown, indent=1, ensure_ascii=False))


def show_all(site: Site, cli: Cli, run: Run) -> None:
    """`show --format json` of every watched chapter at the last run."""
    last = run.at(run.weeks - 1) + timedelta(hours=1)
    stored = {url_key(url): url for url in run.stored.manual}
    for template in site.templates:
        for doc in site.docs:
            url = stored.get(url_key(template.chapter_path(doc)))
            if url is None:
                continue  # never watched: counted by discovery
            shown, show = cli.show(url, last)
            run.shown[url_key(url)] = shown
            if not show.ok and run.stored.versions.get(url):
                run.errors.append(show.failure())


def observed_by_chapter(run: Run) -> dict[str, ChapterObserved]:
    """The CLI's diffs by week and the weeks a version was stored, per chapter url_key."""
    found: dict[str, ChapterObserved] = {}
    for diff in run.changes:
        item = found.setdefault(url_key(diff["chapter_url"]), ChapterObserved())
        item.diffs.setdefault(week_of(diff["detected_at"], run.start), []).append(diff)
    for url, times in run.stored.versions.items():
        item = found.setdefault(url_key(url), ChapterObserved())
        item.version_weeks.update(week_of(t, run.start) for t in times)
    return found


def discovery(site: Site, run: Run, observed: dict[str, ChapterObserved]) -> dict[str, Discovery]:
    result: dict[str, Discovery] = {}
    for template in site.templates:
        expected = {url_key(template.chapter_path(d)): d.id for d in site.docs}
        watched = {
            url_key(url): url
            for url, manual in run.stored.manual.items()
            if manual == f"quality-{template.name}"
        }
        found = Discovery(listed=len(expected), watched=len(set(watched) & set(expected)))
        found.missed = [
            doc
            for key, doc in expected.items()
            if not run.stored.versions.get(watched.get(key, ""))
        ]
        found.phantom = sorted(url for key, url in watched.items() if key not in expected)
        found.phantom_changes = sum(
            len(d)
            for key in watched
            if key not in expected
            for d in observed.get(key, ChapterObserved()).diffs.values()
        )
        result[template.name] = found
    return result


def evaluate(site: Site, run: Run) -> Outcome:
    """Every chapter judged; a dropped chapter (never got a version) only adds its truth to
    recall-with-dropped, the rest of its faults are counted by discovery."""
    observed = observed_by_chapter(run)
    outcome = Outcome(errors=list(run.errors))
    outcome.discovery = discovery(site, run, observed)
    urls = {url_key(url): url for url in run.stored.manual}
    for template in site.templates:
        for doc in site.docs:
            key = url_key(template.chapter_path(doc))
            seen = observed.get(key, ChapterObserved())
            weeks = evaluate_chapter(doc, template.name, seen, run.weeks)
            if doc.id in outcome.discovery[template.name].missed:
                outcome.dropped += weeks
                continue
            outcome.weeks += weeks
            _judge_watched(outcome, doc, template.name, seen, run, urls.get(key, ""))
    return outcome


def _judge_watched(
    outcome: Outcome, doc: Doc, template: str, seen: ChapterObserved, run: Run, url: str
) -> None:
    """Held-back changes, headings and suspect runs of a watched chapter."""
    outcome.held += [
        HeldBack(doc.id, template, week, runs) for week, runs in held_back(doc, seen, run.weeks)
    ]
    shown = run.shown.get(url_key(url))
    sections = shown.get("sections") if shown else None
    last = doc.version_at(run.weeks - 1).markdown
    outcome.headings.append((doc.id, template, heading_score(last, sections)))
    longest, left, reason = longest_suspect(run.stored.outcomes.get(url, []), run.start)
    if longest:
        outcome.suspects.append(Suspect(doc.id, template, longest, left, reason))


def report(outcome: Outcome, templates: list[str], seconds: float, run: Run) -> str:
    scopes = {f"template {t}": figures(outcome, t) for t in templates}
    scopes["overall"] = figures(outcome, None)
    snaps = [s["seconds"] for s in run.snapshots]
    lines = [f"ERROR: {e}" for e in outcome.errors[:5]] + [
        table(scopes),
        "",
        f"Harness: {len(run.snapshots)} weekly snapshots, {sum(snaps):.0f} s in snapshot "
        f"(mean {sum(snaps) / max(len(snaps), 1):.1f} s, max {max(snaps, default=0):.1f} s); "
        f"whole run {seconds:.0f} s.",
        "",
        "Patterns:",
        *(f"- {line}" for line in patterns(outcome)),
        "",
        "Worst misses (top 10):",
        *(f"- {line}" for line in worst_misses(outcome) or ["none"]),
        "",
        "Worst false alarms (top 10):",
        *(f"- {line}" for line in worst_alarms(outcome) or ["none"]),
    ]
    lines += _details(outcome)
    return "\n".join(lines)


def _listed(title: str, items: list[str], most: int = 12) -> list[str]:
    """A titled list, cut at ``most`` entries (the --json file has them all)."""
    if not items:
        return []
    more = [f"- … and {len(items) - most} more (see --json)"] if len(items) > most else []
    return ["", title, *(f"- {item}" for item in items[:most]), *more]


def _details(outcome: Outcome) -> list[str]:
    held = sorted(
        (h for h in outcome.held if h.runs is None or h.runs > 1),
        key=lambda h: -(h.runs if h.runs is not None else 999),
    )
    lines = _listed(
        "Held back more than one run:",
        [
            f"{h.doc} [{h.template}] week {h.week}: "
            + ("never reported" if h.runs is None else f"{h.runs} runs")
            for h in held
        ],
    )
    lines += _listed(
        "Suspect runs (longest consecutive, per chapter):",
        [
            f"{s.doc} [{s.template}]: {s.longest} run(s)"
            + (", still suspect" if s.left else "")
            + f" ({s.reason})"
            for s in sorted(outcome.suspects, key=lambda s: -s.longest)
        ],
    )
    for name, found in outcome.discovery.items():
        if found.missed or found.phantom:
            lines += [
                "",
                f"Discovery, template {name}: dropped {found.missed or 'none'}; "
                f"{len(found.phantom)} phantom chapters ({found.phantom_changes} changes "
                f"reported on them), e.g. {found.phantom[:3]}",
            ]
    return lines + _listed("Errors:", outcome.errors, 20)


def raw_json(outcome: Outcome, run: Run) -> dict[str, Any]:
    return {
        "weeks": [w.to_json() for w in outcome.weeks],
        "held_back": [vars(h) for h in outcome.held],
        "headings": [{"doc": d, "template": t, **vars(score)} for d, t, score in outcome.headings],
        "discovery": {name: vars(found) for name, found in outcome.discovery.items()},
        "suspects": [vars(s) for s in outcome.suspects],
        "snapshots": run.snapshots,
        "errors": outcome.errors,
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    began = time.perf_counter()
    docs: list[Doc] = load_corpus(args.corpus, args.docs)
    templates = [t.strip() for t in args.templates.split(",") if t.strip() in TEMPLATES]
    site = Site(docs, templates)
    weeks = args.weeks or weeks_for(docs)
    print(f"quality: {len(docs)} documents × {len(templates)} templates, {weeks} weekly runs")
    with tempfile.TemporaryDirectory(prefix="quality-") as scratch:
        workdir = args.keep or Path(scratch)
        workdir.mkdir(parents=True, exist_ok=True)
        for stale in workdir.glob("q.db*"):  # the database, its WAL, shared memory and lock
            stale.unlink()
        cli = Cli(args.exe, workdir / "q.db")
        with SiteServer(site) as server:
            run = Run(server.base_url, datetime.fromisoformat(args.start), weeks)
            drive(site, cli, run, args.keep)
        outcome = evaluate(site, run)
    seconds = time.perf_counter() - began
    text = report(outcome, templates, seconds, run)
    print(text)
    misses = missed_targets(figures(outcome, None))
    print("\n".join(misses) if misses else "all targets met")
    _write(args, outcome, run, text, misses)
    return 0


def _write(
    args: argparse.Namespace, outcome: Outcome, run: Run, text: str, misses: list[str]
) -> None:
    if args.json:
        args.json.write_text(json.dumps(raw_json(outcome, run), indent=1, ensure_ascii=False))
    doc = args.doc or (None if args.docs else ROOT / "docs" / "quality.md")
    if doc is None:
        return
    command = shlex.join([".venv/bin/python", "bench/quality.py", *sys.argv[1:]])
    stamp = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    block = f"Command: `{command}` ({stamp}; {machine()}).\n\n{text}\n\n" + (
        "\n".join(f"- {m}" for m in misses) if misses else "All targets met."
    )
    write_doc(doc, block)


if __name__ == "__main__":
    raise SystemExit(main())
