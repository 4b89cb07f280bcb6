"""The editor's pages: a period's drafted entries, one entry with its history, editing,
approving and rejecting (attributed to the logged-in user), and the approved page's export."""

from __future__ import annotations

from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from amendwatch import editorial
from amendwatch.errors import InputError
from amendwatch.web.core import Ctx, int_param, page, redirect
from amendwatch.web.routes_review import DIGEST_POLICY
from amendwatch.web.templating import style_hashes
from reports.models import Period
from reports.periods import month_of, parse_month

EXPORT_TYPES = {"html": "text/html; charset=utf-8", "md": "text/markdown; charset=utf-8"}


def _period(ctx: Ctx, value: str) -> Period:
    return parse_month(value) if value else month_of(ctx.now)


def drafts_page(ctx: Ctx) -> Response:
    period = _period(ctx, ctx.query("period"))
    return ctx.render(
        "drafts.html.j2",
        period=period,
        drafts=editorial.period_drafts(ctx.api, period),
        approved=len(editorial.approved_entries(ctx.api, period)),
    )


def generate(ctx: Ctx) -> Response:
    period = _period(ctx, ctx.field("period"))
    entries = ctx.api.draft(period)
    ctx.audit("draft generate", f"period {period.key}", f"{len(entries)} entries")
    return redirect(f"/drafts?period={period.key}")


def draft_page(ctx: Ctx) -> Response:
    draft_id = int_param(ctx.request.path_params["draft_id"])
    draft = ctx.api.get_draft(draft_id)
    return ctx.render(
        "draft.html.j2",
        draft=draft,
        events=editorial.draft_history(ctx.api, draft_id),
        saved=ctx.query("saved"),
    )


def edit(ctx: Ctx) -> Response:
    draft_id = int_param(ctx.request.path_params["draft_id"])
    text = ctx.field("details").strip()
    ctx.api.edit_draft(draft_id, text, ctx.user.name)
    ctx.audit("draft edit", f"draft {draft_id}", text[:200])
    return redirect(f"/drafts/{draft_id}?saved=edited")


def decide(ctx: Ctx) -> Response:
    draft_id = int_param(ctx.request.path_params["draft_id"])
    decision = ctx.request.path_params["decision"]
    status = {"approve": "approved", "reject": "rejected"}.get(decision)
    if status is None:
        raise InputError(f"unknown decision {decision!r}", "approve or reject")
    ctx.api.set_draft_status(draft_id, status, ctx.user.name)
    ctx.audit(f"draft {decision}", f"draft {draft_id}")
    return redirect(f"/drafts/{draft_id}?saved={status}")


def export(ctx: Ctx) -> Response:
    """The page to publish: only the approved entries (as ``draft export``)."""
    period = _period(ctx, ctx.query("period"))
    fmt = ctx.query("format") or "html"
    if fmt not in EXPORT_TYPES:
        raise InputError(f"unknown format {fmt!r}", "use html or md")
    text = editorial.export_page(ctx.api, period, fmt)
    ctx.audit("draft export", f"period {period.key}", f"format={fmt}")
    response = HTMLResponse(text, media_type=EXPORT_TYPES[fmt])
    if fmt == "html":
        hashes = " ".join(sorted(set(style_hashes(text)))) or "'none'"
        response.headers["Content-Security-Policy"] = DIGEST_POLICY.format(hashes=hashes)
    else:
        name = f"amendments-{period.key}.md"
        response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


ROUTES = [
    Route("/drafts", page(drafts_page, "viewer")),
    Route("/drafts/generate", page(generate, "editor"), methods=["POST"]),
    Route("/drafts/export", page(export, "viewer")),
    Route("/drafts/{draft_id}", page(draft_page, "viewer")),
    Route("/drafts/{draft_id}/edit", page(edit, "editor"), methods=["POST"]),
    Route("/drafts/{draft_id}/{decision}", page(decide, "editor"), methods=["POST"]),
]
