"""Read a site's sitemap.xml: the URLs it lists (with their lastmod), and which are chapters.

Parsing is safe by construction: lxml with no entity resolution, no network and no huge
trees; a document with a DOCTYPE is refused outright (sitemaps never need one, and entity
tricks such as "billion laughs" or external entities live there); gzip bodies are inflated
with a size cap. Anything that is not a ``<urlset>`` or ``<sitemapindex>`` is an
``ExtractError`` with a one-line message.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal
from urllib.parse import parse_qsl, unquote, urlsplit

from lxml import etree

from amendwatch.errors import ExtractError

MAX_SITEMAP_BYTES = 20 * 1024 * 1024  # inflated size; the protocol's own limit is 50 MB
MAX_ENTRIES = 50_000  # the protocol's limit per sitemap file
MAX_CHILD_SITEMAPS = 20  # sitemaps followed from one sitemap index
HINT = "check the manual's --sitemap URL, or add the manual again without it"

_GZIP_MAGIC = b"\x1f\x8b"
_DOCTYPE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.I)  # refused before parsing, too
_W3C_DATE = re.compile(r"^(\d{4})(?:-(\d{2}))?$")  # "2026" and "2026-11": the short forms
_NOT_CHAPTER_EXT = re.compile(
    r"\.(pdf|docx?|xlsx?|pptx?|odt|ods|rtf|csv|zip|gz|xml|txt|json|rss|atom|css|js|ico"
    r"|jpe?g|png|gif|svg|webp|bmp|tiff?|mp3|mp4|m4a|wav|avi|mov|webm)$",
    re.I,
)
_NOT_CHAPTER_PATH = re.compile(
    r"(^|/)(search|tags?|categor(y|ies)|authors?|feeds?|rss|wp-json|wp-admin|wp-content"
    r"|uploads|images?|media|assets|static|print)(/|$)",
    re.I,
)
_SEARCH_KEYS = frozenset({"q", "s", "search", "query", "tag", "tags"})


@dataclass(frozen=True)
class SitemapEntry:
    """One ``<url>`` of a urlset, or one ``<sitemap>`` of a sitemap index."""

    url: str
    lastmod: datetime | None = None


@dataclass(frozen=True)
class Sitemap:
    url: str
    kind: Literal["urlset", "index"]
    entries: tuple[SitemapEntry, ...]


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
        dtd_validation=False,
        remove_comments=True,
        remove_pis=True,
    )


def inflate(body: bytes, url: str, max_bytes: int = MAX_SITEMAP_BYTES) -> bytes:
    """The body itself, or inflated when gzip-compressed (``.gz`` or the gzip magic bytes);
    ExtractError when it inflates past ``max_bytes`` or is not valid gzip."""
    gzipped = body[:2] == _GZIP_MAGIC
    if not gzipped and urlsplit(url).path.lower().endswith(".gz") and body.lstrip()[:1] != b"<":
        raise ExtractError(f"sitemap {url} is not gzip-compressed as its name says", HINT)
    if not gzipped:
        data = body
    else:
        inflater = zlib.decompressobj(wbits=47)  # gzip (or zlib) header, checked
        try:
            data = inflater.decompress(body, max_bytes + 1)
        except zlib.error as exc:
            raise ExtractError(f"sitemap {url} is not valid gzip: {exc}", HINT) from exc
    if len(data) > max_bytes:
        raise ExtractError(f"sitemap {url} is over the size limit ({max_bytes} bytes)", HINT)
    return data


def parse_sitemap(body: bytes, url: str, *, max_bytes: int = MAX_SITEMAP_BYTES) -> Sitemap:
    """A ``<urlset>`` (pages) or ``<sitemapindex>`` (further sitemaps), in document order."""
    data = inflate(body, url, max_bytes)
    if _DOCTYPE.search(data, 0, 4096):
        raise ExtractError(f"sitemap {url} has a DOCTYPE (refused: entities are unsafe)", HINT)
    try:
        root = etree.fromstring(data, _parser())
    except (etree.XMLSyntaxError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ExtractError(f"sitemap {url} is not well-formed XML: {reason}", HINT) from exc
    if root is None:
        raise ExtractError(f"sitemap {url} is empty", HINT)
    if root.getroottree().docinfo.internalDTD is not None:  # any <!DOCTYPE ...>
        raise ExtractError(f"sitemap {url} has a DOCTYPE (refused: entities are unsafe)", HINT)
    name = etree.QName(root).localname
    if name not in ("urlset", "sitemapindex"):
        raise ExtractError(f"{url} is not a sitemap (its root element is <{name}>)", HINT)
    child = "url" if name == "urlset" else "sitemap"
    entries: list[SitemapEntry] = []
    for element in root:
        if not isinstance(element.tag, str) or etree.QName(element).localname != child:
            continue
        entry = _entry(element)
        if entry is not None:
            entries.append(entry)
        if len(entries) > MAX_ENTRIES:
            raise ExtractError(f"sitemap {url} lists more than {MAX_ENTRIES} URLs", HINT)
    return Sitemap(url, "urlset" if name == "urlset" else "index", tuple(entries))


def _entry(element: etree._Element) -> SitemapEntry | None:
    loc: str | None = None
    lastmod: datetime | None = None
    for field in element:
        if not isinstance(field.tag, str):
            continue
        text = (field.text or "").strip()
        local = etree.QName(field).localname
        if local == "loc":
            loc = text
        elif local == "lastmod":
            lastmod = parse_lastmod(text)
    if not loc or urlsplit(loc).scheme not in ("http", "https") or not urlsplit(loc).netloc:
        return None
    return SitemapEntry(loc, lastmod)


def parse_lastmod(text: str) -> datetime | None:
    """A W3C datetime ("2026", "2026-11", "2026-11-23", "2026-11-23T09:00:00+01:00",
    "...Z") as an aware datetime (UTC when no zone is given); None when unreadable."""
    text = text.strip()
    short = _W3C_DATE.match(text)
    try:
        if short:
            moment = datetime(int(short.group(1)), int(short.group(2) or 1), 1)
        else:
            moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def child_sitemaps(index: Sitemap) -> tuple[str, ...]:
    """The sitemaps a sitemap index lists on its own host (at most MAX_CHILD_SITEMAPS)."""
    host = urlsplit(index.url).netloc.lower()
    same = [e.url for e in index.entries if urlsplit(e.url).netloc.lower() == host]
    return tuple(dict.fromkeys(same))[:MAX_CHILD_SITEMAPS]


def chapter_prefix(listed: list[str] | tuple[str, ...], contents_url: str) -> str:
    """The path folder that holds a manual's chapters: the common folder of the chapters its
    contents page lists (a site may host other manuals beside it), else the contents page's."""
    folders = [urlsplit(url).path.rsplit("/", 1)[0] + "/" for url in listed]
    if not folders:
        return urlsplit(contents_url).path.rsplit("/", 1)[0] + "/"
    prefix = folders[0]
    for folder in folders[1:]:
        while not folder.startswith(prefix):
            prefix = prefix[:-1].rsplit("/", 1)[0] + "/"
    return prefix


