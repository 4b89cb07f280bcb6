"""The quick check must never say "same" when the fingerprint would differ: same_content(old,
new, guard_of(old)) implies fingerprint(old) == fingerprint(new), on the scraper fixture, demo
chapters in a dynamic page shell, and random character-level edits anywhere in them."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scraper.analysis import AnalysisJob, analyse
from scraper.fingerprint import fingerprint, parse_pruned
from scraper.quickcheck import Guard, guard_of, same_content, whole_guard

ROOT = Path(__file__).resolve().parents[2]
URL = "http://127.0.0.1:1/chapters/x.html"
SHELL = (
    '<!DOCTYPE html>\n<html lang="en">\n<head>\n<title>{title} | Demo</title>\n'
    '<link rel="stylesheet" href="/site.css?v={token}">\n'
    "<script>var token = '{token}';</script>\n</head>\n<body>\n"
    '<header class="site-header"><nav><a href="/">Home</a></nav>'
    '<form><input type="hidden" name="form_token" value="{token}">'
    "<input type=hidden name=nonce value={token}></form></header>\n"
    '<div class="page"><aside class="sidebar"><p>Seen {token} times</p></aside>\n'
    '<main id="content">{body}</main></div>\n'
    "<footer><p>Page last updated {stamp}</p><p>Request {token}</p></footer>\n</body></html>"
)
ALPHABET = "abcXYZ019 .:/-!=<>&\"'`\n"


def shell(body: str, token: str = "a1b2c3", stamp: str = "23/11/2026 15:52:01") -> str:
    return SHELL.format(title="Strategy Meetings", token=token, stamp=stamp, body=body)


def demo_bodies() -> list[str]:
    paths = sorted((ROOT / "amendwatch/demo/site").glob("edition-*/chapters/*.html"))
    return [path.read_text("utf-8") for path in paths[:5]]


def guard(page: str) -> Guard:
    root = parse_pruned(page)
    assert root is not None
    found = guard_of(page, root)
    assert found is not None, "a page with a <main> has a guard"
    return found


def test_the_dynamic_footer_token_and_asset_version_are_not_a_change() -> None:
    body = demo_bodies()[0]
    old, new = shell(body), shell(body, token="zz9y8x7", stamp="24/11/2026 02:00:17")
    assert same_content(old, new, guard(old))
    assert fingerprint(old, URL) == fingerprint(new, URL)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("Strategy Meetings |", "Strategy Meeting |"),  # the <title>
        ('<main id="content">', '<main id="contents">'),  # an attribute outside never-content
        ('class="sidebar"', 'class="content"'),  # could make the aside a body candidate
        ("<p>Seen", "<p>Seen <b>x</b>"),  # markup added outside the chapter
        ("Page last updated", "Page &amp; last updated"),  # an entity
        ("</footer>", "</footer><main>x</main>"),
        ("value=a1b2c3>", "value=a1b2c3 id=content>"),  # a new attribute, unquoted
        ("<footer>", "<footer id=x>"),
    ],
)
def test_changes_that_may_matter_are_not_quick(before: str, after: str) -> None:
    old = shell(demo_bodies()[1])
    assert before in old
    assert not same_content(old, old.replace(before, after, 1), guard(old))


def test_a_change_inside_the_chapter_is_never_quick() -> None:
    old = shell(demo_bodies()[2])
    start = old.index("<main")
    at = old.index("</p>", start)
    new = old[:at] + " and one more clause" + old[at:]
    assert not same_content(old, new, guard(old))


def test_a_guard_from_other_rules_is_not_used() -> None:
    old = shell(demo_bodies()[0])
    stale = Guard("older rules", guard(old).extents)
    assert not same_content(old, shell(demo_bodies()[0], token="q"), stale)
    assert Guard.from_json(guard(old).to_json()) == guard(old)


def test_no_guard_when_the_whole_document_is_fingerprinted() -> None:
    page = "<html><body><div><p>Short.</p></div></body></html>"
    root = parse_pruned(page)
    assert root is not None
    assert guard_of(page, root) is None


def test_a_page_without_a_guard_gets_one_that_only_the_same_text_passes() -> None:
    page = "<html><body><div><p>Short.</p></div><p>Stamp 1</p></body></html>"
    job = AnalysisJob(page, URL, old_fingerprint=fingerprint(page, URL), want_guard=True)
    analysis = analyse(job)
    assert analysis.same and analysis.guard is not None
    found = Guard.from_json(analysis.guard)
    assert found == whole_guard(page)
    assert same_content(page, page, found)
    assert not same_content(page, page.replace("Stamp 1", "Stamp 2"), found)


def test_windows_line_ends_still_map_to_the_tags() -> None:
    old = shell(demo_bodies()[3]).replace("\n", "\r\n")
    found = guard(old)
    for start, _ in found.extents:
        assert old[start] == "<"
    new = old.replace("a1b2c3", "d4e5f6")
    assert same_content(old, new, found) == (fingerprint(old, URL) == fingerprint(new, URL))


def _pages() -> list[str]:
    fixture = (ROOT / "tests/scraper/data/chapter_icpc.html").read_text(encoding="utf-8")
    return [fixture, *(shell(body) for body in demo_bodies())]


PAGES = _pages()
GUARDS = [guard_of(page, root) for page in PAGES if (root := parse_pruned(page)) is not None]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    page=st.integers(min_value=0, max_value=len(PAGES) - 1),
    edits=st.lists(
        st.tuples(
            st.floats(min_value=0, max_value=1),
            st.integers(min_value=0, max_value=6),
            st.text(alphabet=ALPHABET, max_size=6),
        ),
        min_size=1,
        max_size=3,
    ),
)
def test_quick_same_implies_the_same_fingerprint(
    page: int, edits: list[tuple[float, int, str]]
) -> None:
    old, found = PAGES[page], GUARDS[page]
    if found is None:
        return
    new = old
    for where, cut, text in edits:
        at = int(where * (len(new) - 1))
        new = new[:at] + text + new[at + cut :]
    if same_content(old, new, found):
        assert fingerprint(old, URL) == fingerprint(new, URL)


def test_random_edits_near_volatile_text_are_mostly_quick_and_always_right() -> None:
    rng = random.Random(7)
    old = shell(demo_bodies()[4])
    found = guard(old)
    quick = 0
    for _ in range(200):
        new = shell(
            demo_bodies()[4],
            token="".join(rng.choice("abcdef0123456789") for _ in range(rng.randint(1, 12))),
            stamp=f"{rng.randint(1, 28)}/11/2026 {rng.randint(0, 23)}:{rng.randint(10, 59)}",
        )
        if same_content(old, new, found):
            quick += 1
            assert fingerprint(old, URL) == fingerprint(new, URL)
    assert quick == 200
