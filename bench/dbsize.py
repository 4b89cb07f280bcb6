"""Database size after a year of weekly rounds, every raw capture kept (a simulation).

    .venv/bin/python bench/dbsize.py --db year.db [--chapters 10000] [--weeks 52]

Week 0 captures every chapter; each later week touches 2 % of the chapters (sitegen's edit
rounds). Every fetch becomes an observation through amendwatch's own store functions: a
changed chapter's page (200, body stored content-addressed and compressed, a new version, its
diff and change row), an unchanged one a 304 observation. The chapters' content is built
from the site model rather than extracted (the extraction is measured by bench/run.py), so
a year of 10,000 chapters takes minutes. Prints JSON: file size, tables, as-of median.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urljoin

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sitegen import Site, footer

from amendwatch.api import Amendwatch
from amendwatch.config import Settings
from differ.chapter import diff_chapters
from scraper.extract import extract_chapter
from scraper.models import Chapter, ChapterRef, Link, Page, Section
from store import manuals, observations, versions
from store.db import open_db
from store.rows import write_transaction

BASE = "http://127.0.0.1:8/static/"
START = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)


def model_chapter(site: Site, number: int, url: str) -> Chapter:
    sections = []
    for index, model in enumerate(site.sections_of(number), start=1):
        lines = [" ".join(p) for p in model.paragraphs] + [text for text, _ in model.links]
        links = tuple(Link(text, urljoin(url, href)) for text, href in model.links)
        sections.append(Section(str(index), model.title, 1, (str(index),), "\n".join(lines), links))
    return Chapter(url, site.title_of(number), tuple(sections), ())


def page_of(site: Site, number: int, url: str, at: datetime, status: int = 200) -> Page:
    before, after = site.furniture()
    headers = (
        ("Content-Type", "text/html; charset=utf-8"),
        ("ETag", f'"{number}-{site.version_of(number)}"'),
        ("Last-Modified", "Mon, 05 Jan 2026 02:00:00 GMT"),
        ("Server", "bench"),
    )
    if status == 304:
        return Page(url, url, 304, headers, b"", at)
    html = before.replace("{title}", site.title_of(number)) + site.chapter_main(number)
    return Page(url, url, 200, headers, (html + after + footer("2026", "static")).encode(), at)


EXTRACT = False  # --extract: store what extraction makes of the page (as a real run does)


def capture(db, manual_id, row, site, number, at, first: bool) -> None:  # type: ignore[no-untyped-def]
    page = page_of(site, number, row.url, at)
    if EXTRACT:
        chapter = extract_chapter(page.body.decode("utf-8"), row.url)
    else:
        chapter = model_chapter(site, number, row.url)
    latest = None if first else versions.latest_version(db, row.id)
    obs = observations.record_observation(
        db, page, manual_id=manual_id, chapter_id=row.id, role="chapter", outcome="new-version"
    )
    if latest is None:
        versions.add_version(db, row.id, chapter, observation_id=obs, observed_at=at, previous=None)
        return
    diff = diff_chapters(latest.chapter, chapter, old_version=latest.id, new_version=None)
    stored = versions.add_version(
        db, row.id, chapter, observation_id=obs, observed_at=at, previous=latest, pairs=diff.pairs
    )
    diff = diff.__class__(**{**diff.__dict__, "new_version": stored.id})
    versions.record_change(db, diff, chapter_id=row.id, detected_at=at, run_id=None)


def simulate(path: Path, chapters: int, weeks: int) -> dict[str, object]:
    db = open_db(path)
    site = Site(chapters, seed=7)
    manual = manuals.add_manual(db, "year", BASE + "contents.html", now=START)
    rows = [
        versions.upsert_chapter(
            db, manual.id, ChapterRef(f"{BASE}ch/{n:05d}.html", site.title_of(n)), START
        )
        for n in range(1, chapters + 1)
    ]
    for week in range(weeks):
        at = START + timedelta(weeks=week)
        changed = set() if week == 0 else {n for n, _ in site.advance(0.02)}
        with write_transaction(db):
            for number, row in enumerate(rows, start=1):
                stamp = at + timedelta(milliseconds=number)
                if week == 0 or number in changed:
                    capture(db, manual.id, row, site, number, stamp, first=week == 0)
                    continue
                page = page_of(site, number, row.url, stamp, status=304)
                observations.record_observation(
                    db,
                    page,
                    manual_id=manual.id,
                    chapter_id=row.id,
                    role="chapter",
                    outcome="not-modified",
                )
        print(f"week {week + 1}/{weeks}: {len(changed) or chapters} captured", file=sys.stderr)
    tables = {
        name: db.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
        for name in ("observations", "bodies", "versions", "sections", "changes")
    }
    db.close()
    return {"tables": tables, "as_of_ms": as_of_median(path, rows, weeks)}


def as_of_median(path: Path, rows: list, weeks: int) -> float:  # type: ignore[type-arg]
    app = Amendwatch.open(Settings(db_path=path))
    rng = random.Random(3)
    times = []
    for _ in range(100):
        row = rng.choice(rows)
        at = START + timedelta(weeks=rng.uniform(0, weeks), hours=1)
        start = time.perf_counter()
        app.as_of(row.url, at)
        times.append((time.perf_counter() - start) * 1000)
    app.close()
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--chapters", type=int, default=10_000)
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument(
        "--extract", action="store_true", help="extract each capture (for verify --deep)"
    )
    args = parser.parse_args()
    global EXTRACT  # noqa: PLW0603
    EXTRACT = args.extract
    result = simulate(args.db, args.chapters, args.weeks)
    db = open_db(args.db)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    result.update(bytes=args.db.stat().st_size, chapters=args.chapters, weeks=args.weeks)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
