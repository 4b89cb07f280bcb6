"""Benchmark of the differ (a script that prints figures, not a test).

    .venv/bin/python bench/bench_differ.py [--pairs 300] [--seed 1]

1. diff time for a ~600 KB chapter with one changed sentence (target < 20 ms);
2. p50/p95 over many generated chapter pairs with assorted edits (target p95 < 20 ms);
3. the number of degenerate word diffs (whole delete + whole insert of similar texts): must be 0.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from vocab import WORDS

from differ.chapter import diff_chapters
from differ.models import ChapterDiff
from differ.textdiff import is_degenerate
from scraper.models import Chapter, Link, Section

VOCAB = WORDS


def sentence(rng: random.Random) -> str:
    words = [rng.choice(VOCAB) for _ in range(rng.randint(8, 24))]
    if rng.random() < 0.3:
        words.insert(rng.randrange(len(words)), str(rng.randint(1, 30)))
    return " ".join(words).capitalize() + "."


def paragraph(rng: random.Random, sentences: int) -> str:
    return " ".join(sentence(rng) for _ in range(sentences))


def make_chapter(rng: random.Random, sections: int, sentences: int, url: str) -> Chapter:
    built = []
    for i in range(sections):
        number = str(i + 1)
        links = tuple(
            Link(f"Guide {rng.randint(1, 99)}", f"https://example.org/{rng.randint(1, 999)}")
            for _ in range(rng.randint(0, 2))
        )
        text = "\n".join(paragraph(rng, sentences) for _ in range(3))
        built.append(Section(number, f"Heading {i} {rng.choice(VOCAB)}", 1, (number,), text, links))
    return Chapter(url, "Generated Chapter", tuple(built))


def renumbered(sections: list[Section]) -> tuple[Section, ...]:
    return tuple(
        Section(str(i + 1), s.title, s.level, (str(i + 1),), s.text, s.links)
        for i, s in enumerate(sections)
    )


def change_sentence(rng: random.Random, section: Section) -> Section:
    sentences = section.text.split(". ")
    index = rng.randrange(len(sentences))
    sentences[index] = sentence(rng).rstrip(".")
    return Section(
        section.number,
        section.title,
        section.level,
        section.path,
        ". ".join(sentences),
        section.links,
    )


def mutate(rng: random.Random, chapter: Chapter) -> Chapter:
    sections = list(chapter.sections)
    for _ in range(rng.randint(1, 4)):
        action = rng.choice(["edit", "edit", "edit", "insert", "delete", "rename", "move"])
        index = rng.randrange(len(sections))
        s = sections[index]
        if action == "edit":
            sections[index] = change_sentence(rng, s)
        elif action == "insert":
            sections.insert(index, Section("0", "Inserted", 1, ("0",), paragraph(rng, 4)))
        elif action == "delete" and len(sections) > 2:
            del sections[index]
        elif action == "rename":
            sections[index] = Section(s.number, s.title + " (revised)", 1, s.path, s.text, s.links)
        elif action == "move":
            sections.insert(rng.randrange(len(sections)), sections.pop(index))
    return Chapter(chapter.url, chapter.title, renumbered(sections))


def degenerate_count(diff: ChapterDiff) -> int:
    count = 0
    for change in diff.sections:
        if change.old is not None and change.new is not None and change.edits:
            count += is_degenerate(change.edits, change.old.text, change.new.text)
    return count


def timed(old: Chapter, new: Chapter) -> tuple[float, ChapterDiff]:
    start = time.perf_counter()
    diff = diff_chapters(old, new, old_version=1, new_version=2)
    return (time.perf_counter() - start) * 1000, diff


def bench_big(rng: random.Random) -> int:
    old = make_chapter(rng, 80, 22, "https://example.org/big")
    size = len(old.text.encode("utf-8"))
    sections = list(old.sections)
    sections[40] = change_sentence(rng, sections[40])
    new = Chapter(old.url, old.title, tuple(sections))
    runs = [timed(old, new) for _ in range(7)]
    times = sorted(ms for ms, _ in runs)
    diff = runs[0][1]
    print(f"big chapter: {size / 1024:.0f} KB, {len(old.sections)} sections, one sentence changed")
    print(f"  diff time: median {statistics.median(times):.1f} ms, best {times[0]:.1f} ms")
    print(f"  sections reported: {len(diff.sections)} ({sorted(diff.sections[0].kinds)})")
    return degenerate_count(diff)


def bench_many(rng: random.Random, pairs: int) -> int:
    times: list[float] = []
    sizes: list[int] = []
    degenerate = 0
    for i in range(pairs):
        old = make_chapter(rng, rng.randint(5, 70), rng.randint(1, 4), f"https://e.org/{i}")
        new = mutate(rng, old)
        ms, diff = timed(old, new)
        times.append(ms)
        sizes.append(len(old.text))
        degenerate += degenerate_count(diff)
    times.sort()
    p50 = times[len(times) // 2]
    p95 = times[int(len(times) * 0.95) - 1]
    print(f"{pairs} generated pairs: {min(sizes) // 1024}-{max(sizes) // 1024} KB, 5-70 sections")
    print(f"  p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {times[-1]:.1f} ms")
    return degenerate


def bench_shuffled(rng: random.Random) -> None:
    """Worst case for alignment: every section renamed and the order reversed."""
    for sentences in (3, 22):
        old = make_chapter(rng, 80, sentences, "https://example.org/shuffled")
        new = Chapter(
            old.url,
            old.title,
            renumbered(
                [
                    Section(s.number, "Renamed " + s.title, 1, s.path, s.text, s.links)
                    for s in reversed(old.sections)
                ]
            ),
        )
        times = sorted(timed(old, new)[0] for _ in range(3))
        size = len(old.text.encode("utf-8")) // 1024
        print(f"80 sections ({size} KB), all renamed and reversed: {times[1]:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    degenerate = bench_big(rng) + bench_many(rng, args.pairs)
    bench_shuffled(rng)
    print(f"degenerate word diffs: {degenerate}")


if __name__ == "__main__":
    main()
