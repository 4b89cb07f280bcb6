"""The Python API of the audit and evidence operations (the CLI in ``cli_audit`` is thin over
it): a whole manual as of a date, WARC export and import, evidence packs, re-derivation, and
the Datasette browser. Functions take an open :class:`amendwatch.api.Amendwatch`. The WARC
import lives in :mod:`amendwatch.warcimport` (``import_warc`` and ``ImportResult`` are
re-exported here).
"""

from __future__ import annotations

import html
import importlib.metadata
import importlib.util
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

from amendwatch.api import Amendwatch
from amendwatch.bounds import bounds_text
from amendwatch.deepverify import extract_capture
from amendwatch.errors import InputError
from amendwatch.timestamping import pack_files
from amendwatch.warcimport import ImportResult, import_warc
from differ.align import align_sections
from reports.render import render_change
from scraper.discover import parse_contents
from scraper.fetch import decode_body
from scraper.listing import keep_known_urls
from scraper.models import Chapter, ChapterRef, Page
from scraper.text import decode_bytes
from store import export, history, manuals, observations, rederive
from store.chainhead import chain_head
from store.models import Manual, StoredVersion
from store.packdoc import verify_md
from store.packseals import VERIFY_SECTION, pack_seals
from store.readmodels import AsOf, ChapterState
from store.rows import fetch_all, to_db_time

__all__ = [
    "METADATA_FILE",
    "ImportResult",
    "ManualAsOf",
    "browse_command",
    "browse_metadata",
    "export_evidence",
    "export_warc",
    "import_warc",
    "manual_as_of",
    "manual_as_of_json",
    "manual_as_of_text",
    "rederive_versions",
    "software",
]

METADATA_FILE = Path(__file__).parent / "browse" / "metadata.json"


def software() -> str:
    try:
        return f"amendwatch {importlib.metadata.version('amendwatch')}"
    except importlib.metadata.PackageNotFoundError:
        return "amendwatch"


# show-manual ---------------------------------------------------------------------------
@dataclass(frozen=True)
class ManualAsOf:
    manual: Manual
    at: datetime
    listed: tuple[ChapterRef, ...]  # the contents page as last captured at or before ``at``
    chapters: tuple[ChapterState, ...]  # every chapter with a version at ``at``


def manual_as_of(app: Amendwatch, name: str, at: datetime) -> ManualAsOf:
    manual = manuals.get_manual(app.db, name)
    page = observations.latest_capture(
        app.db, manual.id, "contents", at + timedelta(microseconds=1)
    )
    states = history.manual_as_of(app.db, manual.id, at)
    listed: tuple[ChapterRef, ...] = ()
    if page is not None:  # read by today's rules; a stored decorated URL keeps its record
        contents = parse_contents(
            decode_body(page),
            page.final_url or page.url,
            hosts=manual.allowed_hosts,
            amendments_url=manual.amendments_url,
        )
        listed = keep_known_urls(contents, [s.chapter.url for s in states]).chapters
    return ManualAsOf(manual, at, tuple(listed), states)


def _bounds(as_of: AsOf, removed_at: datetime | None) -> str:
    return bounds_text(as_of, removed_at)


def manual_as_of_json(result: ManualAsOf) -> dict[str, Any]:
    listed = {ref.url: ref for ref in result.listed}
    items = []
    for state in result.chapters:
        version = state.as_of.version
        assert version is not None
        ref = listed.get(state.chapter.url)
        items.append(
            {
                "url": state.chapter.url,
                "number": ref.number if ref else state.chapter.number,
                "title": version.chapter.title,
                "listed_title": ref.title if ref else None,
                "listed": ref is not None if result.listed else None,
                "version": version.id,
                "content_hash": version.content_hash,
                "bounds": _bounds(state.as_of, state.chapter.removed_at),
                "removed_at": to_db_time(state.chapter.removed_at)
                if state.chapter.removed_at
                else None,
            }
        )
    return {
        "manual": result.manual.name,
        "as_of": result.at.isoformat(),
        "contents_captured": bool(result.listed),
        "chapters": items,
    }


def manual_as_of_text(result: ManualAsOf) -> str:
    data = manual_as_of_json(result)
    if not data["chapters"]:
        return f"{result.manual.name}: not yet observed on {result.at.isoformat()}"
    lines = [f"{result.manual.name} as of {result.at.isoformat()}"]
    for item in data["chapters"]:
        gone = f"  [removed {item['removed_at'][:10]}]" if item["removed_at"] else ""
        if item["listed"] is False:
            gone += "  [not on the contents page]"
        lines.append(
            f"  {item['number'] or '-':<6} {item['title']}  v{item['version']}"
            f"  ({item['bounds']}){gone}"
        )
    return "\n".join(lines)


