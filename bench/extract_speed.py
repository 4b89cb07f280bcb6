"""Extraction speed on chapter pages: ms per page of ``scraper.extract.extract_chapter``.

    .venv/bin/python bench/extract_speed.py [SITE_DIR ...]

Reads every ``*.html`` below the given folders (for example a week of the quality harness's
site, kept with ``bench/quality.py --keep DIR``: ``DIR/site/week-03``) and the demo's chapters,
extracts each three times and prints the mean. Run it with ``PYTHONPATH`` set to another
checkout to compare two versions of the extractor on the same pages.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from scraper.extract import extract_chapter

DEMO = Path(__file__).resolve().parents[1] / "amendwatch/demo/site/edition-1/chapters"
ROUNDS = 3


def main(folders: list[str]) -> None:
    files = [p for folder in folders for p in sorted(Path(folder).rglob("*.html"))]
    files += sorted(DEMO.glob("*.html"))
    pages = [p.read_text("utf-8", errors="replace") for p in files]
    start = time.perf_counter()
    for _ in range(ROUNDS):
        for html in pages:
            extract_chapter(html, "https://manual.example.org/chapters/a.html")
    seconds = time.perf_counter() - start
    size = sum(map(len, pages)) / len(pages) / 1000
    each = 1000 * seconds / (ROUNDS * len(pages))
    print(f"{len(pages)} pages ({size:.0f} KB mean): {each:.1f} ms/page")


if __name__ == "__main__":
    main(sys.argv[1:])
