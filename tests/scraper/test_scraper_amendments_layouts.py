"""Golden tests: one Amendments page truth in many markups, and the parser's figures.

The layouts are rendered by bench/amendments_layouts.py from the hand-written corpus
(data/amendments_layouts/corpus.json, in the seeds' house style) and, when ../shared/seeds is
present, from each seed's entries at run time. bench/amendments_quality.py prints the figures.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from click.testing import CliRunner

from scraper.amendments import archive_links, parse_amendments, parse_amendments_text
from scraper.amendments_text import label_of, month_of
from scraper.models import PublishedEntry

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import amendments_layouts as layouts
from amendments_quality import TARGETS, measure

from amendwatch.cli import cli

CORPUS = layouts.corpus(Path(__file__).parent / "data" / "amendments_layouts" / "corpus.json")
SEEDS = Path("/work/shared/seeds")
LAYOUTS = sorted(layouts.HTML_LAYOUTS)

# (month, category, label as the variant-0 page writes it, title, details prefix, sections)
GOLDEN = [
    ("2025-10", "updated", "Updated Chapters", "Pre-birth Assessments",
     "This chapter has been updated to note that a pre-birth conference must be held",
     ("Section 8, Pre-birth Conferences",)),
    ("2025-10", "updated", "Updated Chapters", "Children Missing from Education",
     "A note has been added into Section 3,", ("Section 3, Children at Risk of Exploitation",)),
    ("2025-10", "updated", "Updated Chapters", "Multi Agency Risk Assessment Conference (MARAC)",
     "This chapter has been amended by updating Appendix 2",
     ("Appendix 2, Referral Criteria and Contacts",)),
    ("2025-10", "updated", "Updated Chapters", "Key Safeguards for Looked After Children",
     "Effective practice must be child centred.",
     ("Section 2.1, Independent Advocacy", "Section 4, Visits")),
    ("2025-10", "new", "New Chapters and Features", "Harmful Practices Linked to Faith or Belief",
     "This chapter sets out how practitioners", ()),
    ("2025-04", "updated", "Chapters under Review", "Neglect Strategy",
     "This chapter is being reviewed", ()),
    ("2025-04", "removed", "Removed Chapters", "Bullying Policy (Local)",
     "This chapter has been removed as it duplicated Bullying", ("Section 1, Definition",)),
    ("2024-11", "updated", "Updated Chapters", "Allegations against Staff, Carers and Volunteers",
     "This chapter has been amended to highlight",
     ("Section 6, Resignations and Settlement Agreements", "Section 9, Records")),
    ("2024-11", "updated", "Updated Chapters",
     "Safeguarding Children and Young People who may have been Trafficked",
     "Section 8, International and UK Legislation has been updated",
     ("Section 8, International and UK Legislation",)),
]  # fmt: skip


def _check_golden(entries: tuple[PublishedEntry, ...]) -> None:
    got = [(e.month, e.category, e.label, e.chapter, e.sections) for e in entries]
    assert got == [(m, c, label, t, s) for m, c, label, t, _, s in GOLDEN]
    for entry, golden in zip(entries, GOLDEN, strict=True):
        assert entry.details.startswith(golden[4]), entry.chapter
    marac = entries[2]
    assert marac.details.split("\n")[1:] == [
        "Links have been added to:",
        "• SafeLives, MARAC Guidance for Practitioners;",
        "• Home Office, Domestic Abuse Statutory Guidance.",
    ]


@pytest.mark.parametrize("layout", LAYOUTS)
def test_every_layout_gives_the_golden_entries(layout: str) -> None:
    _check_golden(parse_amendments(layouts.HTML_LAYOUTS[layout](CORPUS, 0)))


def test_the_text_rendering_gives_the_golden_entries() -> None:
    _check_golden(parse_amendments_text(layouts.text(CORPUS, 0)))


@pytest.mark.parametrize("variant", [1, 2, 3])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_label_and_month_variants_keep_the_entries(layout: str, variant: int) -> None:
    entries = parse_amendments(layouts.HTML_LAYOUTS[layout](CORPUS, variant))
    want = layouts.expected(CORPUS, variant)
    assert [(e.month, e.category, e.label, e.chapter) for e in entries] == [
        (w.month, w.category, w.label, w.title) for w in want
    ]
    assert [e.sections for e in entries] == [w.sections for w in want]


@pytest.mark.skipif(not SEEDS.is_dir(), reason="the seeds folder is absent")
@pytest.mark.parametrize("layout", LAYOUTS)
def test_the_seeds_in_every_layout(layout: str) -> None:
    for path in sorted(SEEDS.glob("*.txt")):
        truth = layouts.from_entries(parse_amendments_text(path.read_text(encoding="utf-8")))
        entries = parse_amendments(layouts.HTML_LAYOUTS[layout](truth, 0))
        want = layouts.expected(truth, 0)
        got = [(e.month, e.category, e.chapter, e.details, e.sections) for e in entries]
        assert got == [(w.month, w.category, w.title, w.details, w.sections) for w in want]


def test_the_figures_meet_the_targets(capsys: pytest.CaptureFixture[str]) -> None:
    per_layout = measure()
    total = layouts.Score()
    for result in per_layout.values():
        total.add(result)
    figures = total.figures()
    with capsys.disabled():
        print("\namendments parser:", {k: round(v, 3) for k, v in figures.items()})
    assert {"table", "nested_lists", "cards", "accordions", "year_archives"} <= set(per_layout)
    for key, target in TARGETS.items():
        assert figures[key] >= target, key


@pytest.mark.parametrize(
    ("line", "month"),
    [("March 2022", "2022-03"), ("Amendments made in March 2022", "2022-03"),
     ("2022-03", "2022-03"), ("1 March 2022", "2022-03"), ("March 2022 Amendments", "2022-03"),
     ("Sept 2021:", "2021-09"), ("03/2022", "2022-03"), ("Updated Chapters", None),
     ("This chapter was updated in March 2022.", None), ("Next update: August 2022", None)],
)  # fmt: skip
def test_month_headings(line: str, month: str | None) -> None:
    assert month_of(line) == month


@pytest.mark.parametrize(
    ("line", "marked", "category"),
    [("Updated Chapters", False, "updated"), ("Amended chapters", False, "updated"),
     ("New Chapters and Features", False, "new"), ("New chapters", False, "new"),
     ("Chapters deleted", False, "removed"), ("Updated", False, "updated"), ("New", False, "new"),
     ("Removed Chapters:", False, "removed"), ("Chapters under Review", True, "updated"),
     ("Chapters under Review", False, None), ("LSCB Escalation Procedure", True, None),
     ("Serious Case Review Process Practice Guidance", True, None)],
)  # fmt: skip
def test_category_labels(line: str, marked: bool, category: str | None) -> None:
    label = label_of(line, marked=marked)
    assert (label.category if label else None) == category
    if label is not None:
        assert label.text == line.rstrip(":")


def test_an_unknown_label_is_kept_verbatim_in_the_json() -> None:
    html = (
        "<h2>May 2024</h2><h3>Chapters under Consultation</h3><h4><a href='x.html'>Neglect</a>"
        "</h4><p>This chapter is out for consultation (see Section 2, Scope).</p>"
    )
    (entry,) = parse_amendments(html)
    assert (entry.category, entry.label, entry.sections) == (
        "updated",
        "Chapters under Consultation",
        ("Section 2, Scope",),
    )


def test_a_contents_page_has_no_entries() -> None:
    html = (
        "<h2>February 2019</h2><h3>1. Policy Framework</h3><ul><li><a href='a.html'>1.1 Preface"
        "</a></li><li><a href='b.html'>1.2 Underlying Policy</a></li></ul><h3>13. Local</h3>"
        "<p><a href='c.html'>13.1 Private Fostering</a></p><p>(Children's Services Manual)</p>"
    )
    assert parse_amendments(html) == ()


def test_archive_links_are_found_and_absolute() -> None:
    site = layouts.archive_site(CORPUS, 0)
    assert archive_links(site["amendments.html"], "http://h/m/amendments.html") == (
        "http://h/m/amendments_2024.html",
    )


class _Site(BaseHTTPRequestHandler):
    pages: ClassVar[dict[str, str]] = {}

    def log_message(self, format: str, *args: object) -> None:
        return

    def do_GET(self) -> None:
        body = self.pages.get(self.path.lstrip("/"))
        status, data = (404, b"<h1>Not found</h1>") if body is None else (200, body.encode())
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@contextmanager
def _serving(pages: dict[str, str]) -> Iterator[str]:
    """``pages`` on a free 127.0.0.1 port while the block runs; yields the base URL."""
    _Site.pages = pages
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _cli(tmp_path: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--db", str(tmp_path / "aw.db"), "amendments", *args])
    return result.exit_code, result.output


def test_cli_follows_year_archives_on_request(tmp_path: Path) -> None:
    pages = {**layouts.archive_site(CORPUS, 0), "empty.html": "<h1>Amendments</h1>"}
    with _serving(pages) as base_url:
        url = f"{base_url}/amendments.html"
        code, only_page = _cli(tmp_path, url, "--format", "json")
        assert code == 0
        assert {e["month"][:4] for e in json.loads(only_page)} == {"2025"}
        code, followed = _cli(tmp_path, url, "--format", "json", "--follow-archives")
        assert code == 0
        entries = json.loads(followed)
        assert [e["chapter"] for e in entries] == [g[3] for g in GOLDEN]
        assert set(entries[0]) == {"month", "category", "chapter", "details", "sections",
                                   "links", "label"}  # fmt: skip
        code, empty = _cli(tmp_path, f"{base_url}/empty.html")
        assert code == 3
        assert empty.strip().count("\n") == 0 and "no amendment entries" in empty


def test_cli_names_an_archive_that_failed(tmp_path: Path) -> None:
    site = layouts.archive_site(CORPUS, 0)
    with _serving({"amendments.html": site["amendments.html"]}) as base_url:
        code, output = _cli(tmp_path, f"{base_url}/amendments.html", "--follow-archives")
    assert code == 3
    assert "archive not fetched:" in output and "amendments_2024.html" in output


BULLYING = "This chapter has been amended (see Section 1, Definition)."
CMS_VARIANTS = {
    "wordpress table, header in bold cells": (
        "<p>&nbsp;</p><h3><strong>March 2022</strong></h3><p><strong><span>Updated Chapters"
        "</span></strong></p><table><tr><td><strong>Chapter</strong></td><td><strong>Details"
        f"</strong></td></tr><tr><td><a href='b'>Bullying</a></td><td>{BULLYING}</td></tr></table>"
    ),
    "date column first": (
        "<table><tr><th>Date</th><th>Type</th><th>Chapter</th><th>Details</th></tr><tr><td>"
        f"12/03/2022</td><td>Updated</td><td>Bullying</td><td>{BULLYING}</td></tr></table>"
    ),
    "link then a dash": (
        "<h2>March 2022</h2><h3>Updated Chapters</h3><ul><li><a href='x'>Bullying</a> - "
        f"{BULLYING}</li></ul>"
    ),
    "heading with a back-to-top link": (
        "<h2>March 2022 <a href='#top'>Back to top</a></h2><h3>Updated Chapters</h3>"
        f"<h4>Bullying</h4><p>{BULLYING}</p>"
    ),
    "month and label in one heading": (
        f"<h2>March 2022 – Updated Chapters</h2><h4>Bullying</h4><p>{BULLYING}</p>"
    ),
    "bootstrap accordion with a grid": (
        "<div class='accordion-item'><h2 class='accordion-header'><button class='accordion-"
        "button'>March 2022</button></h2><div class='accordion-body'><p><strong>Updated "
        "Chapters</strong></p><div class='row'><div class='col-4'><a href='x'>Bullying</a>"
        f"</div><div class='col-8'>{BULLYING}</div></div></div></div>"
    ),
    "spans in divs": (
        "<div><span class='date'>March 2022</span></div><div><span>Updated Chapters</span>"
        "</div><div class='item'><span class='item-title'><a href='x'>Bullying</a></span>"
        f"<span class='item-text'>{BULLYING}</span></div>"
    ),
    "bold title with a colon": (
        "<p><strong>March 2022</strong></p><p><strong>Updated Chapters</strong></p><p><strong>"
        f"Bullying:</strong> {BULLYING}</p>"
    ),
    "no category label, titles as links": (
        f"<h2>March 2022</h2><p><a href='x'>Bullying</a></p><p>{BULLYING}</p>"
    ),
}


@pytest.mark.parametrize("name", sorted(CMS_VARIANTS))
def test_other_cms_markups(name: str) -> None:
    (entry,) = parse_amendments(CMS_VARIANTS[name])
    assert (entry.month, entry.category, entry.chapter) == ("2022-03", "updated", "Bullying")
    assert entry.details == BULLYING
    assert entry.sections == ("Section 1, Definition",)
