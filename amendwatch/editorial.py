"""The editor's workflow over stored drafts: list them, see who did what, export the page.

Small functions over ``store.drafts`` so that the ``draft`` commands stay thin.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from amendwatch.api import Amendwatch
from amendwatch.errors import InputError
from reports.models import AmendmentEntry, Period
from reports.render import render_drafts
from store import drafts
from store.readmodels import DraftEvent, StoredDraft

_CATEGORY_ORDER = {"updated": 0, "new": 1, "removed": 2}


@dataclass(frozen=True)
class DraftRow:
    """One line of `draft list`: what the editor needs to act on an entry."""

    id: int
    status: str
    category: str
    manual: str
    chapter: str
    updated_by: str
    updated_at: str
    edited: bool  # the text differs from what amendwatch drafted


def period_drafts(
    app: Amendwatch, period: Period, status: str | None = None
) -> tuple[StoredDraft, ...]:
    """The stored drafts of ``period`` (optionally only those with ``status``), by id."""
    return drafts.list_drafts(app.db, period, status)


def draft_rows(app: Amendwatch, period: Period) -> tuple[DraftRow, ...]:
    return tuple(
        DraftRow(
            id=d.id,
            status=d.status,
            category=d.category,
            manual=d.manual,
            chapter=d.chapter_title,
            updated_by=d.updated_by or "",
            updated_at=d.updated_at.isoformat(timespec="minutes"),
            edited=d.details != d.generated_details,
        )
        for d in period_drafts(app, period)
    )


def rows_text(rows: Sequence[DraftRow], period: Period) -> str:
    """A plain table for the terminal; the ids are what `draft edit/approve/reject` take."""
    if not rows:
        return f"no stored drafts for {period.label} (run `amendwatch draft` for the period first)"
    lines = [f"{'ID':>4}  {'STATUS':<9} {'CATEGORY':<8} {'LAST CHANGED':<34} CHAPTER"]
    for row in rows:
        changed = f"{row.updated_by} {row.updated_at}"
        mark = " (text edited)" if row.edited and row.status != "edited" else ""
        lines.append(
            f"{row.id:>4}  {row.status:<9} {row.category:<8} {changed:<34} {row.chapter}{mark}"
        )
    return "\n".join(lines)


def rows_json(rows: Sequence[DraftRow], period: Period) -> str:
    payload = {"period": period.key or period.label, "drafts": [r.__dict__ for r in rows]}
    return json.dumps(payload, ensure_ascii=False, indent=2) + "\n"


def approved_entries(app: Amendwatch, period: Period) -> tuple[AmendmentEntry, ...]:
    """The approved entries of ``period`` (edited text where edited), in the page's order."""
    entries = [d.to_entry() for d in period_drafts(app, period, "approved")]
    return tuple(
        sorted(
            entries,
            key=lambda e: (e.manual, _CATEGORY_ORDER[e.category], e.chapter_title.casefold()),
        )
    )


def export_page(app: Amendwatch, period: Period, fmt: str) -> str:
    """The page to publish: only the approved entries of ``period``, in the house layout."""
    entries = approved_entries(app, period)
    if not entries:
        pending = len(period_drafts(app, period))
        raise InputError(
            f"no approved entries for {period.label} ({pending} stored drafts)",
            hint="approve entries with `amendwatch draft approve ID`; "
            "`amendwatch draft list` shows the ids",
        )
    return render_drafts(entries, period, fmt, manuals=app.manual_info())


def draft_history(app: Amendwatch, draft_id: int) -> tuple[DraftEvent, ...]:
    return drafts.draft_events(app.db, draft_id)


def history_text(draft: StoredDraft, events: Sequence[DraftEvent]) -> str:
    lines = [
        f"draft {draft.id} [{draft.status}] {draft.chapter_title} ({draft.period})",
        f"  drafted text: {draft.generated_details}",
    ]
    for event in events:
        when = event.at.isoformat(timespec="minutes")
        detail = f": {event.new_text}" if event.action == "edit" else ""
        lines.append(f"  {when}  {event.who}  {event.action}{detail}")
    if draft.details != draft.generated_details:
        lines.append(f"  current text: {draft.details}")
    return "\n".join(lines)
