"""scraper.sitemap: urlsets, indexes, gzip, lastmod, hostile XML, and which URLs are chapters."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from amendwatch.errors import ExtractError
from scraper.discover import chapter_url
from scraper.sitemap import (
    Sitemap,
    SitemapEntry,
    chapter_prefix,
    child_sitemaps,
    inflate,
    is_chapter,
    page_key,
    parse_lastmod,
    parse_sitemap,
    title_from_url,
)

NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
BASE = "https://example.org/manual/contents.html"


def urlset(*entries: tuple[str, str | None]) -> bytes:
    items = "".join(
        f"<url><loc>{loc}</loc>{f'<lastmod>{mod}</lastmod>' if mod else ''}</url>"
        for loc, mod in entries
    )
    return f'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="{NS}">{items}</urlset>'.encode()


def test_urlset_in_document_order_with_lastmod() -> None:
    body = urlset(
        ("https://example.org/manual/b.html", "2026-11-02"),
        ("https://example.org/manual/a.html?x=1&amp;y=2", None),
        ("  https://example.org/manual/c.html\n", "2026-11-03T09:30:00+01:00"),
    )
    sitemap = parse_sitemap(body, "https://example.org/sitemap.xml")
    assert sitemap.kind == "urlset"
    assert [e.url for e in sitemap.entries] == [
        "https://example.org/manual/b.html",
        "https://example.org/manual/a.html?x=1&y=2",
        "https://example.org/manual/c.html",
    ]
    assert sitemap.entries[0].lastmod == datetime(2026, 11, 2, tzinfo=UTC)
    assert sitemap.entries[1].lastmod is None
    assert sitemap.entries[2].lastmod == datetime(2026, 11, 3, 8, 30, tzinfo=UTC)


def test_entries_without_an_http_loc_are_skipped_and_no_namespace_is_accepted() -> None:
    body = (
        b"<urlset><url><loc>ftp://example.org/x</loc></url><url><lastmod>2026</lastmod></url>"
        b"<url><loc>/relative.html</loc></url><url><loc>http://example.org/ok</loc></url>"
        b"</urlset>"
    )
    sitemap = parse_sitemap(body, "http://example.org/sitemap.xml")
    assert sitemap.entries == (SitemapEntry("http://example.org/ok"),)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026", datetime(2026, 1, 1, tzinfo=UTC)),
        ("2026-11", datetime(2026, 11, 1, tzinfo=UTC)),
        ("2026-11-23", datetime(2026, 11, 23, tzinfo=UTC)),
        ("2026-11-23T09:00Z", datetime(2026, 11, 23, 9, tzinfo=UTC)),
        ("2026-11-23T09:00:05.25-05:00", datetime(2026, 11, 23, 9, 0, 5, 250000,
                                                    tzinfo=timezone(timedelta(hours=-5)))),
        ("yesterday", None),
        ("2026-13-01", None),
        ("", None),
    ],
)  # fmt: skip
def test_lastmod_w3c_forms(text: str, expected: datetime | None) -> None:
    assert parse_lastmod(text) == expected


def test_sitemap_index_children_followed_on_the_same_host_only() -> None:
    body = (
        f'<sitemapindex xmlns="{NS}">'
        "<sitemap><loc>https://example.org/sm-1.xml</loc><lastmod>2026-10-01</lastmod></sitemap>"
        "<sitemap><loc>https://cdn.example.net/sm-2.xml</loc></sitemap>"
        "<sitemap><loc>https://example.org/sm-3.xml.gz</loc></sitemap>"
        "<sitemap><loc>https://example.org/sm-1.xml</loc></sitemap>"
        "</sitemapindex>"
    ).encode()
    index = parse_sitemap(body, "https://example.org/sitemap.xml")
    assert index.kind == "index" and len(index.entries) == 4
    assert index.entries[0].lastmod == datetime(2026, 10, 1, tzinfo=UTC)
    assert child_sitemaps(index) == (
        "https://example.org/sm-1.xml",
        "https://example.org/sm-3.xml.gz",
    )


def test_gzip_by_magic_bytes_and_by_name() -> None:
    plain = urlset(("https://example.org/manual/a.html", None))
    for url in ("https://example.org/sitemap.xml.gz", "https://example.org/sitemap.xml"):
        sitemap = parse_sitemap(gzip.compress(plain), url)
        assert [e.url for e in sitemap.entries] == ["https://example.org/manual/a.html"]


def test_gzip_bomb_and_broken_gzip_are_refused() -> None:
    bomb = gzip.compress(b"<urlset>" + b" " * 3_000_000 + b"</urlset>")
    assert len(bomb) < 10_000
    with pytest.raises(ExtractError, match="over the size limit"):
        parse_sitemap(bomb, "https://example.org/sitemap.xml.gz", max_bytes=1_000_000)
    with pytest.raises(ExtractError, match="not valid gzip"):
        inflate(b"\x1f\x8b" + b"rubbish" * 10, "https://example.org/s.xml.gz")
    with pytest.raises(ExtractError, match="not gzip-compressed"):
        inflate(b"\x00\x01binary", "https://example.org/s.xml.gz")


def test_plain_body_over_the_cap_is_refused() -> None:
    body = urlset(*((f"https://example.org/manual/{i}.html", None) for i in range(200)))
    with pytest.raises(ExtractError, match="over the size limit"):
        parse_sitemap(body, "https://example.org/sitemap.xml", max_bytes=len(body) - 1)


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<urlset><url><loc>http://example.org/&lol9;</loc></url></urlset>"""


