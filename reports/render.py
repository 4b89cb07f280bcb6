"""Render drafts, digests and single changes as HTML, Markdown, JSON or text (Jinja2)."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, StrictUndefined

from amendwatch.errors import InputError
from differ.models import chapter_diff_to_json
from reports.digest import (
    Segment,
    chapter_heading,
    charts,
    manual_views,
    redline,
    safe_href,
    summary_counts,
)
from reports.models import (
    AmendmentEntry,
    DetectedChange,
    Digest,
    FailedCheck,
    Period,
    Reconciliation,
    Reversion,
    UnconfirmedChange,
)
from reports.redline import flag_spans
from scraper.models import Chapter, Section

_HEADINGS = (
    ("updated", "Updated Chapters"),
    ("new", "New Chapters and Features"),
    ("removed", "Removed Chapters"),
)
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|])")
_ENTITY = re.compile(r"&(?=#?\w+;)")


@dataclass(frozen=True)
class ReconciliationRow:
    chapter: str
    declared: str
    detected: str
    sections: str


@dataclass(frozen=True)
class ReconciliationView:
    manual: str
    rows: tuple[ReconciliationRow, ...]


def md_escape(value: object) -> str:
    """Inline Markdown text: one line, no raw HTML, no table, link or emphasis syntax."""
    text = " ".join(str(value).split())
    text = _ENTITY.sub("&amp;", text).replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", text)


def md_url(url: str) -> str:
    """An autolink for http(s) URLs; anything else as escaped text."""
    href = safe_href(url)
    if href is None:
        return md_escape(url)
    return f"<{quote(href, safe=':/?#[]@!$&()*+,;=%~.-_')}>"


def redline_md(segments: Sequence[Segment]) -> str:
    """A Markdown redline: deletions struck through, insertions in bold, spacing kept."""
    parts = []
    for seg in segments:
        marker = {1: "**", -1: "~~"}.get(seg.op, "")
        text = md_escape(seg.text)
        lead = " " if seg.text[:1].isspace() else ""
        trail = " " if seg.text[-1:].isspace() else ""
        parts.append(f"{lead}{marker}{text}{marker}{trail}" if text else lead or trail)
    return re.sub(r" {2,}", " ", "".join(parts)).strip()


def _paragraphs(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n\s*\n|\n", text) if p.strip()]


def _when(moment: datetime) -> str:
    """A reader's date and time: "17 November 2026, 10:00 UTC"."""
    utc = moment.astimezone(UTC)
    return f"{utc.day} {utc:%B %Y, %H:%M} UTC"


