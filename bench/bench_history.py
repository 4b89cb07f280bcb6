"""Point-in-time lookups on a large history: ``show --as-of`` on N chapters x W weekly
observations (default 10,000 x 52), target median < 20 ms.

    .venv/bin/python bench/bench_history.py                   # the full size (about 2 min)
    .venv/bin/python bench/bench_history.py --chapters 500    # a quick run
    .venv/bin/python bench/bench_history.py --db big.db --reuse  # measure an existing build

The database is built directly through the store (observation hashes with
``store.observations.observation_hash``, bodies with ``store_body``, versions and sections as
``store.versions`` writes them) in batched transactions; each chapter changes on about one
week in eight. Lookups go through ``amendwatch.views.show_as_of`` (what the CLI runs), by URL
and by a unique title part, at random instants (some before the first observation).
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from amendwatch.api import Amendwatch
from amendwatch.config import Settings
from amendwatch.views import show_as_of
from scraper.models import Chapter, Section
from store.codec import dumps, pack_content
from store.db import open_db
from store.observations import GENESIS_HASH, observation_hash, store_body
from store.rows import to_db_time
from store.seals import seal_pending

T0 = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
WEEK = timedelta(days=7)
TARGET_MS = 20.0


def chapter_of(index: int, edition: int) -> Chapter:
    url = f"https://example.org/chapters/c{index}.html"
    sections = tuple(
        Section(str(n), f"Heading {n}", 1, (str(n),), f"Chapter {index} section {n} text {edition}")
        for n in range(1, 4)
    )
    return Chapter(url=url, title=f"Chapter {index:05d} procedures", sections=sections)


def build(path: Path, chapters: int, weeks: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    db = open_db(path)
    db.execute("PRAGMA synchronous = OFF")  # a throwaway build: no fsync per batch
    db.execute(
        "INSERT INTO manuals (id, name, contents_url, created_at) VALUES (1, 'big', ?, ?)",
        ("https://example.org/", to_db_time(T0)),
    )
    db.conn.executemany(
        "INSERT INTO chapters (id, manual_id, url, title, number, first_seen, last_listed)"
        " VALUES (?, 1, ?, ?, ?, ?, ?)",
        [
            (
                i + 1,
                chapter_of(i, 0).url,
                chapter_of(i, 0).title,
                f"{i // 100}.{i % 100}",
                to_db_time(T0),
                to_db_time(T0 + WEEK * (weeks - 1)),
            )
            for i in range(chapters)
        ],
    )
    db.conn.commit()
    edition = [0] * chapters
    current: list[int | None] = [None] * chapters
    state = {"obs": 0, "version": 0, "hash": GENESIS_HASH}
    for week in range(weeks):
        at = T0 + WEEK * week
        with db.conn:
            _week(db, rng, week, at, edition, current, state)
        seal_pending(db, now=at)  # each week's writes sealed, as a run seals them
    db.conn.execute("ANALYZE")
    db.close()


def _week(
    db: Any,
    rng: random.Random,
    week: int,
    at: datetime,
    edition: list[int],
    current: list[int | None],
    state: dict[str, Any],
) -> None:
    stamp = to_db_time(at)
    observations, versions, sections, seen = [], [], [], []
    for index in range(len(edition)):
        changed = current[index] is None or rng.random() < 1 / 8
        if changed and current[index] is not None:
            edition[index] += 1
        chapter = chapter_of(index, edition[index])
        body = f"<html><h1>{chapter.title}</h1>{edition[index]}</html>".encode()
        state["obs"] += 1
        row = {
            "id": state["obs"],
            "run_id": None,
            "manual_id": 1,
            "chapter_id": index + 1,
            "role": "chapter",
            "url": chapter.url,
            "final_url": chapter.url,
            "status": 200,
            "headers": "[]",
            "body_sha256": store_body(db, body, base=None),
            "observed_at": stamp,
            "outcome": "new-version" if changed else "unchanged",
            "reason": "",
            "etag": None,
            "last_modified": None,
            "imported": 0,
            "prev_hash": state["hash"],
        }
        row["hash"] = state["hash"] = observation_hash(row)
        observations.append(tuple(row.values()))
        if not changed:
            seen.append((stamp, current[index]))
            continue
        state["version"] += 1
        vid = state["version"]
        if current[index] is not None:
            db.execute("UPDATE versions SET valid_to = ? WHERE id = ?", (stamp, current[index]))
        current[index] = vid
        versions.append(
            (
                vid,
                index + 1,
                chapter.content_hash,
                chapter.title,
                chapter.url,
                pack_content(chapter, body),  # the capture is the dictionary, as in the store
                row["body_sha256"],
                stamp,
                stamp,
                state["obs"],
            )
        )
        sections.extend(
            (vid, n, s.number, s.title, 1, dumps([s.number]), "", "[]", f"{index + 1}:{n}")
            for n, s in enumerate(chapter.sections)
        )
    columns = ", ".join(row)
    db.conn.executemany(
        f"INSERT INTO observations ({columns}) VALUES ({', '.join('?' for _ in row)})",
        observations,
    )
    db.conn.executemany(
        "INSERT INTO versions (id, chapter_id, content_hash, title, url, content, content_dict,"
        " valid_from, last_seen, observation_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        versions,
    )
    db.conn.executemany(
        "INSERT INTO sections (version_id, ordinal, number, title, level, path, text, links,"
        " lineage_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        sections,
    )
    db.conn.executemany("UPDATE versions SET last_seen = ? WHERE id = ?", seen)


def measure(path: Path, chapters: int, weeks: int, lookups: int, by_title: bool) -> list[float]:
    rng = random.Random(11)
    app = Amendwatch(open_db(path), Settings(db_path=path))
    span = (weeks + 2) * 7 * 24 * 3600
    times = []
    try:
        for _ in range(lookups):
            index = rng.randrange(chapters)
            chapter = chapter_of(index, 0)
            ref = f"Chapter {index:05d} procedures" if by_title else chapter.url
            at = T0 - timedelta(days=7) + timedelta(seconds=rng.randrange(span))
            start = time.perf_counter()
            text = show_as_of(app, ref, at, None, "text")
            times.append((time.perf_counter() - start) * 1000)
            assert chapter.title in text
    finally:
        app.close()
    return times


def report(label: str, times: list[float]) -> None:
    ordered = sorted(times)
    median = statistics.median(ordered)
    p95 = ordered[int(len(ordered) * 0.95) - 1]
    verdict = "OK" if median < TARGET_MS else "OVER TARGET"
    print(
        f"{label}: {len(times)} lookups, median {median:.2f} ms, p95 {p95:.2f} ms,"
        f" max {ordered[-1]:.2f} ms (target median < {TARGET_MS:.0f} ms: {verdict})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chapters", type=int, default=10_000)
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--lookups", type=int, default=500)
    parser.add_argument("--db", type=Path, help="Database file (default: a temporary one).")
    parser.add_argument("--reuse", action="store_true", help="Measure --db without rebuilding.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = args.db or Path(folder) / "bench.db"
        if not args.reuse:
            if path.exists():
                path.unlink()
            start = time.perf_counter()
            build(path, args.chapters, args.weeks)
            print(
                f"built {args.chapters} chapters x {args.weeks} weeks in "
                f"{time.perf_counter() - start:.1f} s ({path.stat().st_size / 1e6:.0f} MB)"
            )
        report("show --as-of by URL", measure(path, args.chapters, args.weeks, args.lookups, False))
        report(
            "show --as-of by title",
            measure(path, args.chapters, args.weeks, args.lookups // 5, True),
        )


if __name__ == "__main__":
    main()