def test_billion_laughs_is_refused_without_expanding() -> None:
    started = datetime.now(UTC)
    with pytest.raises(ExtractError, match="DOCTYPE") as caught:
        parse_sitemap(BILLION_LAUGHS, "https://example.org/sitemap.xml")
    assert "\n" not in str(caught.value)
    assert datetime.now(UTC) - started < timedelta(seconds=2)


def test_external_entity_is_never_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE")
    body = (
        f'<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY x SYSTEM "file://{secret}">]>'
        "<urlset><url><loc>http://example.org/&x;</loc></url></urlset>"
    ).encode()
    with pytest.raises(ExtractError) as caught:
        parse_sitemap(body, "https://example.org/sitemap.xml")
    assert "TOP-SECRET-VALUE" not in str(caught.value)
    # after the DOCTYPE, further down than the pre-scan looks: still refused, never read
    late = body.replace(b'<?xml version="1.0"?>', b'<?xml version="1.0"?>' + b" " * 5000)
    with pytest.raises(ExtractError, match="DOCTYPE") as caught:
        parse_sitemap(late, "https://example.org/sitemap.xml")
    assert "TOP-SECRET-VALUE" not in str(caught.value)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<html><body><p>Welcome</p></body></html>", "is not a sitemap"),
        (b"User-agent: *\nDisallow:\n", "not well-formed XML"),
        (b"", "not well-formed XML"),
        (b"<urlset><url><loc>http://x/</loc></url>", "not well-formed XML"),
        (b'<rss version="2.0"><channel/></rss>', "its root element is <rss>"),
    ],
)
def test_a_non_sitemap_is_refused_with_a_one_line_error(body: bytes, message: str) -> None:
    with pytest.raises(ExtractError, match=message) as caught:
        parse_sitemap(body, "https://example.org/sitemap.xml")
    assert "\n" not in str(caught.value) and "--sitemap" in str(caught.value)


def test_chapter_url_helper_matches_contents_link_rules() -> None:
    assert chapter_url("ch1.html#s2", BASE) == "https://example.org/manual/ch1.html"
    assert chapter_url("https://other.org/manual/ch1.html", BASE) is None
    assert chapter_url("contents.html", BASE) is None
    assert chapter_url("/manual/search", BASE) is None
    assert chapter_url("mailto:a@example.org", BASE) is None
    assert chapter_url("#top", BASE) is None


def test_filtering_keeps_chapters_only() -> None:
    prefix = chapter_prefix(["https://example.org/manual/ch/a.html"], BASE)
    amendments = "https://example.org/manual/ch/amendments-2026.html"
    keep = "https://example.org/manual/ch/new-chapter.html"
    drop = [
        "https://other.example.org/manual/ch/x.html",  # off host
        "https://example.org/manual/ch/guide.pdf",  # a file
        "https://example.org/manual/ch/logo.PNG",
        BASE,  # the contents page itself
        amendments,
        "https://example.org/manual/ch/search?q=child",
        "https://example.org/manual/ch/tags/safeguarding",
        "https://example.org/manual/ch/index.html",  # furniture by its slug
        "https://example.org/manual/ch/",  # the folder itself
        "https://example.org/other-manual/ch/a.html",  # another manual on the same host
        "https://example.org/manual/ch/x.html?s=term",
    ]
    assert prefix == "/manual/ch/"
    assert is_chapter(keep, BASE, prefix=prefix, amendments_url=amendments)
    kept = [u for u in drop if is_chapter(u, BASE, prefix=prefix, amendments_url=amendments)]
    assert kept == []


def test_chapter_prefix_is_the_common_folder_of_the_listed_chapters() -> None:
    listed = [
        "https://example.org/m/part1/a.html",
        "https://example.org/m/part2/b.html",
        "https://example.org/m/part1/c.html",
    ]
    assert chapter_prefix(listed, BASE) == "/m/"
    assert chapter_prefix([], BASE) == "/manual/"
    assert chapter_prefix(["https://example.org/a.html"], BASE) == "/"


@pytest.mark.parametrize(
    ("url", "title"),
    [
        ("https://example.org/m/initial-child-protection-conferences.html", "Initial child "
         "protection conferences"),
        ("https://example.org/m/ch_3_4_review/", "Ch 3 4 review"),
        ("https://example.org/m/Private%20Fostering", "Private Fostering"),
        ("https://example.org/", "https://example.org/"),
    ],
)  # fmt: skip
def test_title_from_url_slug(url: str, title: str) -> None:
    assert title_from_url(url) == title


def test_sitemap_is_a_frozen_dataclass() -> None:
    sitemap = Sitemap("https://example.org/s.xml", "urlset", ())
    with pytest.raises(AttributeError):
        sitemap.url = "x"  # type: ignore[misc]


def test_page_key_ignores_scheme_case_trailing_slash_and_fragment() -> None:
    same = [
        "https://Example.org/m/a/",
        "http://example.org/m/a",
        "https://example.org/m/a#s3",
    ]
    assert len({page_key(url) for url in same}) == 1
    assert page_key("https://example.org/m/a?id=1") != page_key("https://example.org/m/a?id=2")
    assert page_key("https://example.org/m/a") != page_key("https://example.org/m/b")