def _environment(autoescape: bool) -> Environment:
    env = Environment(
        loader=PackageLoader("reports", "templates"),
        autoescape=autoescape,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters["md"] = md_escape
    env.filters["mdurl"] = md_url
    env.globals.update(
        safe_href=safe_href,
        heading=chapter_heading,
        redline_md=redline_md,
        paragraphs=_paragraphs,
        flag_spans=flag_spans,
    )
    env.filters["when"] = _when
    return env


_HTML_ENV = _environment(autoescape=True)
_TEXT_ENV = _environment(autoescape=False)  # Markdown: page content goes through |md


def render_drafts(
    entries: Sequence[AmendmentEntry], period: Period, fmt: str, *, next_update: str = ""
) -> str:
    """Drafted entries in the house layout: manual, month, category tables."""
    _check_format(fmt, ("html", "md", "json"))
    if fmt == "json":
        payload = {"period": _period_json(period), "entries": [_entry_json(e) for e in entries]}
        return _dump(payload)
    context = {"groups": _draft_groups(entries), "period": period, "next_update": next_update}
    return _render(f"drafts.{fmt}.j2", context)


def render_digest(digest: Digest, fmt: str) -> str:
    """The weekly report: summary, chart, redlines per section, not-checked pages."""
    _check_format(fmt, ("html", "md", "json"))
    if fmt == "json":
        return _dump(digest_json(digest))
    counts = summary_counts(digest)
    context = {
        "digest": digest,
        "summary_rows": _summary_rows(counts.__dict__),
        "charts": charts(digest),
        "manuals": manual_views(digest.changes),
        "reconciliations": [
            _reconciliation_view(r, digest.changes) for r in digest.reconciliations
        ],
    }
    return _render(f"digest.{fmt}.j2", context)


def render_change(change: DetectedChange, fmt: str) -> str:
    """One change for `amendwatch diff`: a text redline, a standalone HTML page or JSON."""
    _check_format(fmt, ("text", "html", "json"))
    if fmt == "json":
        return _dump(change_json(change))
    if fmt == "html":
        (view,) = manual_views((change,), context_words=40)[0].chapters
        return _render("change.html.j2", {"view": view})
    return change_text(change)


def render_version(chapter: Chapter, sections: Sequence[Section], bounds: str) -> str:
    """A chapter (or some of its sections) as it stood, for `amendwatch show --format html`."""
    return _render("version.html.j2", {"chapter": chapter, "sections": sections, "bounds": bounds})


def change_text(change: DetectedChange, context_words: int = 40) -> str:
    diff = change.diff
    lines = [
        f"{chapter_heading(diff, change.chapter_title)} ({change.kind_label})",
        *([change.reverted_to.text.capitalize()] if change.reverted_to else []),
        change.chapter_url,
        f"change {change.change_id} detected {change.detected_at.isoformat()}; "
        f"versions {diff.old_version} -> {diff.new_version}",
        f"content {change.old_content_hash or '-'} -> {change.new_content_hash or '-'}",
    ]
    if diff.revised_throughout:
        lines.append("revised throughout")
    for section in diff.sections:
        kinds = ", ".join(sorted(section.kinds))
        extra = " cosmetic" if section.cosmetic else ""
        flags = f" flags: {', '.join(sorted(section.flags))}" if section.flags else ""
        lines += ["", f"@@ {section.section.label} [{kinds}]{extra}{flags} @@"]
        marked = "".join(_text_marker(seg) for seg in redline(section.edits, context_words))
        if marked.strip():
            lines.append(marked.strip())
        lines += [f"+ link: {link.text} <{link.url}>" for link in section.links_added]
        lines += [f"- link: {link.text} <{link.url}>" for link in section.links_removed]
    return "\n".join(lines) + "\n"


def _text_marker(seg: Segment) -> str:
    if seg.op == 1:
        return "{+" + seg.text + "+}"
    if seg.op == -1:
        return "[-" + seg.text + "-]"
    return seg.text


def reversion_json(reverted_to: Reversion | None) -> dict[str, Any] | None:
    """``"flip_of"`` of a change's JSON: the version a flip returns to (None: not a flip)."""
    if reverted_to is None:
        return None
    return {
        "version": reverted_to.version_id,
        "valid_from": reverted_to.valid_from.isoformat(),
        "text": reverted_to.text,
    }


def changes_payload(
    changes: Sequence[DetectedChange], unconfirmed: Sequence[UnconfirmedChange]
) -> dict[str, Any]:
    """``changes --format json``: each chapter diff with its change's id, manual, title,
    detection time and ``flip_of``; and the changes a second fetch did not confirm."""
    items = []
    for change in changes:
        item = chapter_diff_to_json(change.diff)
        item.update(
            change_id=change.change_id,
            manual=change.manual,
            chapter_title=change.chapter_title,
            detected_at=change.detected_at.isoformat(),
            flip_of=reversion_json(change.reverted_to),
        )
        items.append(item)
    pending = [
        {
            "manual": u.manual,
            "url": u.url,
            "chapter_title": u.chapter_title,
            "observed_at": u.observed_at.isoformat(),
            "reason": u.reason,
            "captures": list(u.captures),
        }
        for u in unconfirmed
    ]
    return {"changes": items, "unconfirmed": pending}


def change_json(change: DetectedChange) -> dict[str, Any]:
    return {
        "kind": change.kind_label,
        "flip_of": reversion_json(change.reverted_to),
        "change_id": change.change_id,
        "manual": change.manual,
        "chapter_title": change.chapter_title,
        "chapter_number": change.chapter_number,
        "chapter_url": change.chapter_url,
        "detected_at": change.detected_at.isoformat(),
        "old_content_hash": change.old_content_hash,
        "new_content_hash": change.new_content_hash,
        "diff": chapter_diff_to_json(change.diff),
    }


def digest_json(digest: Digest) -> dict[str, Any]:
    return {
        "kind": digest.kind,
        "period": _period_json(digest.period),
        "generated_at": digest.generated_at.isoformat() if digest.generated_at else None,
        "summary": summary_counts(digest).__dict__,
        "changes": [change_json(c) for c in digest.changes],
        "failures": [_failure_json(f) for f in digest.failures],
        "history": [w.__dict__ for w in digest.history],
        "reconciliations": [_reconciliation_json(r) for r in digest.reconciliations],
        "chain_head": digest.chain_head,
    }


def _render(name: str, context: dict[str, Any]) -> str:
    env = _HTML_ENV if ".html." in name else _TEXT_ENV
    return env.get_template(name).render(**context)


def _check_format(fmt: str, allowed: tuple[str, ...]) -> None:
    if fmt not in allowed:
        raise InputError(f"unknown format: {fmt!r}", hint=f"use --format {' | '.join(allowed)}")


def _dump(payload: dict[str, Any]) -> str:
    return json.dumps(payload, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def _draft_groups(
    entries: Sequence[AmendmentEntry],
) -> list[tuple[str, list[tuple[str, list[AmendmentEntry]]]]]:
    manuals = list(dict.fromkeys(e.manual for e in entries))
    groups = []
    for manual in manuals:
        own = [e for e in entries if e.manual == manual]
        tables = [(h, [e for e in own if e.category == cat]) for cat, h in _HEADINGS]
        groups.append((manual, [(h, rows) for h, rows in tables if rows]))
    return groups


_SUMMARY_LABELS = {
    "chapters_changed": "Chapters changed",
    "chapters_new": "New chapters",
    "chapters_removed": "Chapters removed",
    "chapters_renamed": "Chapters renamed",
    "chapters_reverted": "Chapters reverted to an earlier version",
    "sections_changed": "Sections changed (not cosmetic)",
    "sections_renumbered": "Sections only renumbered or moved",
    "links_changed": "Links added or removed",
    "cosmetic_changes": "Cosmetic changes (collapsed)",
    "pages_not_checked": "Pages not checked",
}


def _summary_rows(counts: dict[str, int]) -> list[tuple[str, int]]:
    return [
        (_SUMMARY_LABELS.get(name, name.replace("_", " ").capitalize()), value)
        for name, value in counts.items()
    ]


def _period_json(period: Period) -> dict[str, str]:
    return {
        "key": period.key,
        "label": period.label,
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
    }


def _entry_json(entry: AmendmentEntry) -> dict[str, Any]:
    payload = dict(entry.__dict__)
    payload["sections_cited"] = list(entry.sections_cited)
    payload["change_ids"] = list(entry.change_ids)
    payload["sentences"] = [
        {"text": s.text, "change_id": s.change_id, "sections": list(s.sections)}
        for s in entry.sentences
    ]
    return payload


def _failure_json(failure: FailedCheck) -> dict[str, Any]:
    payload = dict(failure.__dict__)
    payload["observed_at"] = failure.observed_at.isoformat()
    return payload


def _reconciliation_json(rec: Reconciliation) -> dict[str, Any]:
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


def _reconciliation_view(
    rec: Reconciliation, changes: Sequence[DetectedChange]
) -> ReconciliationView:
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
            found = f"detected {_day(when[change_id])} ({found})"
        rows.append(ReconciliationRow(entry.chapter, entry.details, found, marks))
    for entry in rec.declared_only:
        rows.append(ReconciliationRow(entry.chapter, entry.details, "no change detected", ""))
    for entry in rec.gone:
        rows.append(ReconciliationRow(entry.chapter, entry.details, "chapter no longer exists", ""))
    for change_id in rec.detected_only:
        title = titles.get(change_id, f"change {change_id}")
        rows.append(ReconciliationRow(title, "not declared", f"change {change_id} (silent)", ""))
    return ReconciliationView(rec.manual, tuple(rows))


def _day(moment: datetime) -> str:
    """ "9 Nov": the day a matched change was detected."""
    return f"{moment.day} {moment:%b}"
