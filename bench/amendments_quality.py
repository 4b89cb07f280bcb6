"""The Amendments parser's figures over every layout: .venv/bin/python bench/amendments_quality.py

Renders the hand-written corpus (tests/scraper/data/amendments_layouts/corpus.json) and, when
../shared/seeds is present, each seed's entries into every layout of bench/amendments_layouts
(four label variants each), parses them, and prints entry recall and precision, exact titles
(with the category label as written), exact section references and exact details, per layout
and overall. Exit status 1 when a target is missed (entries >= 0.98 recall and precision,
exact titles >= 0.95, section references >= 0.9).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from amendments_layouts import (
    HTML_LAYOUTS,
    Month,
    Score,
    archive_site,
    corpus,
    expected,
    from_entries,
    score,
    text,
)

from scraper.amendments import parse_amendments, parse_amendments_text, parse_with_archives
from scraper.models import PublishedEntry

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests/scraper/data/amendments_layouts/corpus.json"
SEEDS = ROOT.parent / "shared" / "seeds"
TARGETS = {"recall": 0.98, "precision": 0.98, "exact_titles": 0.95, "sections": 0.9}
VARIANTS = 4


def truths() -> dict[str, list[Month]]:
    found = {"corpus": corpus(CORPUS)}
    for path in sorted(SEEDS.glob("*.txt")) if SEEDS.is_dir() else []:
        months = from_entries(parse_amendments_text(path.read_text(encoding="utf-8")))
        if months:
            found[f"seed {path.name[:3]}"] = months
    return found


def parse_layout(name: str, months: list[Month], variant: int) -> tuple[PublishedEntry, ...]:
    if name == "text":
        return parse_amendments_text(text(months, variant))
    if name == "year_archives":
        site = archive_site(months, variant)
        base = "http://127.0.0.1/amendments.html"
        return parse_with_archives(
            site["amendments.html"], base, lambda url: site.get(url.rsplit("/", 1)[-1])
        )
    return parse_amendments(HTML_LAYOUTS[name](months, variant))


def measure() -> dict[str, Score]:
    per_layout: dict[str, Score] = {}
    names = [*HTML_LAYOUTS, "text", "year_archives"]
    for months in truths().values():
        for variant in range(VARIANTS):
            for name in names:
                got = parse_layout(name, months, variant)
                per_layout.setdefault(name, Score()).add(score(expected(months, variant), got))
    return per_layout


def main() -> int:
    per_layout = measure()
    total = Score()
    print(f"{'layout':<18} entries recall  precision  exact titles  sections  details")
    for name, result in per_layout.items():
        total.add(result)
        f = result.figures()
        print(
            f"{name:<18} {result.truth:>7} {f['recall']:>6.3f} {f['precision']:>10.3f}"
            f" {f['exact_titles']:>13.3f} {f['sections']:>9.3f} {f['details']:>8.3f}"
        )
    figures = total.figures()
    print("overall: " + "  ".join(f"{k} {v:.3f}" for k, v in figures.items()))
    missed = [k for k, target in TARGETS.items() if figures[k] < target]
    for key in missed:
        print(f"TARGET MISSED: {key} {figures[key]:.3f} < {TARGETS[key]}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
