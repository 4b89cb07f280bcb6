"""Run amendwatch's real snapshot once in this process and print its figures as JSON.

    .venv/bin/python bench/snap.py --db DB --url CONTENTS_URL [--per-host 8] [--batch 64]

The manual "bench" is added on first use. The diff of every changed chapter is timed by
wrapping ``differ.chapter.diff_chapters`` where the pipeline calls it (nothing else changes).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from amendwatch import chapters
from amendwatch.api import Amendwatch, RunReport
from amendwatch.config import Settings
from amendwatch.errors import NotFoundError
from store import manuals

DIFF_TIMES: list[float] = []


def _timed_diff(original: Any) -> Any:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            DIFF_TIMES.append(time.perf_counter() - start)

    return wrapper


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--url", required=True)
    parser.add_argument("--per-host", type=int, default=None)
    parser.add_argument("--batch", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=1, help="runs in this one process")
    args = parser.parse_args()
    settings = Settings(db_path=args.db)
    if args.per_host is not None:
        fetch = replace(settings.fetch, per_host=args.per_host, total=max(8, args.per_host))
        settings = replace(settings, fetch=fetch)
    if args.batch is not None:
        settings = replace(settings, batch_size=args.batch)
    chapters.diff_chapters = _timed_diff(chapters.diff_chapters)  # type: ignore[assignment]
    app = Amendwatch.open(settings)
    try:
        try:
            manuals.get_manual(app.db, "bench")
        except NotFoundError:
            app.add_manual("bench", args.url)
        for _ in range(args.repeat):
            DIFF_TIMES.clear()
            start = time.perf_counter()
            report = app.snapshot(["bench"])
            print(json.dumps(figures(report, time.perf_counter() - start)), flush=True)
    finally:
        app.close()


def figures(report: RunReport, elapsed: float) -> dict[str, Any]:
    (result,) = report.results
    counts: dict[str, int] = {}
    for outcome in result.outcomes:
        counts[outcome.outcome] = counts.get(outcome.outcome, 0) + 1
    return {
        "elapsed": elapsed,
        "chapters": len(result.outcomes),
        "counts": counts,
        "errors": list(report.errors),
        "diff_times": list(DIFF_TIMES),
        "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "children_maxrss_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    }


if __name__ == "__main__":
    main()
