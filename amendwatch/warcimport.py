"""WARC import as history (``amendwatch import-warc``): archived captures, oldest first,
become observations marked ``imported``; a chapter's captures older than its first version
become history before it. Functions take an open :class:`amendwatch.api.Amendwatch`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from amendwatch.api import Amendwatch
from amendwatch.errors import ExtractError, NotFoundError
from differ.chapter import diff_chapters
from scraper.checks import judge_page
from scraper.discover import parse_contents
from scraper.extract import extract_chapter
from scraper.fetch import decode_body
from scraper.models import Chapter, ChapterRef, Page
from store import backfill, history, manuals, observations, runs, versions
from store.models import Manual, StoredVersion

NOT_NEWER = "older than the chapter's latest observation (would interleave with monitored history)"


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
    settled = _settled(imp, page, target, chapter, latest)
    if settled is not None:
        return settled
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


def _settled(
    imp: _Importer,
    page: Page,
    target: backfill.Target,
    chapter: Chapter,
    previous: StoredVersion | None,
) -> str | None:
    """The outcome of a capture that makes no version (judged not ok, or the same content as
    ``previous``), recorded; None when it is a new version."""
    old = previous.chapter if previous else None
    judgement = judge_page(page, chapter, old, min_fraction=imp.app.settings.min_fraction)
    if judgement.outcome != "ok":
        imp.record(page, target, judgement.outcome, judgement.reason)
        return judgement.outcome
    if previous is not None and previous.content_hash == chapter.content_hash:
        imp.record(page, target, "unchanged")
        versions.mark_seen(imp.app.db, previous.id, page.fetched_at)
        return "unchanged"
    return None


def _prepend(
    imp: _Importer, page: Page, chapter_id: int, chapter: Chapter, target: backfill.Target
) -> str:
    """A capture older than the chapter's monitored history: history before it."""
    db, head = imp.app.db, imp.heads[chapter_id]
    assert head is not None
    made = imp.before.setdefault(chapter_id, [])
    prev = made[-1] if made else None
    old = prev.chapter if prev else None
    settled = _settled(imp, page, target, chapter, prev)
    if settled is not None:
        return settled
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
