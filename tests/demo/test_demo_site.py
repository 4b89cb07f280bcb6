"""The bundled manual's content files and the edition overlay, without HTTP."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup, Tag
from hypothesis import given, settings
from hypothesis import strategies as st

from amendwatch.demo import SITE_DIR, DemoServer
from amendwatch.demo.pages import parse_contents_entries
from amendwatch.demo.server import count_editions, file_for_url, resolve_file
from amendwatch.errors import ConfigError

EDITIONS = range(1, count_editions(SITE_DIR) + 1)
NUMBERED = re.compile(r"^(\d+(?:\.\d+)*)\.? (\S.*)$")


def chapter_slugs(edition: int) -> list[str]:
    contents = resolve_file(SITE_DIR, edition, "contents.html")
    assert contents is not None
    return [entry.slug for entry in parse_contents_entries(contents.text)]


def chapter_soup(edition: int, slug: str) -> BeautifulSoup:
    found = resolve_file(SITE_DIR, edition, f"chapters/{slug}.html")
    assert found is not None, slug
    return BeautifulSoup(found.text, "lxml")


def numbered_headings(soup: BeautifulSoup, tag: str) -> list[tuple[str, str]]:
    pairs = []
    for heading in soup.find_all(tag):
        assert isinstance(heading, Tag)
        match = NUMBERED.match(heading.get_text(strip=True))
        if match:
            pairs.append((match.group(1), match.group(2)))
    return pairs


@pytest.mark.parametrize("edition", EDITIONS)
def test_every_chapter_has_the_house_layout(edition: int) -> None:
    for slug in chapter_slugs(edition):
        soup = chapter_soup(edition, slug)
        assert soup.h1 is not None and soup.h1.get_text(strip=True)
        scope = soup.select_one("div.scope")
        assert scope is not None and scope.find(["h2", "h3"]) is not None, slug
        sections = numbered_headings(soup, "h2")
        assert 5 <= len(sections) <= 12, slug
        assert [n for n, _ in sections] == [str(i) for i in range(1, len(sections) + 1)], slug
        h2s = [h.get_text(strip=True) for h in soup.find_all("h2")]
        assert h2s[-1] == "Further Information", slug
        for number, _ in numbered_headings(soup, "h3"):
            assert number.split(".")[0] in {n for n, _ in sections}, (slug, number)
        for link in soup.select("a[href]"):
            href = str(link["href"])
            assert href.startswith(("https://", "/")), (slug, href)


def test_manual_has_paragraph_numbering_and_varied_lengths() -> None:
    deep = [s for s in chapter_slugs(1) if numbered_headings(chapter_soup(1, s), "h4")]
    assert deep, "one chapter has paragraph-numbered sections such as 7.4.1"
    assert all(n.count(".") == 2 for n, _ in numbered_headings(chapter_soup(1, deep[0]), "h4"))
    sizes = [len(chapter_soup(1, s).get_text()) for s in chapter_slugs(1)]
    assert max(sizes) > 3 * min(sizes)


def test_edition_two_inserts_a_section_and_renumbers_the_rest() -> None:
    slug = "initial-child-protection-conferences"
    old = [title for _, title in numbered_headings(chapter_soup(1, slug), "h2")]
    new = numbered_headings(chapter_soup(2, slug), "h2")
    inserted = [i for i, (_, title) in enumerate(new) if title not in old]
    assert len(inserted) == 1
    assert [title for i, (_, title) in enumerate(new) if i not in inserted] == old
    assert [n for n, _ in new] == [str(i) for i in range(1, len(new) + 1)]


@pytest.mark.parametrize("edition", EDITIONS)
def test_amendments_rows_name_chapters_as_they_stand(edition: int) -> None:
    page = resolve_file(SITE_DIR, edition, "amendments.html")
    assert page is not None
    soup = BeautifulSoup(page.text, "lxml")
    tables = soup.select("table.amendments")
    assert tables
    for table in tables:
        assert table.caption is not None
        headers = [th.get_text(strip=True) for th in table.select("th")]
        categories = headers[0::3]
        assert headers[1::3] == ["Chapter Name"] * len(categories)
        assert headers[2::3] == ["Details"] * len(categories)
        assert set(categories) <= {"Updated Chapters", "New Chapters and Features"}
        for link in table.select("td a[href^='/chapters/']"):
            slug = str(link["href"]).removeprefix("/chapters/").removesuffix(".html")
            chapter = chapter_soup(edition, slug)
            assert chapter.h1 is not None
            assert link.get_text(strip=True) == chapter.h1.get_text(strip=True)


def test_later_editions_hold_only_changed_files_and_editions_md_names_them() -> None:
    notes = (SITE_DIR / "EDITIONS.md").read_text("utf-8")
    for edition in EDITIONS[1:]:
        folder = SITE_DIR / f"edition-{edition}"
        for path in folder.rglob("*.html"):
            rel = path.relative_to(folder).as_posix()
            previous = resolve_file(SITE_DIR, edition - 1, rel)
            assert previous is None or previous.text != path.read_text("utf-8"), rel
            if rel.startswith("chapters/"):
                assert path.stem in notes, rel


def write_site(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, "utf-8")
    return root


def test_overlay_falls_back_and_honours_removals(tmp_path: Path) -> None:
    site = write_site(
        tmp_path,
        {
            "edition-1/a.html": "one",
            "edition-1/b.html": "bee",
            "edition-2/a.html": "two",
            "edition-2/removed.txt": "# comment\n/b.html\n",
            "edition-3/c.html": "sea",
            "edition-4/b.html": "back",
        },
    )
    assert count_editions(site) == 4
    texts = {
        n: {rel: getattr(resolve_file(site, n, f"{rel}.html"), "text", None) for rel in "abc"}
        for n in range(1, 5)
    }
    assert texts[1] == {"a": "one", "b": "bee", "c": None}
    assert texts[2] == {"a": "two", "b": None, "c": None}
    assert texts[3] == {"a": "two", "b": None, "c": "sea"}
    assert texts[4] == {"a": "two", "b": "back", "c": "sea"}
    first, second = resolve_file(site, 1, "a.html"), resolve_file(site, 3, "a.html")
    assert first is not None and second is not None
    assert first.etag != second.etag
    assert second.last_modified > first.last_modified


def test_url_mapping() -> None:
    assert file_for_url("/") == ("contents", "contents.html")
    assert file_for_url("/chapters/x-1.html") == ("chapter", "chapters/x-1.html")
    assert file_for_url("/amendments.html") == ("page", "amendments.html")
    for path in ("/template.html", "/chapters/../a.html", "/chapters/X.html", "/a/b.html"):
        assert file_for_url(path) is None


DEMO = DemoServer(dynamic=False)


PATHS = st.one_of(
    st.text(max_size=40).map(lambda s: "/" + s),
    st.from_regex(r"/(chapters/)?[a-z0-9.%-]{0,30}\.html(\?[a-z=0-9]*)?", fullmatch=True),
    st.sampled_from(["/", "/contents.html", "/robots.txt", "/chapters/dangerous-dogs.html"]),
)


@settings(max_examples=150, deadline=None)
@given(path=PATHS, edition=st.sampled_from(list(EDITIONS)))
def test_any_path_gets_a_page_or_a_404(path: str, edition: int) -> None:
    DEMO.set_edition(edition)
    response = DEMO.respond(path, {})
    assert response.status in (200, 404)
    assert response.body
    if response.status == 200 and path.split("?", maxsplit=1)[0].endswith(".html"):
        assert b"<h1" in response.body


def test_a_site_without_a_template_is_a_config_error(tmp_path: Path) -> None:
    site = write_site(tmp_path, {"edition-1/contents.html": "<h1>x</h1>"})
    with pytest.raises(ConfigError):
        DemoServer(site)
    with pytest.raises(ConfigError):
        DemoServer(tmp_path / "edition-1")


def test_a_small_site_is_served_through_the_template(tmp_path: Path) -> None:
    site = write_site(
        tmp_path,
        {
            "template.html": "<main>$content</main><p>$updated</p>$title $title_query "
            "$body_class $css_version $search_token $breadcrumbs $toc $related",
            "edition-1/contents.html": "<h1>T</h1><h2>1. Part</h2>"
            '<a href="/chapters/a.html">1.1 Alpha</a><a href="/chapters/b.html">1.2 Beta</a>',
            "edition-1/chapters/a.html": "<h1>Alpha</h1><h2>1. One</h2><h3>1.1 Sub</h3>",
            "edition-1/chapters/b.html": "<h1>Beta</h1>",
        },
    )
    demo = DemoServer(site, dynamic=False)
    page = demo.respond("/chapters/a.html", {}).body.decode("utf-8")
    assert '<h2 id="1-one">1. One</h2>' in page
    assert '<h3 id="1-1-sub">1.1 Sub</h3>' in page
    assert 'href="#1-one"' in page
    assert 'href="/chapters/b.html">Beta<' in page
    assert 'href="/contents.html#1-part">1. Part<' in page
    assert demo.respond("/static/site.css", {}).status == 404