def is_chapter(
    url: str, contents_url: str, *, prefix: str = "/", amendments_url: str | None = None
) -> bool:
    """Whether a sitemap URL may be a chapter: what the contents page would accept as a
    chapter link (own host, not itself, not furniture), under ``prefix``, and not the
    Amendments page, a file (PDF, image ...), a search, tag or feed page, or the folder."""
    from scraper.discover import chapter_url  # noqa: PLC0415 (BeautifulSoup: when needed)

    found = chapter_url(url, contents_url)
    if found is None or found != url.split("#", 1)[0]:
        return False
    if amendments_url is not None and found == amendments_url.split("#", 1)[0]:
        return False
    parts = urlsplit(found)
    path = parts.path or "/"
    if not path.startswith(prefix) or path == prefix:
        return False
    if _NOT_CHAPTER_EXT.search(path) or _NOT_CHAPTER_PATH.search(path):
        return False
    return not any(key.lower() in _SEARCH_KEYS for key, _ in parse_qsl(parts.query))


def page_key(url: str) -> str:
    """What makes two URLs the same page for merging a sitemap with a contents page: host
    (any case), path without a trailing slash, and query; not the scheme (a sitemap often
    lists http:// URLs of an https:// site) nor the fragment."""
    parts = urlsplit(url)
    query = f"?{parts.query}" if parts.query else ""
    return f"{parts.netloc.lower()}{parts.path.rstrip('/') or '/'}{query}"


def title_from_url(url: str) -> str:
    """A stand-in title from the URL's last path segment ("initial-cp-conferences.html" ->
    "Initial cp conferences"), until the chapter's own page gives one."""
    segment = unquote(urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1])
    stem = re.sub(r"\.[A-Za-z0-9]{1,5}$", "", segment)
    words = " ".join(re.split(r"[-_+\s]+", stem)).strip()
    return (words[:1].upper() + words[1:]) if words else url
