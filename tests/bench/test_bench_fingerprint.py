"""The fingerprint must never say "unchanged" when the extracted Chapter would differ:
fingerprint(a) == fingerprint(b) implies extract_chapter(a) == extract_chapter(b), checked on
the scraper fixtures, the demo manual and random mutations of both."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from amendwatch.errors import ExtractError
from scraper.analysis import AnalysisJob, analyse
from scraper.extract import extract_chapter
from scraper.fingerprint import fingerprint
from scraper.models import Chapter

ROOT = Path(__file__).resolve().parents[2]
URL = "http://127.0.0.1:1/chapters/x.html"
SHELL = (
    "<html><head><title>{title} | Demo</title><script>var t = {token};</script></head><body>"
    '<header class="site-header"><nav><a href="/">Home</a></nav></header>'
    '<main id="content">{body}</main>'
    "<footer><p>Page last updated {token}</p></footer></body></html>"
)
MUTATIONS = (
    "<p>An added paragraph.</p>",
    "<h2>9. A new heading</h2>",
    '<a href="/new">a new link</a>',
    "<main><p>A second main element with enough text to be chosen by the heuristic.</p></main>",
    "<h1>Another title</h1>",
    "<!-- a comment -->",
    "<script>var x = 1;</script>",
    "<div class='content'>Some content div text that is long enough to count.</div>",
    " extra words ",
    "<footer>Last updated today</footer>",
)


def pages() -> list[str]:
    found = [(ROOT / "tests/scraper/data/chapter_icpc.html").read_text(encoding="utf-8")]
    demo = sorted((ROOT / "amendwatch/demo/site").glob("edition-*/chapters/*.html"))
    for path in demo[:6]:
        found.append(SHELL.format(title=path.stem, token="1", body=path.read_text("utf-8")))
    return found


def extract(html: str) -> Chapter | str:
    try:
        return extract_chapter(html, URL)
    except ExtractError as exc:
        return str(exc)


def mutate(html: str, rng: random.Random) -> str:
    at = rng.randrange(len(html))
    at = html.rfind(">", 0, at) + 1  # between tags, so the markup stays plausible
    return html[:at] + rng.choice(MUTATIONS) + html[at:]


@pytest.mark.parametrize("index", range(7))
def test_same_fingerprint_means_same_chapter(index: int) -> None:
    original = pages()[index]
    rng = random.Random(index)
    base_print, base_chapter = fingerprint(original, URL), extract(original)
    assert base_print is not None
    same = 0
    for _ in range(12):
        variant = mutate(original, rng)
        if fingerprint(variant, URL) == base_print:
            same += 1
            assert extract(variant) == base_chapter, variant
        else:
            assert variant != original
    assert same < 12  # the mutations do reach the content


def test_furniture_only_changes_keep_the_fingerprint() -> None:
    body = (ROOT / "tests/scraper/data/chapter_icpc.html").read_text(encoding="utf-8")
    one = SHELL.format(title="T", token="1", body=body)
    two = SHELL.format(title="T", token="2", body=body)
    assert one != two
    assert fingerprint(one, URL) == fingerprint(two, URL)
    assert extract(one) == extract(two)


def test_url_selector_and_empty_pages() -> None:
    page = pages()[1]
    assert fingerprint(page, URL) != fingerprint(page, URL + "?v=2")
    assert fingerprint(page, URL, selector="main") is None
    assert fingerprint("   ", URL) is None


def test_analyse_skips_extraction_only_when_the_fingerprint_matches() -> None:
    body = (ROOT / "tests/scraper/data/chapter_icpc.html").read_text(encoding="utf-8")
    old = SHELL.format(title="T", token="1", body=body)
    new = SHELL.format(title="T", token="2", body=body + "<p>One more paragraph.</p>")
    again = SHELL.format(title="T", token="3", body=body)
    same = analyse(AnalysisJob(again, URL, old_html=old, old_url=URL))
    assert same.same and same.chapter is None
    assert same.fingerprint == same.old_fingerprint
    moved = analyse(AnalysisJob(new, URL, old_html=old, old_url=URL))
    assert not moved.same and moved.chapter == extract_chapter(new, URL)
