"""A synthetic procedures-manual site for the benchmarks (deterministic from a seed).

N chapters: about 60 % 30 KB, 30 % 150 KB and 10 % 600 KB pages, 10-60 numbered sections
each, with page furniture (menus, a sidebar, a footer). Weekly edit rounds touch a share of
the chapters: a sentence added, a link added, or a section inserted (later ones renumber).
Nothing is held for the whole site: a chapter's model is rebuilt from the seed and its
edits whenever it is rendered.
"""

from __future__ import annotations

import html
import random
from dataclasses import dataclass, field

from vocab import WORDS

SIZES = ((0.6, 30_000), (0.3, 150_000), (0.1, 600_000))
EDIT_KINDS = ("sentence", "link", "section")


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(10, 26))]
    if rng.random() < 0.3:
        words.insert(rng.randrange(len(words)), str(rng.randint(2, 30)))
    return " ".join(words).capitalize() + "."


@dataclass(frozen=True)
class Edit:
    round: int
    kind: str  # sentence | link | section
    section: int  # index of the section it touches (or the inserted section's index)
    seed: int


@dataclass
class SectionModel:
    title: str
    paragraphs: list[list[str]]
    links: list[tuple[str, str]] = field(default_factory=list)


class Site:
    """The site's model: which chapter has which size and which edits so far."""

    def __init__(self, chapters: int, seed: int = 1) -> None:
        self.chapters = chapters
        self.seed = seed
        self.round = 0
        self.edits: dict[int, list[Edit]] = {}
        pool_rng = random.Random(seed)
        self.pool = [_sentence(pool_rng) for _ in range(6000)]
        self.titles = [
            " ".join(pool_rng.choice(WORDS) for _ in range(pool_rng.randint(2, 5))).title()
            for _ in range(800)
        ]

    # the model ---------------------------------------------------------------------------
    def size_of(self, number: int) -> int:
        pick = random.Random(f"{self.seed}:size:{number}").random()
        total = 0.0
        for share, size in SIZES:
            total += share
            if pick < total:
                return size
        return SIZES[-1][1]

    def title_of(self, number: int) -> str:
        return f"{random.Random(f'{self.seed}:t:{number}').choice(self.titles)} {number:05d}"

    def base_sections(self, number: int) -> list[SectionModel]:
        rng = random.Random(f"{self.seed}:ch:{number}")
        count = rng.randint(10, 60)
        budget = max(2_000, self.size_of(number) - 13_000)  # furniture: about 9 KB
        per_section = budget // count
        sections = []
        for _ in range(count):
            paragraphs: list[list[str]] = []
            used = 0
            while not paragraphs or used + 350 < per_section:
                paragraph = [rng.choice(self.pool) for _ in range(rng.randint(3, 6))]
                used += sum(len(s) + 8 for s in paragraph) + 8
                paragraphs.append(paragraph)
            links = [
                (f"Guidance document {rng.randint(1, 999)}", f"/docs/doc-{rng.randint(1, 999)}")
                for _ in range(rng.randint(0, 2))
            ]
            sections.append(SectionModel(rng.choice(self.titles), paragraphs, links))
        return sections

    def sections_of(self, number: int) -> list[SectionModel]:
        sections = self.base_sections(number)
        for edit in self.edits.get(number, ()):
            apply_edit(sections, edit, self.pool, self.titles)
        return sections

    def version_of(self, number: int) -> int:
        return len(self.edits.get(number, ()))

    # edit rounds -------------------------------------------------------------------------
    def advance(self, rate: float = 0.02) -> list[tuple[int, Edit]]:
        """One edit round touching about ``rate`` of the chapters; returns what changed."""
        self.round += 1
        rng = random.Random(f"{self.seed}:round:{self.round}")
        touched = rng.sample(range(1, self.chapters + 1), max(1, round(self.chapters * rate)))
        done = []
        for number in sorted(touched):
            count = len(self.base_sections(number)) + sum(
                1 for e in self.edits.get(number, ()) if e.kind == "section"
            )
            edit = Edit(
                self.round, rng.choice(EDIT_KINDS), rng.randrange(count), rng.randrange(1 << 30)
            )
            self.edits.setdefault(number, []).append(edit)
            done.append((number, edit))
        return done

    # rendering ---------------------------------------------------------------------------
    def chapter_main(self, number: int) -> str:
        """The <main> element: the chapter content, the same on every request."""
        parts = [f'<main id="content"><h1>{html.escape(self.title_of(number))}</h1>']
        for index, section in enumerate(self.sections_of(number), start=1):
            parts.append(f"<h2>{index}. {html.escape(section.title)}</h2>")
            for paragraph in section.paragraphs:
                parts.append(f"<p>{' '.join(paragraph)}</p>")
            if section.links:
                items = "".join(
                    f'<li><a href="{url}">{html.escape(text)}</a></li>'
                    for text, url in section.links
                )
                parts.append(f"<ul>{items}</ul>")
        parts.append("</main>")
        return "".join(parts)

    def furniture(self) -> tuple[str, str]:
        """(before, after) the <main>: menus and a sidebar; the footer is added per request."""
        menu = "".join(
            f'<li><a href="/topics/topic-{i}.html">Topic {i} {self.titles[i]}</a></li>'
            for i in range(70)
        )
        side = "".join(
            f'<li><a href="/news/{i}.html">{self.pool[i][:60]}</a></li>' for i in range(25)
        )
        before = (
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            "<title>{title} | Benchmark Procedures Manual</title>"
            '<link rel="stylesheet" href="/site.css"><script>var site = "bench";</script></head>'
            '<body><a class="skip-link" href="#content">Skip to main content</a>'
            f'<header class="site-header"><nav class="menu"><ul>{menu}</ul></nav></header>'
            f'<div class="page"><aside class="sidebar"><h2>Latest news</h2><ul>{side}</ul></aside>'
        )
        return before, "</div>"

    def contents_html(self) -> str:
        items = "".join(
            f'<li><a href="ch/{n:05d}.html">{n}. {html.escape(self.title_of(n))}</a></li>'
            for n in range(1, self.chapters + 1)
        )
        return (
            "<!DOCTYPE html><html><head><title>Contents</title></head><body>"
            f"<main><h1>Benchmark Procedures Manual</h1><h2>1. Procedures</h2><ul>{items}</ul>"
            "</main></body></html>"
        )


def footer(stamp: str, token: str) -> str:
    return (
        f'<footer class="site-footer"><p>Page last updated {stamp}</p>'
        f"<p>Request {token}</p><p>Copyright Benchmark Partnership</p></footer></body></html>"
    )


def apply_edit(
    sections: list[SectionModel], edit: Edit, pool: list[str], titles: list[str]
) -> None:
    rng = random.Random(edit.seed)
    index = min(edit.section, len(sections) - 1)
    if edit.kind == "sentence":
        paragraph = sections[index].paragraphs[0]
        paragraph.insert(rng.randrange(len(paragraph) + 1), _sentence(rng))
    elif edit.kind == "link":
        number = rng.randint(1000, 9999)
        sections[index].links.append((f"New guidance {number}", f"/docs/new-{number}"))
    else:
        paragraphs = [[rng.choice(pool) for _ in range(4)] for _ in range(rng.randint(1, 4))]
        sections.insert(edit.section, SectionModel(rng.choice(titles), paragraphs))
