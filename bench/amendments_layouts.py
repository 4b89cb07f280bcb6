"""Amendments pages in many markups, rendered from one truth, and the parser's figures.

Truth is a list of :class:`Month` (each with category groups of entries); it comes from the
hand-written corpus (tests/scraper/data/amendments_layouts/corpus.json) and, when
../shared/seeds is present, from the seeds' text (the text parser's entries, which the seed
tests check by hand). Every renderer writes the same truth in another markup a CMS might
produce, varying how months ("March 2022", "Amendments made in March 2022", "2022-03",
"1 March 2022") and categories ("Updated Chapters", "Amended chapters", "Updated") are written.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path

from scraper.models import PublishedEntry

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")  # fmt: skip
VARIANTS = {
    "updated": ("Updated Chapters", "Amended chapters", "Updated", "Chapters updated"),
    "new": ("New Chapters and Features", "New chapters", "New", "Chapters added"),
    "removed": ("Removed Chapters", "Chapters deleted", "Removed", "Withdrawn chapters"),
}
KNOWN = {v for values in VARIANTS.values() for v in values} | {"Updated Chapters and Features"}


@dataclass(frozen=True)
class Entry:
    title: str
    paras: tuple[str, ...]
    sections: tuple[str, ...]


@dataclass(frozen=True)
class Group:
    label: str
    category: str
    entries: tuple[Entry, ...]


@dataclass(frozen=True)
class Month:
    month: str  # "2022-03"
    groups: tuple[Group, ...]


@dataclass(frozen=True)
class Expected:
    month: str
    category: str
    label: str
    title: str
    details: str
    sections: tuple[str, ...]


# --- truth ---------------------------------------------------------------------------


def corpus(path: Path) -> list[Month]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return [
        Month(m["month"], tuple(
            Group(g["label"], g["category"], tuple(
                Entry(e["title"], tuple(e["paras"]), tuple(e["sections"])) for e in g["entries"]
            )) for g in m["groups"]
        )) for m in data["months"]
    ]  # fmt: skip


def from_entries(entries: Sequence[PublishedEntry]) -> list[Month]:
    """Truth from parsed entries (the seeds' text, checked by hand in the seed tests)."""
    months: list[Month] = []
    for entry in entries:
        item = Entry(entry.chapter, tuple(entry.details.split("\n")), entry.sections)
        if not months or months[-1].month != entry.month:
            months.append(Month(entry.month, ()))
        groups = months[-1].groups
        if groups and groups[-1].label == entry.label:
            last = groups[-1]
            groups = (*groups[:-1], Group(last.label, last.category, (*last.entries, item)))
        else:
            groups = (*groups, Group(entry.label, entry.category, (item,)))
        months[-1] = Month(entry.month, groups)
    return months


def _label(group: Group, variant: int) -> str:
    if group.label not in KNOWN:
        return group.label  # an unknown label is written (and expected) verbatim
    return VARIANTS[group.category][variant % len(VARIANTS[group.category])]


def expected(months: Sequence[Month], variant: int) -> list[Expected]:
    return [
        Expected(m.month, g.category, _label(g, variant), e.title, "\n".join(e.paras), e.sections)
        for m in months for g in m.groups for e in g.entries
    ]  # fmt: skip


def month_name(iso: str, style: int = 0) -> str:
    year, month = iso.split("-")
    name = f"{_MONTHS[int(month) - 1]} {year}"
    return (name, f"Amendments made in {name}", iso, f"1 {name}")[style % 4]


# --- renderers: (months, variant) -> HTML -----------------------------------------------


def _link(title: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", title.lower()).strip("_")
    return f'<a href="chapters/{slug}.html">{escape(title)}</a>'


def _ps(paras: Sequence[str]) -> str:
    return "".join(f"<p>{escape(p)}</p>" for p in paras)


def _page(body: str) -> str:
    return (
        '<!doctype html><html><head><meta charset="utf-8"><title>Amendments</title></head>'
        '<body><header><nav><a href="/">Home</a> <a href="/contents.html">Contents</a></nav>'
        f"</header><main><h1>Amendments</h1>{body}<p>Next update: March 2026</p></main>"
        "<footer><p>Copyright</p></footer></body></html>"
    )


def table(months: Sequence[Month], v: int) -> str:
    out = []
    for m in months:
        out.append(f"<h2>{month_name(m.month)}</h2><table><caption>{month_name(m.month)}</caption>")
        for g in m.groups:
            out.append(f'<tr><th colspan="2">{escape(_label(g, v))}</th></tr>')
            out.append("<tr><th>Chapter Name</th><th>Details</th></tr>")
            out += [f"<tr><td>{_link(e.title)}</td><td>{_ps(e.paras)}</td></tr>" for e in g.entries]
        out.append("</table>")
    return _page("".join(out))


def flat_table(months: Sequence[Month], v: int) -> str:
    rows = [
        f"<tr><td>{month_name(m.month, 3)}</td><td>{escape(_label(g, v))}</td>"
        f"<td>{_link(e.title)}</td><td>{_ps(e.paras)}</td></tr>"
        for m in months for g in m.groups for e in g.entries
    ]  # fmt: skip
    head = "<thead><tr><th>Date</th><th>Type</th><th>Chapter</th><th>Summary of changes</th></tr>"
    return _page(f"<table>{head}</thead><tbody>{''.join(rows)}</tbody></table>")


def nested_lists(months: Sequence[Month], v: int) -> str:
    def entry(e: Entry) -> str:
        items = "".join(f"<li>{escape(p)}</li>" for p in e.paras)
        return f"<li>{_link(e.title)}<ul>{items}</ul></li>"

    def group(g: Group) -> str:
        return f"<li>{escape(_label(g, v))}<ul>{''.join(entry(e) for e in g.entries)}</ul></li>"

    out = [
        f"<li><strong>{month_name(m.month, 1)}</strong><ul>{''.join(map(group, m.groups))}</ul>"
        "</li>"
        for m in months
    ]
    return _page(f"<ul class='amendments'>{''.join(out)}</ul>")


def headings(months: Sequence[Month], v: int) -> str:
    out = []
    for m in months:
        out.append(f"<h2>{month_name(m.month)}</h2>")
        for g in m.groups:
            out.append(f"<h3>{escape(_label(g, v))}</h3>")
            out += [f"<h4>{_link(e.title)}</h4>{_ps(e.paras)}" for e in g.entries]
    return _page("".join(out))


def cards(months: Sequence[Month], v: int) -> str:
    out = []
    for m in months:
        out.append(f'<div class="month"><div class="month__heading">{month_name(m.month, 2)}</div>')
        for g in m.groups:
            out.append(f'<div class="group"><div class="group__title">{escape(_label(g, v))}</div>')
            out += [
                f'<div class="card"><div class="card-header">{_link(e.title)}</div>'
                f'<div class="card-body">{_ps(e.paras)}</div></div>'
                for e in g.entries
            ]
            out.append("</div>")
        out.append("</div>")
    return _page(f'<div class="container"><div class="row">{"".join(out)}</div></div>')


def accordions(months: Sequence[Month], v: int) -> str:
    out = []
    for m in months:
        out.append(f"<details open><summary>{month_name(m.month, 3)}</summary>")
        for g in m.groups:
            out.append(f"<h3>{escape(_label(g, v))}</h3>")
            out += [
                f"<details><summary>{escape(e.title)}</summary>{_ps(e.paras)}</details>"
                for e in g.entries
            ]
        out.append("</details>")
    return _page("".join(out))


def bold_paragraphs(months: Sequence[Month], v: int) -> str:
    out = []
    for m in months:
        out.append(f"<p><strong>{month_name(m.month)}</strong></p>")
        for g in m.groups:
            out.append(f"<p><b>{escape(_label(g, v))}</b></p>")
            for e in g.entries:
                out.append(f"<p><strong>{escape(e.title)}</strong> {escape(e.paras[0])}</p>")
                out.append(_ps(e.paras[1:]))
    return _page("".join(out))


def definition_list(months: Sequence[Month], v: int) -> str:
    out = []
    for m in months:
        out.append(f"<h2>{month_name(m.month, 1)}</h2>")
        for g in m.groups:
            items = "".join(
                f"<dt>{_link(e.title)}</dt>" + "".join(f"<dd>{escape(p)}</dd>" for p in e.paras)
                for e in g.entries
            )
            out.append(f"<p>{escape(_label(g, v))}</p><dl>{items}</dl>")
    return _page("".join(out))


def line_breaks(months: Sequence[Month], v: int) -> str:
    out = []
    for m in months:
        out.append(f"<div class='text'><b>{month_name(m.month)}</b><br><br>")
        for g in m.groups:
            out.append(f"<u>{escape(_label(g, v))}</u><br>")
            for e in g.entries:
                paras = "<br><br>".join(escape(p) for p in e.paras)
                out.append(f"<strong>{escape(e.title)}</strong><br>{paras}<br><br>")
        out.append("</div>")
    return _page("".join(out))


def text(months: Sequence[Month], v: int) -> str:
    """The seeds' own text rendering: title and first paragraph on one line."""
    out = ["View Working Together View Working Together", ""]
    for m in months:
        out += ["", month_name(m.month), ""]
        for g in m.groups:
            out += [_label(g, v), "Chapter Name Details"]
            for e in g.entries:
                out.append(f"{e.title} {e.paras[0]}")
                for para in e.paras[1:]:
                    out += ["", para]
    return "\n".join([*out, "", "Next update: March 2026", "", "2015 Amendments"])


def text_paragraphs(months: Sequence[Month], v: int) -> str:
    """The seeds' text rendering as HTML, one paragraph per line."""
    lines = text(months, v).split("\n")
    return _page("".join(f"<p>{escape(line)}</p>" for line in lines if line.strip()))


HTML_LAYOUTS: dict[str, Callable[[Sequence[Month], int], str]] = {
    "table": table,
    "flat_table": flat_table,
    "nested_lists": nested_lists,
    "headings": headings,
    "cards": cards,
    "accordions": accordions,
    "bold_paragraphs": bold_paragraphs,
    "definition_list": definition_list,
    "line_breaks": line_breaks,
    "text_paragraphs": text_paragraphs,
}


def archive_site(months: Sequence[Month], v: int) -> dict[str, str]:
    """A page split into year archives: the latest year on amendments.html, earlier years on
    amendments_YYYY.html linked as "YYYY Amendments" (in the headings layout)."""
    years = sorted({m.month[:4] for m in months}, reverse=True)
    pages: dict[str, str] = {}
    for year in years:
        own = [m for m in months if m.month.startswith(year)]
        name = "amendments.html" if year == years[0] else f"amendments_{year}.html"
        pages[name] = headings(own, v)
    links = "".join(f'<li><a href="amendments_{y}.html">{y} Amendments</a></li>' for y in years[1:])
    main = pages["amendments.html"]
    pages["amendments.html"] = main.replace("</main>", f"<h2>Archive</h2><ul>{links}</ul></main>")
    return pages


# --- figures ---------------------------------------------------------------------------


@dataclass
class Score:
    truth: int = 0
    found: int = 0
    matched: int = 0
    exact_titles: int = 0
    exact_sections: int = 0
    details_ok: int = 0

    def add(self, other: Score) -> None:
        for name in vars(self):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def figures(self) -> dict[str, float]:
        return {
            "recall": self.matched / self.truth if self.truth else 1.0,
            "precision": self.matched / self.found if self.found else 1.0,
            "exact_titles": self.exact_titles / self.truth if self.truth else 1.0,
            "sections": self.exact_sections / self.truth if self.truth else 1.0,
            "details": self.details_ok / self.truth if self.truth else 1.0,
        }


def score(truth: Sequence[Expected], got: Sequence[PublishedEntry]) -> Score:
    """Entries match on month, category and the start of the details (so a wrong title
    still counts as found); titles, labels and section references are then compared."""
    result = Score(truth=len(truth), found=len(got))
    left = list(got)
    for want in truth:
        key = (want.month, want.category, want.details[:40])
        hit = next((g for g in left if (g.month, g.category, g.details[:40]) == key), None)
        if hit is None:
            hit = next((g for g in left if (g.month, g.chapter) == (want.month, want.title)), None)
        if hit is None:
            continue
        left.remove(hit)
        result.matched += 1
        result.exact_titles += hit.chapter == want.title and hit.label == want.label
        result.exact_sections += hit.sections == want.sections
        result.details_ok += hit.details == want.details
    return result
