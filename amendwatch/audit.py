"""The Python API of the audit and evidence operations (the CLI in ``cli_audit`` is thin over
it): a whole manual as of a date, WARC export and import, evidence packs, re-derivation, and
the Datasette browser. Functions take an open :class:`amendwatch.api.Amendwatch`.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

from amendwatch.api import Amendwatch
from amendwatch.bounds import bounds_text
from amendwatch.errors import ExtractError, InputError, NotFoundError
from differ.align import align_sections
from differ.chapter import diff_chapters
from reports.render import render_change
from scraper.checks import judge_page
from scraper.discover import parse_contents
from scraper.extract import extract_chapter
from scraper.fetch import decode_body
from scraper.models import Chapter, ChapterRef, Page
from store import backfill, export, history, manuals, observations, rederive, runs, versions
from store.models import AsOf, ChapterState, Manual, StoredVersion
from store.rows import fetch_all, to_db_time

METADATA_FILE = Path(__file__).parent / "browse" / "metadata.json"
NOT_NEWER = "older than the chapter's latest observation (would interleave with monitored history)"


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
    listed = parse_contents(decode_body(page), page.final_url or page.url).chapters if page else ()
    return ManualAsOf(manual, at, tuple(listed), history.manual_as_of(app.db, manual.id, at))


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
    if observation_id is None:
        return {}
    record = export.observation_record(app.db, observation_id)
    files = {f"{prefix}/observation.json": json.dumps(record, indent=2).encode()}
    if record["body_sha256"]:
        body = observations.get_body(app.db, record["body_sha256"])
        files[f"{prefix}/capture.html"] = body
    return files


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


def export_evidence(
    app: Amendwatch, ref: str, from_ref: str | None, to_ref: str | None, out: BinaryIO
) -> dict[str, Any]:
    """An evidence pack (zip): both captures with their observation records, the rendered
    section diff (html, text, json), the changes and drafted entries between the two versions,
    the chapter's observations in between, and a manifest with the SHA-256 of every file."""
    chapter = app.find_chapter(ref)
    old = app.resolve_version(chapter, from_ref, latest=False)
    new = app.resolve_version(chapter, to_ref, latest=True)
    change = app.diff(chapter.url, f"v{old.id}", f"v{new.id}")
    start, end = to_db_time(old.valid_from), to_db_time(new.last_seen)
    found, drafts = _changes_and_drafts(app, chapter.id, start, to_db_time(new.valid_from))
    seen = fetch_all(
        app.db,
        "SELECT id FROM observations WHERE chapter_id = ? AND observed_at >= ?"
        " AND observed_at <= ? ORDER BY id",
        (chapter.id, start, end),
    )
    summary = {
        "chapter": {"url": chapter.url, "title": new.chapter.title},
        "before": {"version": old.id, "content_hash": old.content_hash, "valid_from": start},
        "after": {"version": new.id, "content_hash": new.content_hash, "valid_from": end},
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
    }
    return export.write_pack(out, files, new.valid_from)


# WARC import ---------------------------------------------------------------------------
@dataclass(frozen=True)
class ImportResult:
    run_id: int
    imported: tuple[tuple[str, str], ...]  # (url, outcome)
    skipped: tuple[backfill.Skipped, ...]


