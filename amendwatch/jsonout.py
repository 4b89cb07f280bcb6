"""The ``--format json`` documents of ``history``, ``runs``, ``verify`` and ``manual list``.

Each builder is a pure function of what the API returned and gives one JSON object that
carries ``"schema_version": 1`` (:data:`SCHEMA_VERSION`). The schemas are documented in
docs/json.md and written as JSON Schemas in docs/schemas/; the tests validate real output
against them. A change that removes or retypes a field raises :data:`SCHEMA_VERSION`; adding
a field does not. Times are ISO 8601 with their offset (UTC), absent ones ``null``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from store.observations import FAILED_OUTCOMES
from store.rows import fetch_all, from_db_time

if TYPE_CHECKING:
    from sqlite_utils import Database

    from store.chainhead import ChainHead
    from store.models import ChapterRow, Manual, RunRow, VerifyResult
    from store.readmodels import HistoryEntry, SectionEvent
    from store.unwatched import Unwatched

SCHEMA_VERSION = 1

Document = dict[str, object]


def dumps(document: Mapping[str, object]) -> str:
    """The printed form: indented, non-ASCII kept (the CLI's ``echo`` makes it terminal-safe)."""
    return json.dumps(document, indent=2, ensure_ascii=False)


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


# history -------------------------------------------------------------------------------
def _chapter(chapter: ChapterRow) -> Document:
    return {
        "url": chapter.url,
        "title": chapter.title,
        "number": chapter.number,
        "first_seen": _time(chapter.first_seen),
        "removed_at": _time(chapter.removed_at),
    }


def history_json(chapter: ChapterRow, entries: Sequence[HistoryEntry]) -> Document:
    """``history CHAPTER --format json``: every version, oldest first."""
    return {
        "schema_version": SCHEMA_VERSION,
        "chapter": _chapter(chapter),
        "versions": [
            {
                "version_id": entry.version_id,
                "valid_from": _time(entry.valid_from),
                "valid_to": _time(entry.valid_to),
                "last_seen": _time(entry.last_seen),
                "content_hash": entry.content_hash,
                "title": entry.title,
                "summary": entry.summary,
                "change_id": entry.change_id,
            }
            for entry in entries
        ],
    }


def timeline_json(chapter: ChapterRow, section: str, events: Sequence[SectionEvent]) -> Document:
    """``history CHAPTER --section REF --format json``: the section in each version."""
    return {
        "schema_version": SCHEMA_VERSION,
        "chapter": _chapter(chapter),
        "section": section,
        "timeline": [
            {
                "version_id": event.version_id,
                "valid_from": _time(event.valid_from),
                "valid_to": _time(event.valid_to),
                "lineage_id": event.lineage_id,
                "present": event.present,
                "number": event.number,
                "title": event.title,
                "text": event.text,
                "changed": event.changed,
            }
            for event in events
        ],
    }


# runs ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class NotChecked:
    """A page a run fetched without success (outcome failed or suspect), with the reason."""

    run_id: int
    manual: str
    role: str  # contents, chapter, amendments or robots
    url: str
    status: int  # the HTTP status, 0 when no response came
    outcome: str  # failed or suspect
    reason: str
    observed_at: datetime


def not_checked_in_runs(db: Database, run_ids: Sequence[int]) -> dict[int, tuple[NotChecked, ...]]:
    """The pages each of the runs ``run_ids`` could not check, in the order they were fetched."""
    if not run_ids:
        return {}
    marks = ", ".join("?" for _ in run_ids)
    outcomes = ", ".join("?" for _ in FAILED_OUTCOMES)
    rows = fetch_all(
        db,
        "SELECT o.run_id, m.name AS manual, o.role, o.url, o.status, o.outcome, o.reason,"
        " o.observed_at FROM observations o LEFT JOIN manuals m ON m.id = o.manual_id"
        f" WHERE o.run_id IN ({marks}) AND o.outcome IN ({outcomes})"
        " ORDER BY o.run_id, o.id",
        [*run_ids, *FAILED_OUTCOMES],
    )
    found: dict[int, list[NotChecked]] = {}
    for row in rows:
        found.setdefault(row["run_id"], []).append(
            NotChecked(
                run_id=row["run_id"],
                manual=row["manual"] or "",
                role=row["role"],
                url=row["url"],
                status=row["status"],
                outcome=row["outcome"],
                reason=row["reason"] or row["outcome"],
                observed_at=from_db_time(row["observed_at"]),
            )
        )
    return {run_id: tuple(items) for run_id, items in found.items()}


def _run(run: RunRow, unwatched: Sequence[Unwatched], failed: Sequence[NotChecked]) -> Document:
    return {
        "id": run.id,
        "kind": run.kind,
        "started_at": _time(run.started_at),
        "finished_at": _time(run.finished_at),
        "status": run.status,
        "checked": run.checked,
        "changed": run.changed,
        "reverted": run.reverted,
        "failed": run.failed,
        "errors": list(run.errors),
        "not_checked": [
            {
                "manual": item.manual,
                "role": item.role,
                "url": item.url,
                "status": item.status,
                "outcome": item.outcome,
                "reason": item.reason,
                "observed_at": _time(item.observed_at),
            }
            for item in failed
        ],
        "not_watched": [
            {"manual": u.manual, "url": u.url, "title": u.title, "reason": u.reason}
            for u in unwatched
        ],
    }


def runs_json(
    runs: Sequence[RunRow],
    unwatched: Mapping[int, Sequence[Unwatched]],
    not_checked: Mapping[int, Sequence[NotChecked]],
) -> Document:
    """``runs --format json``: the runs newest first, each with its errors (the reasons a run
    is not ``ok``), the pages it could not check and the listed entries it did not watch."""
    return {
        "schema_version": SCHEMA_VERSION,
        "runs": [_run(run, unwatched.get(run.id, ()), not_checked.get(run.id, ())) for run in runs],
    }


# manual list ---------------------------------------------------------------------------
def manuals_json(manuals: Sequence[Manual]) -> Document:
    """``manual list --format json``: each manual with its rules and network options
    (cookie sources, never cookie values: those are not stored)."""
    return {
        "schema_version": SCHEMA_VERSION,
        "manuals": [
            {
                "name": item.name,
                "display_name": item.display_name,
                "contents_url": item.contents_url,
                "amendments_url": item.amendments_url,
                "content_selector": item.content_selector,
                "ignore_selectors": list(item.ignore_selectors),
                "ignore_patterns": list(item.ignore_patterns),
                "allowed_hosts": list(item.allowed_hosts),
                "sitemap_url": item.sitemap_url,
                "headers": [{"name": key, "value": value} for key, value in item.headers],
                "cookies": [{"name": key, "source": source} for key, source in item.cookies],
                "user_agent": item.user_agent,
                "created_at": _time(item.created_at),
            }
            for item in manuals
        ],
    }


# verify --------------------------------------------------------------------------------
VERIFY_KEYS = frozenset(
    {"schema_version", "ok", "checked", "observations", "bodies", "sealed", "problems",
     "chain_head"}
)  # fmt: skip


def verify_json(result: VerifyResult, head: ChainHead, extra: Mapping[str, object]) -> Document:
    """``verify --format json``: what was checked, every problem found and the chain head.
    ``extra`` adds further top-level members (``--against``, ``--deep``, time-stamps); it may
    not replace one of :data:`VERIFY_KEYS` (a ``ValueError``: a programming error)."""
    clash = VERIFY_KEYS.intersection(extra)
    if clash:
        raise ValueError(f"verify_json: extra may not replace {sorted(clash)}")
    return {
        "schema_version": SCHEMA_VERSION,
        "ok": result.ok,
        "checked": result.checked,
        "observations": result.observations,
        "bodies": result.bodies,
        "sealed": result.sealed,
        "problems": list(result.problems),
        "chain_head": {
            "text": head.text,
            "observations": head.count,
            "seals": head.seals,
            "hash": head.hash,
        },
        **extra,
    }
