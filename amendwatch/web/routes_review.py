"""The dashboard, the review pages (changes, one change with its redline and review) and the
weekly digest."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from amendwatch import reviews
from amendwatch.web.core import Ctx, choices, int_param, page, redirect
from amendwatch.web.templating import style_hashes
from reports.digest import build_digest, chapter_view, manual_views
from reports.importance import reading_order
from reports.models import Period
from reports.periods import parse_range, parse_week
from store import alerts, history
from store import reviews as review_store

MAX_LISTED = 500
DIGEST_POLICY = (
    "default-src 'none'; img-src 'self' data:; style-src {hashes}; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)


def last_days(now: datetime, days: int) -> Period:
    return parse_range((now - timedelta(days=days - 1)).date().isoformat(), now.date().isoformat())


DASHBOARD_CHANGES = 25  # changes the dashboard lists (most important first)


def _week_views(ctx: Ctx, week: Period) -> tuple[Any, int, list[Any], list[int]]:
    """The week's most important changes as views, how many more, the pages not checked and
    the ids shown. Kept in memory until a run or a change is added (or the week moves on):
    ranking a large manual's week means loading every change and drafting each headline."""
    db = ctx.api.db
    marks = db.execute("SELECT (SELECT MAX(id) FROM changes), (SELECT MAX(id) FROM runs)")
    key = ("dashboard", week.start, week.end, *marks.fetchone())
    if key not in ctx.web.memo:
        failures = history.failures_in(db, week.start, week.end)
        digest = build_digest(ctx.api.changes(week), failures, week)
        # the most important changes only: a large manual changes hundreds of chapters a
        # week; /changes lists them all
        shown = sorted(digest.changes, key=reading_order)[:DASHBOARD_CHANGES]
        not_checked: dict[tuple[str, str], list[str]] = {}
        for failure in digest.failures:
            not_checked.setdefault((failure.manual, failure.url), []).append(failure.reason)
        ctx.web.memo.clear()
        ctx.web.memo[key] = (
            manual_views(shown),
            len(digest.changes) - len(shown),
            sorted(not_checked.items()),
            [c.change_id for c in shown],
        )
    found: tuple[Any, int, list[Any], list[int]] = ctx.web.memo[key]
    return found


def dashboard(ctx: Ctx) -> Response:
    api = ctx.api
    week = last_days(ctx.now, 7)
    views, more, not_checked, shown_ids = _week_views(ctx, week)
    return ctx.render(
        "dashboard.html.j2",
        period=week,
        manuals=views,
        more=more,
        states=review_store.latest_reviews(api.db, shown_ids),
        not_checked=not_checked,
        unconfirmed=api.unconfirmed(week),
        runs=api.runs(5),
        alerts=alerts.open_alerts(api.db),
        waiting=review_store.drafts_waiting(api.db),
    )


def _period(ctx: Ctx) -> Period:
    since = ctx.query("since") or (ctx.now - timedelta(days=27)).date().isoformat()
    until = ctx.query("until") or ctx.now.date().isoformat()
    return parse_range(since, until)


def changes_list(ctx: Ctx) -> Response:
    period = _period(ctx)
    manual = ctx.query("manual") or None
    found = ctx.api.changes(period, manual)
    states = review_store.latest_reviews(ctx.api.db, [c.change_id for c in found])
    wanted = reviews.ReviewFilter(
        status=choices(ctx.query("status"), reviews.STATUSES),
        impact=choices(ctx.query("impact"), reviews.IMPACTS),
        owner=ctx.query("owner").strip(),
    )
    shown = sorted(
        reviews.filter_changes(found, states, wanted),
        key=lambda c: (c.detected_at, c.change_id),
        reverse=True,
    )
    return ctx.render(
        "changes.html.j2",
        period=period,
        since=ctx.query("since") or period.start.date().isoformat(),
        until=ctx.query("until") or (period.end - timedelta(days=1)).date().isoformat(),
        manual=manual or "",
        manuals=ctx.api.manuals(),
        wanted=wanted,
        changes=shown[:MAX_LISTED],
        more=max(0, len(shown) - MAX_LISTED),
        states=states,
        statuses=reviews.STATUSES,
        impacts=reviews.IMPACTS,
        owners=review_store.owners(ctx.api.db),
    )


def change_page(ctx: Ctx) -> Response:
    change_id = int_param(ctx.request.path_params["change_id"])
    change = reviews.change_by_id(ctx.api, change_id)
    chapter = ctx.api.find_chapter(change.chapter_url)
    trail = review_store.review_history(ctx.api.db, change_id)
    return ctx.render(
        "change.html.j2",
        change=change,
        view=chapter_view(change, context_words=40),
        chapter=chapter,
        history=trail,
        current=trail[-1] if trail else None,
        statuses=reviews.STATUSES,
        impacts=reviews.IMPACTS,
        saved=ctx.query("saved") == "1",
    )


def review_submit(ctx: Ctx) -> Response:
    change_id = int_param(ctx.request.path_params["change_id"])
    reviews.record_review(
        ctx.api, change_id, status=ctx.field("status"), impact=ctx.field("impact") or None,
        owner=ctx.field("owner"), note=ctx.field("note"), who=ctx.user.name,
        address=ctx.address,
    )  # fmt: skip
    return redirect(f"/changes/{change_id}?saved=1#review")


def digest_page(ctx: Ctx) -> Response:
    """The weekly digest as the report files have it (its own styles, allowed by hash)."""
    week = ctx.request.path_params.get("week", "latest")
    period = last_days(ctx.now, 7) if week == "latest" else parse_week(week)
    text = ctx.api.report(period, fmt="html")
    response = HTMLResponse(text)
    hashes = " ".join(sorted(set(style_hashes(text)))) or "'none'"
    response.headers["Content-Security-Policy"] = DIGEST_POLICY.format(hashes=hashes)
    return response


def reports_index(ctx: Ctx) -> Response:
    weeks = []
    for back in range(12):
        monday = ctx.now - timedelta(days=ctx.now.weekday() + 7 * back)
        year, number, _ = monday.isocalendar()
        weeks.append(f"{year}-W{number:02d}")
    return ctx.render("reports.html.j2", weeks=weeks)


ROUTES = [
    Route("/", page(dashboard, "viewer")),
    Route("/changes", page(changes_list, "viewer")),
    Route("/changes/{change_id}", page(change_page, "viewer")),
    Route("/changes/{change_id}/review", page(review_submit, "reviewer"), methods=["POST"]),
    Route("/reports", page(reports_index, "viewer")),
    Route("/reports/latest.html", page(digest_page, "viewer")),
    Route("/reports/{week}.html", page(digest_page, "viewer")),
]
