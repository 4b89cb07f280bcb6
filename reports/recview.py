"""The reconciliation (declared amendments against detected changes) as rows for the digest."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, tzinfo
from typing import Any

from reports.models import DetectedChange, Reconciliation
from reports.timefmt import day


@dataclass(frozen=True)
class ReconciliationRow:
    chapter: str
    declared: str
    detected: str
    sections: str


@dataclass(frozen=True)
class ReconciliationView:
    manual: str  # its heading
    rows: tuple[ReconciliationRow, ...]


def reconciliation_view(
    rec: Reconciliation,
    changes: Sequence[DetectedChange],
    *,
    tz: tzinfo = UTC,
    headings: Mapping[str, str] | None = None,
) -> ReconciliationView:
    """Matched entries ("detected 9 Nov (change 2)", whatever week that was), declared ones
    with no change in the window, declared chapters that no longer exist, silent changes."""
    titles = {c.change_id: c.chapter_title for c in changes}
    when = dict(rec.detected_at)
    rows = []
    for entry, change_id in rec.matched:
        cited = [s for s in rec.sections if s.chapter == entry.chapter and s.change_id == change_id]
        marks = "; ".join(
            f"{s.cited}: {'changed' if s.detected else 'no change found'}" for s in cited
        )
        found = f"change {change_id}"
        if change_id in when:
            found = f"detected {day(when[change_id], tz)} ({found})"
        rows.append(ReconciliationRow(entry.chapter, entry.details, found, marks))
    for entry in rec.declared_only:
        rows.append(ReconciliationRow(entry.chapter, entry.details, "no change detected", ""))
    for entry in rec.gone:
        rows.append(ReconciliationRow(entry.chapter, entry.details, "chapter no longer exists", ""))
    for change_id in rec.detected_only:
        title = titles.get(change_id, f"change {change_id}")
        rows.append(ReconciliationRow(title, "not declared", f"change {change_id} (silent)", ""))
    heading = (headings or {}).get(rec.manual, rec.manual)
    return ReconciliationView(heading, tuple(rows))


def reconciliation_json(rec: Reconciliation) -> dict[str, Any]:
    when = {cid: at.isoformat() for cid, at in rec.detected_at}
    return {
        "manual": rec.manual,
        "window_weeks": rec.window_weeks,
        "matched": [
            {"chapter": e.chapter, "change_id": cid, "detected_at": when.get(cid)}
            for e, cid in rec.matched
        ],
        "declared_only": [{"chapter": e.chapter, "details": e.details} for e in rec.declared_only],
        "gone": [{"chapter": e.chapter, "details": e.details} for e in rec.gone],
        "detected_only": list(rec.detected_only),
        "sections": [s.__dict__ for s in rec.sections],
    }