@dataclass(frozen=True)
class _Importer:
    app: Amendwatch
    manuals: tuple[Manual, ...]
    attach: Manual | None
    run_id: int
    listed: dict[str, ChapterRef]
    heads: dict[int, StoredVersion | None] = field(default_factory=dict)
    before: dict[int, list[StoredVersion]] = field(default_factory=dict)

    def head(self, chapter_id: int) -> StoredVersion | None:
        """The chapter's first version when the import began (None: no history yet)."""
        if chapter_id not in self.heads:
            first = backfill.first_version_id(self.app.db, chapter_id)
            self.heads[chapter_id] = history.get_version(self.app.db, first) if first else None
        return self.heads[chapter_id]

    def record(self, page: Page, target: backfill.Target, outcome: str, reason: str = "") -> int:
        return observations.record_observation(
            self.app.db,
            page,
            manual_id=target.manual_id,
            chapter_id=target.chapter_id,
            role=target.role,
            outcome=outcome,
            reason=reason,
            run_id=self.run_id,
            imported=True,
        )

    def extract(self, page: Page, target: backfill.Target) -> Chapter:
        manual = next(m for m in self.manuals if m.id == target.manual_id)
        return extract_chapter(
            decode_body(page),
            page.final_url or page.url,
            selector=manual.content_selector,
            ignore=manual.ignore_selectors,
            ignore_text=manual.ignore_patterns,
        )


def _import_page(imp: _Importer, capture: backfill.Capture) -> str:
    page, db = capture.page, imp.app.db
    if backfill.already_stored(db, page):
        return "skipped: already stored"
    target = backfill.match_capture(db, page.url, imp.manuals)
    if target is None and imp.attach is not None:
        target = backfill.Target("chapter", imp.attach.id, None)
    if target is None:
        return "skipped: not a known manual page or chapter (use --manual NAME to attach)"
    if target.role != "chapter":
        if target.role == "contents":
            for ref in parse_contents(decode_body(page), page.final_url or page.url).chapters:
                imp.listed[ref.url] = ref
        # an archived contents page never makes the next live run a non-baseline run
        self_outcome = "archived" if target.role == "contents" else "ok"
        imp.record(page, target, self_outcome)
        return self_outcome
    return _import_chapter(imp, page, target)


def _import_chapter(imp: _Importer, page: Page, target: backfill.Target) -> str:
    db = imp.app.db
    try:
        chapter: Chapter | None = imp.extract(page, target)
    except ExtractError as exc:
        if target.chapter_id is None:
            return f"skipped: {exc}"
        imp.record(page, target, "suspect", str(exc))
        return "suspect"
    assert chapter is not None
    if target.chapter_id is None:
        ref = imp.listed.get(page.url) or ChapterRef(url=page.url, title=chapter.title)
        row = versions.upsert_chapter(db, target.manual_id, ref, page.fetched_at)
        target = replace(target, chapter_id=row.id)
    assert target.chapter_id is not None
    head = imp.head(target.chapter_id)
    if head is not None and page.fetched_at < head.valid_from:
        return _prepend(imp, page, target.chapter_id, chapter, target)
    span = backfill.chapter_span(db, target.chapter_id)
    if span is not None and page.fetched_at <= span[1]:
        return f"skipped: {NOT_NEWER}"
    latest = versions.latest_version(db, target.chapter_id)
    previous = latest.chapter if latest else None
    judgement = judge_page(page, chapter, previous, min_fraction=imp.app.settings.min_fraction)
    if judgement.outcome != "ok":
        imp.record(page, target, judgement.outcome, judgement.reason)
        return judgement.outcome
    if latest is not None and latest.content_hash == chapter.content_hash:
        imp.record(page, target, "unchanged")
        versions.mark_seen(db, latest.id, page.fetched_at)
        return "unchanged"
    observation_id = imp.record(page, target, "new-version")
    diff = diff_chapters(
        previous, chapter, old_version=latest.id if latest else None, new_version=None
    )
    stored = versions.add_version(
        db,
        target.chapter_id,
        chapter,
        observation_id=observation_id,
        observed_at=page.fetched_at,
        previous=latest,
        pairs=diff.pairs,
    )
    if latest is not None:
        versions.record_change(
            db,
            replace(diff, new_version=stored.id),
            chapter_id=target.chapter_id,
            detected_at=page.fetched_at,
            run_id=imp.run_id,
        )
    return "new-version"