# WARC export ---------------------------------------------------------------------------
def export_warc(
    app: Amendwatch,
    out: BinaryIO,
    *,
    chapter: str | None = None,
    manual: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    filename: str = "amendwatch.warc.gz",
) -> export.WarcSummary:
    chapter_id = app.find_chapter(chapter).id if chapter else None
    manual_id = manuals.get_manual(app.db, manual).id if manual else None
    scope = export.WarcScope(chapter_id=chapter_id, manual_id=manual_id, start=start, end=end)
    return export.export_warc(app.db, scope, out, filename=filename, software=software())


# evidence pack -------------------------------------------------------------------------
def _capture_files(app: Amendwatch, prefix: str, observation_id: int | None) -> dict[str, bytes]:
    """The observation record, the capture's exact bytes under a name no browser runs
    (``capture.html.txt``) and an inert view of it (``capture-view.html``)."""
    if observation_id is None:
        return {}
    record = export.observation_record(app.db, observation_id)
    files = {f"{prefix}/observation.json": json.dumps(record, indent=2).encode()}
    if record["body_sha256"]:
        body = observations.get_body(app.db, record["body_sha256"])
        files[f"{prefix}/capture.html.txt"] = body
        files[f"{prefix}/capture-view.html"] = capture_view(body, record).encode()
    return files


# scripts, frames, forms, fonts, images and connections all fall back to 'none'
VIEW_POLICY = "default-src 'none'; style-src 'unsafe-inline'; form-action 'none'"


def capture_view(body: bytes, record: dict[str, Any]) -> str:
    """An HTML page showing a capture that cannot run anything: the page is escaped into the
    ``srcdoc`` of an iframe sandboxed without ``allow-scripts``, under a Content-Security-
    Policy (inherited by the iframe) that allows no script and loads nothing from anywhere."""
    headers = {str(k).lower(): str(v) for k, v in dict(record.get("headers") or {}).items()}
    text = decode_bytes(body, headers.get("content-type"))
    url = html.escape(str(record.get("final_url") or record.get("url") or ""))
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{VIEW_POLICY}">'
        f"<title>Capture of {url} (inert view)</title><style>body{{font:14px sans-serif;"
        "margin:1rem}iframe{width:100%;height:80vh;border:1px solid #888}</style></head><body>"
        f"<p>Capture of <code>{url}</code> observed {html.escape(str(record['observed_at']))}"
        f", SHA-256 <code>{html.escape(str(record['body_sha256']))}</code>. Shown inert: no"
        " script runs and nothing is loaded. The exact bytes are in"
        " <code>capture.html.txt</code>.</p>"
        f'<iframe sandbox="" referrerpolicy="no-referrer" srcdoc="{html.escape(text)}">'
        "</iframe></body></html>"
    )


