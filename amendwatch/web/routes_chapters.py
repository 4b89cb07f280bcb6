"""Chapters: the list, one chapter's timeline with section lineage, its text as it stood on a
date (honest bounds), a redline of any two versions, the whole manual as of a date; search."""

from __future__ import annotations

import contextlib

from starlette.responses import Response
from starlette.routing import Route

from amendwatch import audit
from amendwatch.bounds import bounds_text
from amendwatch.errors import LockError
from amendwatch.web.core import Ctx, int_param, page
from reports.digest import chapter_view
from reports.periods import parse_when
from store import history, lifecycle, manuals, search
from store.rows import number_key
from store.versions import get_chapter

PAGE_SIZE = 200


def chapters_index(ctx: Ctx) -> Response:
    listed = []
    for manual in ctx.api.manuals():
        rows = sorted(
            lifecycle.active_chapters(ctx.api.db, manual.id),
            key=lambda c: (number_key(c.number), c.title.casefold()),
        )
        listed.append((manual, rows[:PAGE_SIZE], max(0, len(rows) - PAGE_SIZE)))
    return ctx.render("chapters.html.j2", listed=listed, today=ctx.now.date().isoformat())


def chapter_page(ctx: Ctx) -> Response:
    chapter = get_chapter(ctx.api.db, int_param(ctx.request.path_params["chapter_id"]))
    entries = history.chapter_history(ctx.api.db, chapter.id)
    as_of_text = ctx.query("as_of")
    as_of = history.version_as_of(ctx.api.db, chapter.id, parse_when(as_of_text)) if (
        as_of_text
    ) else None  # fmt: skip
    current = history.get_version(ctx.api.db, entries[-1].version_id) if entries else None
    lineage = ctx.query("section")
    timeline = history.section_timeline(ctx.api.db, chapter.id, lineage) if lineage else ()
    return ctx.render(
        "chapter.html.j2",
        chapter=chapter,
        manual=lifecycle.manual_name(ctx.api.db, chapter.manual_id),
        entries=entries,
        as_of_text=as_of_text,
        as_of=as_of,
        bounds=bounds_text(as_of, chapter.removed_at) if as_of else "",
        current=current,
        lineage=lineage,
        timeline=timeline,
        today=ctx.now.date().isoformat(),
    )


def compare(ctx: Ctx) -> Response:
    chapter = get_chapter(ctx.api.db, int_param(ctx.request.path_params["chapter_id"]))
    entries = history.chapter_history(ctx.api.db, chapter.id)
    old, new = ctx.query("from") or None, ctx.query("to") or None
    change = ctx.api.diff(chapter.url, old, new)
    return ctx.render(
        "compare.html.j2",
        chapter=chapter,
        entries=entries,
        change=change,
        view=chapter_view(change, context_words=40),
        old=change.diff.old_version,
        new=change.diff.new_version,
    )


def manual_as_of(ctx: Ctx) -> Response:
    name = ctx.request.path_params["name"]
    manual = manuals.get_manual(ctx.api.db, name)
    as_of_text = ctx.query("as_of") or ctx.now.date().isoformat()
    result = audit.manual_as_of(ctx.api, manual.name, parse_when(as_of_text))
    listed = {ref.url: ref for ref in result.listed}
    rows = [
        (state, listed.get(state.chapter.url), bounds_text(state.as_of, state.chapter.removed_at))
        for state in result.chapters
    ]
    return ctx.render(
        "manual.html.j2",
        manual=manual,
        result=result,
        rows=rows,
        as_of_text=as_of_text,
        contents_captured=bool(result.listed),
    )


def search_page(ctx: Ctx) -> Response:
    query = ctx.query("q").strip()[:200]
    hits: tuple[search.SearchHit, ...] = ()
    if query:
        with contextlib.suppress(LockError):  # a run is writing: search the index as it is
            search.refresh_index(ctx.api.db)  # one cheap check when nothing changed since
        hits = search.search(ctx.api.db, query)
    return ctx.render("search.html.j2", query=query, hits=hits)


ROUTES = [
    Route("/chapters", page(chapters_index, "viewer")),
    Route("/chapters/{chapter_id}", page(chapter_page, "viewer")),
    Route("/chapters/{chapter_id}/compare", page(compare, "viewer")),
    Route("/manuals/{name}", page(manual_as_of, "viewer")),
    Route("/search", page(search_page, "viewer")),
]