def _prepend(
    imp: _Importer, page: Page, chapter_id: int, chapter: Chapter, target: backfill.Target
) -> str:
    """A capture older than the chapter's monitored history: history before it."""
    db, head = imp.app.db, imp.heads[chapter_id]
    assert head is not None
    made = imp.before.setdefault(chapter_id, [])
    prev = made[-1] if made else None
    old = prev.chapter if prev else None
    judgement = judge_page(page, chapter, old, min_fraction=imp.app.settings.min_fraction)
    if judgement.outcome != "ok":
        imp.record(page, target, judgement.outcome, judgement.reason)
        return judgement.outcome
    if prev is not None and prev.content_hash == chapter.content_hash:
        imp.record(page, target, "unchanged")
        versions.mark_seen(db, prev.id, page.fetched_at)
        return "unchanged"
    observation_id = imp.record(page, target, "new-version")
    diff = diff_chapters(old, chapter, old_version=prev.id if prev else None, new_version=None)
    version_id = backfill.insert_history_version(
        db, chapter_id, chapter, observation_id=observation_id, observed_at=page.fetched_at,
        valid_to=head.valid_from, previous=prev, pairs=diff.pairs,
    )  # fmt: skip
    made.append(history.get_version(db, version_id))
    if prev is not None:
        versions.record_change(
            db, replace(diff, new_version=version_id), chapter_id=chapter_id,
            detected_at=page.fetched_at, run_id=imp.run_id,
        )  # fmt: skip
    return "new-version"


def _join_histories(imp: _Importer) -> None:
    """Link each chapter's imported history to its monitored history (lineage, change)."""
    for chapter_id, made in imp.before.items():
        head, last = imp.heads[chapter_id], made[-1]
        assert head is not None
        diff = diff_chapters(last.chapter, head.chapter, old_version=last.id, new_version=head.id)
        mapping = {last.lineage[old]: head.lineage[new] for old, new in diff.pairs}
        backfill.join_history(imp.app.db, [v.id for v in made], head, mapping)
        if last.content_hash != head.content_hash:
            versions.record_change(
                imp.app.db, diff, chapter_id=chapter_id, detected_at=head.valid_from,
                run_id=imp.run_id,
            )  # fmt: skip


def import_warc(app: Amendwatch, paths: Sequence[Path], manual: str | None = None) -> ImportResult:
    """Backfill from archived captures, oldest first, marked ``imported``; a chapter's
    captures older than its first version become history before it; captures between its
    first and latest observations are refused (see docs/audit.md)."""
    captures, skipped = backfill.read_warcs(paths)
    attach = manuals.get_manual(app.db, manual) if manual else None
    chosen = (attach,) if attach else tuple(manuals.list_manuals(app.db))
    if not chosen:
        raise NotFoundError("no manuals to import into", "add one with `amendwatch manual add`")
    with app.exclusive("WARC import"):
        return _import_captures(app, captures, skipped, chosen, attach)


def _import_captures(
    app: Amendwatch,
    captures: Sequence[backfill.Capture],
    skipped: list[backfill.Skipped],
    chosen: tuple[Manual, ...],
    attach: Manual | None,
) -> ImportResult:
    run_id = runs.start_run(app.db, "import", app.clock())
    imp = _Importer(app, chosen, attach, run_id, {})
    done: list[tuple[str, str]] = []
    for capture in captures:
        outcome = _import_page(imp, capture)
        if outcome.startswith("skipped: "):
            skipped.append(backfill.Skipped(capture.source, outcome.removeprefix("skipped: ")))
        else:
            done.append((capture.page.url, outcome))
    _join_histories(imp)
    runs.finish_run(
        app.db,
        run_id,
        now=app.clock(),
        checked=len(done),
        changed=0,
        failed=len(skipped),
        errors=[],
        status="ok",
    )
    return ImportResult(run_id, tuple(done), tuple(skipped))


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
        return extract_chapter(
            decode_body(page),
            page.final_url or page.url,
            selector=selector or rules.selector,
            ignore=rules.ignore,
            ignore_text=rules.ignore_text,
        )

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
