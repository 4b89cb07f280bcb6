"""Render drafts, digests and single changes as HTML, Markdown, JSON or text (Jinja2)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, tzinfo
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, StrictUndefined

from amendwatch.errors import InputError
from differ.models import chapter_diff_to_json
from reports.digest import (
    Segment,
    SummaryCounts,
    chapter_heading,
    chapter_view,
    charts,
    manual_views,
    redline,
    safe_href,
    summary_counts,
)
from reports.importance import GROUP_LABELS
from reports.models import (
    AmendmentEntry,
    DetectedChange,
    Digest,
    FailedCheck,
    ManualInfo,
    Period,
    Reversion,
    ReviewNote,
    UnconfirmedChange,
)
from reports.recview import reconciliation_json, reconciliation_view
from reports.redline import flag_spans
from reports.timefmt import iso, when
from scraper.models import Chapter, Section

_HEADINGS = (
    ("updated", "Updated Chapters"),
    ("new", "New Chapters and Features"),
    ("removed", "Removed Chapters"),
)
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|])")
_ENTITY = re.compile(r"&(?=#?\w+;)")


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
    """A Markdown redline: deletions struck through, insertions in bold, spacing kept; a
    replacement reads "~~15~~ → **10**"."""
    parts = []
    previous = 0
    for seg in segments:
        marker = {1: "**", -1: "~~"}.get(seg.op, "")
        text = md_escape(seg.text)
        lead = " " if seg.text[:1].isspace() else ""
        trail = " " if seg.text[-1:].isspace() else ""
        if seg.op == 1 and previous == -1:
            lead = " → "
        parts.append(f"{lead}{marker}{text}{marker}{trail}" if text else lead or trail)
        previous = seg.op
    return re.sub(r" {2,}", " ", "".join(parts)).strip()


def _paragraphs(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n\s*\n|\n", text) if p.strip()]


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
        group_labels=GROUP_LABELS,
    )
    env.filters["when"] = when
    env.filters["iso"] = iso
    return env


_HTML_ENV = _environment(autoescape=True)
_TEXT_ENV = _environment(autoescape=False)  # Markdown: page content goes through |md


def render_drafts(
    entries: Sequence[AmendmentEntry],
    period: Period,
    fmt: str,
    *,
    next_update: str = "",
    manuals: Sequence[ManualInfo] = (),
) -> str:
    """Drafted entries in the house layout: manual (its heading: the display name, else the
    short name), month, category tables."""
    _check_format(fmt, ("html", "md", "json"))
    if fmt == "json":
        payload = {"period": _period_json(period), "entries": [_entry_json(e) for e in entries]}
        return _dump(payload)
    groups = _draft_groups(entries, _headings(manuals))
    context = {"groups": groups, "period": period, "next_update": next_update}
    return _render(f"drafts.{fmt}.j2", context)


def render_digest(
    digest: Digest, fmt: str, *, tz: tzinfo = UTC, manuals: Sequence[ManualInfo] = ()
) -> str:
    """The weekly report: summary and chart, each chapter (most important first) opening with
    its drafted sentence, the publisher's amendments compared, pages not checked, then the
    evidence and the chain head. Times are shown in ``tz``; ``manuals`` gives each manual's
    heading and the week its chart starts."""
    _check_format(fmt, ("html", "md", "json"))
    if fmt == "json":
        return _dump(digest_json(digest))
    counts = summary_counts(digest)
    headings = _headings(manuals)
    context = {
        "digest": digest,
        "tz": tz,
        "summary_rows": _summary_rows(counts),
        "not_counted": not_counted_text(counts),
        "charts": charts(digest, manuals),
        "manuals": manual_views(digest.changes, manuals=manuals, reviews=dict(digest.reviews)),
        "reconciliations": [
            reconciliation_view(r, digest.changes, tz=tz, headings=headings)
            for r in digest.reconciliations
        ],
        "headings": headings,
    }
    return _render(f"digest.{fmt}.j2", context)


def render_change(change: DetectedChange, fmt: str, *, tz: tzinfo = UTC) -> str:
    """One change for `amendwatch diff`: a text redline, a standalone HTML page or JSON."""
    _check_format(fmt, ("text", "html", "json"))
    if fmt == "json":
        return _dump(change_json(change))
    if fmt == "html":
        view = chapter_view(change, context_words=40)
        return _render("change.html.j2", {"view": view, "tz": tz})
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
        "changes": [
            {**change_json(c), "review": _review_json(dict(digest.reviews).get(c.change_id))}
            for c in digest.changes
        ],
        "failures": [_failure_json(f) for f in digest.failures],
        "history": [w.__dict__ for w in digest.history],
        "reconciliations": [reconciliation_json(r) for r in digest.reconciliations],
        "chain_head": digest.chain_head,
    }


def _review_json(review: ReviewNote | None) -> dict[str, Any] | None:
    if review is None:
        return None
    return {
        "status": review.status,
        "impact": review.impact,
        "owner": review.owner,
        "who": review.who,
        "at": review.at.isoformat(),
    }


def _render(name: str, context: dict[str, Any]) -> str:
    env = _HTML_ENV if ".html." in name else _TEXT_ENV
    return env.get_template(name).render(**context)


def _check_format(fmt: str, allowed: tuple[str, ...]) -> None:
    if fmt not in allowed:
        raise InputError(f"unknown format: {fmt!r}", hint=f"use --format {' | '.join(allowed)}")


def _dump(payload: dict[str, Any]) -> str:
    return json.dumps(payload, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def _headings(manuals: Sequence[ManualInfo]) -> dict[str, str]:
    return {m.name: m.heading for m in manuals}


def _draft_groups(
    entries: Sequence[AmendmentEntry], headings: Mapping[str, str]
) -> list[tuple[str, list[tuple[str, list[AmendmentEntry]]]]]:
    manuals = list(dict.fromkeys(e.manual for e in entries))
    groups = []
    for manual in manuals:
        own = [e for e in entries if e.manual == manual]
        tables = [(h, [e for e in own if e.category == cat]) for cat, h in _HEADINGS]
        groups.append((headings.get(manual, manual), [(h, rows) for h, rows in tables if rows]))
    return groups


_SUMMARY_LABELS = {
    "chapters_changed": "Chapters changed",
    "chapters_new": "New chapters",
    "chapters_removed": "Chapters removed",
    "chapters_renamed": "Chapters renamed",
    "chapters_reverted": "Chapters reverted to an earlier version",
    "chapters_with_duties": "Chapters with changed duties, timescales or numbers",
    "sections_changed": "Sections changed in existing chapters",
    "sections_renumbered": "Sections only renumbered or moved",
    "links_changed": "Links added or removed",
    "pages_not_checked": "Pages not checked",
}


def _summary_rows(counts: SummaryCounts) -> list[tuple[str, int]]:
    values = counts.__dict__
    return [(label, values[name]) for name, label in _SUMMARY_LABELS.items()]


def not_counted_text(counts: SummaryCounts) -> str:
    """ "Not counted above: 1 chapter with cosmetic changes only; ..." ("" when none)."""
    parts = []
    if counts.not_counted_cosmetic_only:
        parts.append(_chapters(counts.not_counted_cosmetic_only, "with cosmetic changes only"))
    if counts.not_counted_stamp_only:
        parts.append(_chapters(counts.not_counted_stamp_only, "whose date stamp alone changed"))
    return f"Not counted above: {'; '.join(parts)}." if parts else ""


def _chapters(count: int, what: str) -> str:
    return f"{count} chapter{'' if count == 1 else 's'} {what}"


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
