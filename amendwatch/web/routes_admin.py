"""Runs, Atom feeds, the health check, and the administrator's pages (users, manuals, the
audit log)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from amendwatch import delivery, jsonout
from amendwatch.api import Amendwatch
from amendwatch.errors import AmendwatchError
from amendwatch.serve import feed_reply, if_modified_since
from amendwatch.web import accounts
from amendwatch.web.core import Ctx, int_param, page, redirect
from store import auditlog, users
from store.db import SCHEMA_VERSION


def runs_page(ctx: Ctx) -> Response:
    rows = ctx.api.runs(int_param(ctx.query("limit"), 50))
    ids = [row.id for row in rows]
    return ctx.render(
        "runs.html.j2",
        runs=rows,
        unwatched=ctx.api.unwatched(ids),
        not_checked=jsonout.not_checked_in_runs(ctx.api.db, ids),
    )


def feeds_page(ctx: Ctx) -> Response:
    feeds = [(m, delivery.feed_file_name(m.name)) for m in ctx.api.manuals()]
    return ctx.render("feeds.html.j2", feeds=feeds)


def feed(ctx: Ctx) -> Response:
    since = if_modified_since(ctx.request.headers.get("if-modified-since"))
    status, headers, body = feed_reply(ctx.api, ctx.request.path_params["slug"], since, ctx.now)
    if status == 404:
        return ctx.error(404, "No such feed.", "The feeds page lists them.")
    return Response(body, status_code=status, headers=headers)


async def healthz(request: Request) -> Response:
    """Public: whether the database opens and answers (nothing else is said)."""
    web = request.app.state.web

    def check() -> bool:
        try:
            api = Amendwatch.open(web.settings, web.clock)
        except AmendwatchError:
            return False
        try:
            api.db.execute("SELECT 1 FROM runs LIMIT 1").fetchall()
            return True
        finally:
            api.close()

    ok = await run_in_threadpool(check)
    body = {"status": "ok" if ok else "unavailable", "schema": SCHEMA_VERSION}
    return JSONResponse(body, status_code=200 if ok else 503)


# admin ---------------------------------------------------------------------------------
def users_page(ctx: Ctx) -> Response:
    return ctx.render(
        "users.html.j2",
        accounts=users.list_users(ctx.api.db),
        roles=users.ROLES,
        message=ctx.query("done"),
    )


def user_action(ctx: Ctx) -> Response:
    """Add a user, or change one: role, disabled, password (one form each)."""
    action = ctx.request.path_params["action"]
    name = ctx.field("name").strip()
    who, address = ctx.user.name, ctx.address
    if action == "add":
        accounts.add_account(
            ctx.api, name, ctx.field("role"), ctx.field("password"), who=who, address=address
        )
    elif action == "role":
        accounts.set_account_role(ctx.api, name, ctx.field("role"), who=who, address=address)
    elif action in ("disable", "enable"):
        accounts.disable_account(
            ctx.api, name, who=who, address=address, disabled=action == "disable"
        )
    elif action == "passwd":
        accounts.set_password(ctx.api, name, ctx.field("password"), who=who, address=address)
    else:
        return ctx.error(404, f"No user action {action!r}.")
    return redirect(f"/admin/users?done={action}")


def manuals_page(ctx: Ctx) -> Response:
    return ctx.render("manuals.html.j2", manuals=ctx.api.manuals(), message=ctx.query("done"))


def manual_add(ctx: Ctx) -> Response:
    name = ctx.field("name").strip()
    contents = ctx.field("contents_url").strip()
    amendments = ctx.field("amendments_url").strip() or None
    manual = ctx.api.add_manual(name, contents, amendments_url=amendments)
    ctx.audit("manual add", f"manual {manual.name}", contents)
    return redirect("/admin/manuals?done=added")


def audit_page(ctx: Ctx) -> Response:
    before = ctx.query("before")
    entries = auditlog.list_actions(
        ctx.api.db, limit=200, before_id=int_param(before) if before else None,
        who=ctx.query("who") or None,
    )  # fmt: skip
    return ctx.render("audit.html.j2", entries=entries, who=ctx.query("who"))


ROUTES = [
    Route("/runs", page(runs_page, "viewer")),
    Route("/feeds", page(feeds_page, "viewer")),
    Route("/feeds/{slug}.atom", page(feed, "viewer"), methods=["GET", "HEAD"]),
    Route("/healthz", healthz),
    Route("/admin/users", page(users_page, "admin")),
    Route("/admin/users/{action}", page(user_action, "admin"), methods=["POST"]),
    Route("/admin/manuals", page(manuals_page, "admin")),
    Route("/admin/manuals/add", page(manual_add, "admin"), methods=["POST"]),
    Route("/admin/audit", page(audit_page, "admin")),
]