def _changes_and_drafts(
    app: Amendwatch, chapter_id: int, start: str, end: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    found = fetch_all(
        app.db,
        "SELECT id, detected_at, kind, old_version_id, new_version_id, summary FROM changes"
        " WHERE chapter_id = ? AND detected_at > ? AND detected_at <= ? ORDER BY detected_at",
        (chapter_id, start, end),
    )
    ids = {row["id"] for row in found}
    drafts = [
        {**row, "change_ids": json.loads(row["change_ids"])}
        for row in fetch_all(app.db, "SELECT * FROM drafts ORDER BY id")
        if ids & set(json.loads(row["change_ids"]))
    ]
    return found, drafts


def _validity(version: StoredVersion) -> dict[str, Any]:
    """When a version took effect (``valid_from``), when the next one did (``valid_to``; None
    for the current version) and when it was last seen unchanged."""
    return {
        "version": version.id,
        "content_hash": version.content_hash,
        "valid_from": to_db_time(version.valid_from),
        "valid_to": to_db_time(version.valid_to) if version.valid_to else None,
        "last_seen": to_db_time(version.last_seen),
    }


def _relied_on(
    app: Amendwatch,
    chapter_id: int,
    versions: tuple[StoredVersion, StoredVersion],
    found: list[dict[str, Any]],
    drafts: list[dict[str, Any]],
) -> list[tuple[str, int]]:
    """The sealed rows an evidence pack's answers rest on."""
    ids = sorted({v.id for v in versions})
    marks = ", ".join("?" * len(ids))
    sections = fetch_all(app.db, f"SELECT id FROM sections WHERE version_id IN ({marks})", ids)
    return [
        ("chapters", chapter_id),
        *(("versions", i) for i in ids),
        *(("sections", int(row["id"])) for row in sections),
        *(("changes", int(row["id"])) for row in found),
        *(("drafts", int(row["id"])) for row in drafts),
    ]


def export_evidence(
    app: Amendwatch, ref: str, from_ref: str | None, to_ref: str | None, out: BinaryIO
) -> dict[str, Any]:
    """An evidence pack (zip): both captures with their observation records, the rendered
    section diff (html, text, json), the changes and drafted entries between the two versions,
    the chapter's observations in between, the chain head with the RFC 3161 tokens of heads
    at or before it (``timestamps/``), a ``VERIFY.md`` telling a third party how to check it,
    and a manifest with the SHA-256 of every file."""
    chapter = app.find_chapter(ref)
    old = app.resolve_version(chapter, from_ref, latest=False)
    new = app.resolve_version(chapter, to_ref, latest=True)
    change = app.diff(chapter.url, f"v{old.id}", f"v{new.id}")
    start, end = to_db_time(old.valid_from), to_db_time(new.last_seen)
    found, drafts = _changes_and_drafts(app, chapter.id, start, to_db_time(new.valid_from))
    head = chain_head(app.db)
    stamp_files, stamps = pack_files(app.db, head)
    seen = fetch_all(
        app.db,
        "SELECT id FROM observations WHERE chapter_id = ? AND observed_at >= ?"
        " AND observed_at <= ? ORDER BY id",
        (chapter.id, start, end),
    )
    summary = {
        "chapter": {"url": chapter.url, "title": new.chapter.title},
        "before": _validity(old),
        "after": _validity(new),
        "chain_head": {"count": head.count, "hash": head.hash, "text": head.text},
        "timestamps": [stamp.record() for stamp in stamps],
        "generated_by": software(),
    }
    files: dict[str, bytes] = {
        **_capture_files(app, "before", old.observation_id),
        **_capture_files(app, "after", new.observation_id),
        "diff/section-diff.html": render_change(change, "html").encode(),
        "diff/section-diff.txt": render_change(change, "text").encode(),
        "diff/section-diff.json": render_change(change, "json").encode(),
        "changes.json": json.dumps(found, indent=2).encode(),
        "drafts.json": json.dumps(drafts, indent=2).encode(),
        "observations.json": json.dumps(
            [export.observation_record(app.db, row["id"]) for row in seen], indent=2
        ).encode(),
        "summary.json": json.dumps(summary, indent=2).encode(),
        "VERIFY.md": (verify_md(head, software(), stamps) + VERIFY_SECTION).encode(),
        "seals.json": pack_seals(app.db, _relied_on(app, chapter.id, (old, new), found, drafts)),
        **stamp_files,
    }
    return export.write_pack(out, files, new.valid_from)


# rederive ------------------------------------------------------------------------------
def rederive_versions(
    app: Amendwatch,
    chapter: str | None = None,
    *,
    selector: str | None = None,
    apply: bool = False,
    extract: rederive.Extractor | None = None,
    rule: str | None = None,
) -> tuple[rederive.Derivation, ...]:
    """Re-run extraction on the stored captures with the manual's rules (its content
    selector, ignore selectors and text patterns; ``selector`` overrides its selector)."""

    def default(page: Page, rules: rederive.ExtractionRules) -> Chapter:
        return extract_capture(page, rules, selector)

    def align(old: Chapter, new: Chapter) -> Sequence[tuple[int, int]]:
        return align_sections(old.sections, new.sections).pairs

    label = rule or (f"{software()} selector={selector}" if selector else software())
    chapter_id = app.find_chapter(chapter).id if chapter else None
    return rederive.rederive(
        app.db,
        extract or default,
        rule=label,
        at=app.clock(),
        chapter_id=chapter_id,
        apply=apply,
        align=align,
    )


# browse --------------------------------------------------------------------------------
def browse_metadata(db_path: Path) -> dict[str, Any]:
    """The packaged Datasette metadata, keyed by this database's name (its file stem)."""
    data: dict[str, Any] = json.loads(METADATA_FILE.read_text(encoding="utf-8"))
    data["databases"] = {db_path.stem: data["databases"]["amendwatch"]}
    return data


def browse_command(db_path: Path, metadata_path: Path, port: int) -> list[str]:
    """The ``datasette serve`` command line (read-only SQL, loopback only, with the
    ``amendwatch_*`` SQL functions of browse/plugins)."""
    if importlib.util.find_spec("datasette") is None:
        raise InputError(
            "datasette is not installed", "pip install 'amendwatch[browse]' to use browse"
        )
    plugins = METADATA_FILE.parent / "plugins"  # SQL functions that read through the store
    return [
        sys.executable, "-m", "datasette", "serve", str(db_path), "--metadata",
        str(metadata_path), "--plugins-dir", str(plugins), "-h", "127.0.0.1", "-p", str(port),
    ]  # fmt: skip
