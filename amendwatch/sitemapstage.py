"""The sitemap stage of a snapshot: chapters a manual's sitemap.xml lists beyond its contents page.

Runs after the contents page was read. Every sitemap fetched (the index and its children too)
is kept as an observation in the role 'contents' under its own URL, with the outcome
'sitemap' (never 'ok', so nothing that looks for "the latest contents capture" or a completed
baseline mistakes it for the contents page) or 'failed' with the reason. A failed or malformed
sitemap never fails the run and never removes anything: the chapters known but absent from the
contents page are then kept as listed for this run, as when the contents page itself fails.
A sitemap read in full before is asked for with a conditional GET; a 304 is parsed from the
stored capture it confirms.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

from amendwatch.errors import ExtractError
from amendwatch.runcontext import RunContext, fetch
from scraper.fetch import FetchRequest, decode_body
from scraper.models import ChapterRef, Contents, Page
from store import lifecycle, observations
from store.manuals import SITEMAP_AUTO
from store.rows import fetch_all, fetch_one

if TYPE_CHECKING:  # scraper.sitemap (and lxml) load only for a manual with a sitemap
    from scraper.sitemap import Sitemap

SITEMAP_OUTCOME = "sitemap"  # a sitemap read in full (the contents page's outcome is 'ok')
MAX_ROBOTS_SITEMAPS = 5  # Sitemap: lines of robots.txt followed


def merge_sitemap(ctx: RunContext, contents: Contents) -> Contents:
    """``contents`` with the chapters the manual's sitemap lists but the contents page does
    not appended (in sitemap order, number None, title from the URL until the chapter's page
    gives one); on a failed sitemap, with the known chapters absent from the page kept."""
    if not ctx.manual.sitemap_url:
        return contents
    from scraper.sitemap import chapter_prefix, is_chapter, page_key, title_from_url  # noqa: PLC0415

    listed = {ref.url for ref in contents.chapters}
    found = _sitemap_urls(ctx, contents.url)
    if found is None:
        kept = [
            ChapterRef(row.url, row.title, row.number, row.part)
            for row in lifecycle.active_chapters(ctx.db, ctx.manual.id)
            if row.url not in listed
        ]
        return replace(contents, chapters=(*contents.chapters, *kept))
    prefix = chapter_prefix(tuple(listed), contents.url)
    seen = {page_key(url) for url in listed}
    extra: list[str] = []
    for url in found:
        key = page_key(url)
        if key in seen or not is_chapter(
            url, contents.url, prefix=prefix, amendments_url=ctx.manual.amendments_url
        ):
            continue
        seen.add(key)
        extra.append(url)
    titles = _stored_titles(ctx, extra) if extra else {}
    added = tuple(ChapterRef(url, titles.get(url) or title_from_url(url)) for url in extra)
    return replace(contents, chapters=(*contents.chapters, *added))


def _sitemap_urls(ctx: RunContext, contents_url: str) -> list[str] | None:
    """Every page URL the manual's sitemap(s) list (an index is followed one level); None
    when one of them could not be read."""
    configured = ctx.manual.sitemap_url or ""
    if configured.lower() == SITEMAP_AUTO:
        declared = _robots_sitemaps(ctx, contents_url)
        if not declared:
            fallback = _origin(contents_url) + "/sitemap.xml"
            return _read_all(ctx, [fallback], absent_ok=True)
        return _read_all(ctx, declared)
    return _read_all(ctx, [configured])


def _read_all(ctx: RunContext, urls: Sequence[str], *, absent_ok: bool = False) -> list[str] | None:
    from scraper.sitemap import child_sitemaps  # noqa: PLC0415

    tops = _read(ctx, urls, absent_ok=absent_ok)
    if tops is None:
        return None
    found: list[str] = []
    for top in tops:
        children = [top] if top.kind == "urlset" else _read(ctx, child_sitemaps(top), nested=True)
        if children is None:
            return None
        found.extend(entry.url for child in children for entry in child.entries)
    return found


def _read(
    ctx: RunContext, urls: Sequence[str], *, nested: bool = False, absent_ok: bool = False
) -> list[Sitemap] | None:
    """Fetch, parse and record the sitemaps at ``urls``; None when any could not be read
    (all are recorded first). With ``absent_ok`` a 404/410 is "no sitemap", not a failure."""
    pages = fetch(ctx, [_request(ctx, url) for url in urls]) if urls else []
    read: list[Sitemap] = []
    failed = False
    for page in pages:
        sitemap, reason = _parse(_unless_unchanged(ctx, page))
        if sitemap is not None and nested and sitemap.kind == "index":
            sitemap, reason = None, "a sitemap index inside a sitemap index is not followed"
        if sitemap is None and absent_ok and page.status in (404, 410):
            _record(ctx, page, "absent", f"sitemap: none at {page.url} (HTTP {page.status})")
            continue
        if sitemap is None:
            _record(ctx, page, "failed", f"sitemap: {reason}")
            failed = True
            continue
        count = f"{len(sitemap.entries)} {'URLs' if sitemap.kind == 'urlset' else 'sitemaps'}"
        unchanged = ", unchanged: 304" if page.status == 304 else ""
        _record(ctx, page, SITEMAP_OUTCOME, f"sitemap ({sitemap.kind}, {count}{unchanged})")
        read.append(sitemap)
    return None if failed else read


def _last_read(ctx: RunContext, url: str) -> dict[str, Any] | None:
    """The latest observation of ``url`` that read a sitemap in full (with its body)."""
    return fetch_one(
        ctx.db,
        "SELECT etag, last_modified, final_url, headers, body_sha256 FROM observations"
        " WHERE url = ? AND outcome = ? AND body_sha256 IS NOT NULL"
        " ORDER BY observed_at DESC, id DESC LIMIT 1",
        (url, SITEMAP_OUTCOME),
    )


def _request(ctx: RunContext, url: str) -> FetchRequest:
    """A conditional GET when the sitemap was read in full before: an unchanged one is a 304."""
    last = _last_read(ctx, url)
    if last is None:
        return FetchRequest(url)
    return FetchRequest(url, etag=last["etag"], last_modified=last["last_modified"])


def _unless_unchanged(ctx: RunContext, page: Page) -> Page:
    """For a 304, the stored capture it confirms (so it is parsed as before); else ``page``."""
    last = _last_read(ctx, page.url) if page.status == 304 else None
    if last is None:
        return page
    body = observations.get_body(ctx.db, str(last["body_sha256"]))
    headers = tuple((key, value) for key, value in json.loads(str(last["headers"])))
    return replace(page, final_url=str(last["final_url"]), status=200, headers=headers, body=body)


def _parse(page: Page) -> tuple[Sitemap | None, str]:
    from scraper.sitemap import parse_sitemap  # noqa: PLC0415

    if not page.ok:
        return None, page.error or f"HTTP {page.status}"
    try:
        return parse_sitemap(page.body, page.final_url or page.url), ""
    except ExtractError as exc:
        return None, str(exc)


def _record(ctx: RunContext, page: Page, outcome: str, reason: str, role: str = "contents") -> None:
    observations.record_observation(
        ctx.db,
        page,
        manual_id=ctx.manual.id,
        chapter_id=None,
        role=role,
        outcome=outcome,
        reason=reason,
        run_id=ctx.run_id,
    )


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _robots_sitemaps(ctx: RunContext, contents_url: str) -> list[str]:
    """The ``Sitemap:`` lines of the contents host's robots.txt that are on that host."""
    (page,) = fetch(ctx, [FetchRequest(_origin(contents_url) + "/robots.txt")])
    _record(ctx, page, "ok" if page.ok else "absent", "" if page.ok else "no robots.txt", "robots")
    if not page.ok:
        return []
    parser = RobotFileParser()
    parser.parse(decode_body(page).splitlines())
    host = urlsplit(contents_url).netloc.lower()
    declared = [url.strip() for url in parser.site_maps() or ()]
    same = [url for url in declared if urlsplit(url).netloc.lower() == host]
    return list(dict.fromkeys(same))[:MAX_ROBOTS_SITEMAPS]


def _stored_titles(ctx: RunContext, urls: Sequence[str]) -> dict[str, str]:
    """The title of each chapter's latest stored version (its page's own title), by URL."""
    rows = fetch_all(
        ctx.db,
        "SELECT c.url, (SELECT v.title FROM versions v WHERE v.chapter_id = c.id"
        " ORDER BY v.valid_from DESC, v.id DESC LIMIT 1) AS title"
        " FROM chapters c WHERE c.manual_id = ?",
        (ctx.manual.id,),
    )
    wanted = set(urls)
    return {row["url"]: row["title"] for row in rows if row["url"] in wanted and row["title"]}
