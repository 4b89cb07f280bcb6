"""The Python API that the CLI, the scheduler and the demo are thin layers over.

``Amendwatch`` holds the injected database, settings, clock and HTTP transport; each
method is one user-level operation and returns frozen dataclasses or rendered text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import httpx
from sqlite_utils import Database

from amendwatch.config import Settings
from amendwatch.errors import InputError, NotFoundError
from amendwatch.pipeline import ChapterOutcome
from amendwatch.snapshotrun import Clock, RunHooks, RunReport, fixed_clock, record_run
from store import lifecycle, lock, manuals, runs
from store.db import open_db, open_db_readonly
from store.models import ChapterRow, Manual, RunRow, StoredVersion, VerifyResult
from store.seals import seal_on_close
from store.timeorder import check_run_time

if TYPE_CHECKING:  # imported where used: `snapshot` loads no report, diff or history code
    from reports.models import (
        AmendmentEntry,
        DetectedChange,
        ManualInfo,
        Period,
        Reconciliation,
        ReviewNote,
        UnconfirmedChange,
    )
    from scraper.models import PublishedEntry
    from store import compact as compaction
    from store.network import ManualNetwork
    from store.readmodels import AsOf, HistoryEntry, SectionEvent, StoredDraft
    from store.unwatched import Unwatched

__all__ = [  # RunReport and fixed_clock live in amendwatch.snapshotrun
    "Amendwatch",
    "Clock",
    "RunReport",
    "check_manual_urls",
    "fixed_clock",
    "months_between",
    "utc_now",
]


def utc_now() -> datetime:
    return datetime.now(UTC)


def months_between(period: Period) -> set[str]:
    """:func:`amendwatch.amendmentspage.months_between` (that module loads on first use)."""
    from amendwatch.amendmentspage import months_between as months  # noqa: PLC0415

    return months(period)


def check_manual_urls(contents_url: str, amendments_url: str | None = None) -> None:
    """Refuse a malformed manual URL before anything is opened or written."""
    manuals.check_url(contents_url)
    if amendments_url:
        manuals.check_url(amendments_url)


class Amendwatch:
    """One open amendwatch database and what can be done with it."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        clock: Clock = utc_now,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock
        self.transport = transport

    @classmethod
    def open(
        cls, settings: Settings, clock: Clock = utc_now, *, readonly: bool = False
    ) -> Amendwatch:
        """``readonly``: an existing database, opened so that nothing can be written."""
        db = open_db_readonly(settings.db_path) if readonly else open_db(settings.db_path)
        return cls(db, settings, clock)

    def close(self) -> None:
        seal_on_close(self.db)
        self.db.close()

    # manuals -------------------------------------------------------------------------
    def add_manual(
        self,
        name: str,
        contents_url: str,
        amendments_url: str | None = None,
        content_selector: str | None = None,
        *,
        ignore_selectors: Sequence[str] = (),
        ignore_patterns: Sequence[str] = (),
        allowed_hosts: Sequence[str] = (),
        sitemap_url: str | None = None,
        network: ManualNetwork | None = None,
    ) -> Manual:
        return manuals.add_manual(
            self.db,
            name,
            contents_url,
            amendments_url=amendments_url,
            content_selector=content_selector,
            ignore_selectors=ignore_selectors,
            ignore_patterns=ignore_patterns,
            allowed_hosts=allowed_hosts,
            sitemap_url=sitemap_url,
            network=network,
            now=self.clock(),
        )

    def set_network(self, name: str, network: ManualNetwork) -> Manual:
        """Replace a manual's display name, headers, cookie sources and User-Agent."""
        return manuals.set_network(self.db, name, network)

    def manual(self, name: str) -> Manual:
        return manuals.get_manual(self.db, name)

    def set_sitemap(self, name: str, sitemap_url: str | None) -> Manual:
        """Set a manual's sitemap (a URL on its host, or "auto"); None or "none" clears it."""
        return manuals.set_sitemap(self.db, name, sitemap_url)

    def manuals(self) -> tuple[Manual, ...]:
        return tuple(manuals.list_manuals(self.db))

    def _select_manuals(self, names: Sequence[str]) -> list[Manual]:
        if names:
            return [manuals.get_manual(self.db, name) for name in names]
        found = list(manuals.list_manuals(self.db))
        if not found:
            raise NotFoundError(
                "no manuals to snapshot", "add one with `amendwatch manual add NAME URL`"
            )
        return found

    # snapshot ------------------------------------------------------------------------
    def snapshot(
        self,
        names: Sequence[str] = (),
        *,
        at: datetime | None = None,
        kind: str = "snapshot",
        progress: Callable[[ChapterOutcome], None] | None = None,
        stop: Callable[[], bool] | None = None,
        wait: float | None = None,
        started: Callable[[int], None] | None = None,
    ) -> RunReport:
        """Snapshot the named manuals (all when none named); one failing manual never
        stops the others. ``at`` records the observations at a given time (backfills).

        The whole run holds the database's snapshot lock (``store.lock``): when another run
        holds it, wait up to ``wait`` seconds (default ``settings.lock_wait``), then raise
        ``LockError`` naming the holder. ``started`` is told the run id once it exists."""
        selected = self._select_manuals(names)
        command = {"scheduled": "scheduled run", "snapshot": "manual snapshot"}.get(
            kind, f"{kind} run"
        )
        with self.exclusive(command, wait=wait, stop=stop):
            return self._snapshot(selected, at, kind, RunHooks(progress, stop, started))

    @contextmanager
    def exclusive(
        self, command: str, *, wait: float | None = None, stop: Callable[[], bool] | None = None
    ) -> Iterator[None]:
        """Hold the database's writer lock (``store.lock``) for a run that records
        observations: snapshots, scheduled runs and imports never interleave."""
        path = self._db_file()
        if path is None:  # an in-memory database: no other process can share it
            yield
            return
        with lock.hold(
            path,
            command,
            self.clock(),
            wait=self.settings.lock_wait if wait is None else wait,
            stop=stop,
        ):
            yield

    def _db_file(self) -> Path | None:
        rows = self.db.execute("PRAGMA database_list").fetchall()
        files = [row[2] for row in rows if row[1] == "main" and row[2]]
        return Path(files[0]) if files else None

    def _snapshot(
        self,
        selected: Sequence[Manual],
        at: datetime | None,
        kind: str,
        hooks: RunHooks,
    ) -> RunReport:
        clock: Clock = fixed_clock(at) if at is not None else self.clock
        check_run_time(self.db, [m.id for m in selected], clock(), at is not None)
        return record_run(
            self.db, self.settings, selected, kind=kind, clock=clock,
            transport=self.transport, hooks=hooks,
        )  # fmt: skip

    # changes, diff, history, show ------------------------------------------------------
    def changes(self, period: Period, manual: str | None = None) -> tuple[DetectedChange, ...]:
        from store import history  # noqa: PLC0415 (history, diffs, reports: not for snapshots)

        if manual is not None:
            manuals.get_manual(self.db, manual)
        return history.changes_in(self.db, period.start, period.end, manual)

    def changes_json(self, period: Period, manual: str | None = None) -> dict[str, Any]:
        """``changes --format json``: ``{"changes": [...], "unconfirmed": [...]}``."""
        from reports.render import changes_payload  # noqa: PLC0415 (Jinja2: not at start-up)

        return changes_payload(self.changes(period, manual), self.unconfirmed(period, manual))

    def unconfirmed(
        self, period: Period, manual: str | None = None
    ) -> tuple[UnconfirmedChange, ...]:
        """Large changes a second fetch did not confirm (shown beside the changes)."""
        from store import history  # noqa: PLC0415

        return history.unconfirmed_in(self.db, period.start, period.end, manual)

    def find_chapter(self, ref: str) -> ChapterRow:
        from store import history  # noqa: PLC0415

        return history.find_chapter(self.db, ref)

    def resolve_version(
        self, chapter: ChapterRow, ref: str | None, *, latest: bool
    ) -> StoredVersion:
        """A version by id (``v12`` or ``12``), by date (the version as of then), or the
        latest (``latest=True``) / the one before the latest when ``ref`` is None."""
        from reports.periods import parse_when  # noqa: PLC0415
        from store import history  # noqa: PLC0415

        if ref is not None:
            digits = ref[1:] if ref[:1] in "vV" else ref
            if digits.isdigit():
                stored = history.get_version(self.db, int(digits))
                if stored.chapter_id != chapter.id:
                    raise InputError(f"version {digits} is not a version of {chapter.title!r}")
                return stored
            as_of = history.version_as_of(self.db, chapter.id, parse_when(ref))
            if as_of.version is None:
                raise NotFoundError(f"{chapter.title!r} was not yet observed on {ref}")
            return as_of.version
        entries = history.chapter_history(self.db, chapter.id)
        if not entries:
            raise NotFoundError(f"no versions stored for {chapter.title!r}")
        index = -1 if latest or len(entries) == 1 else -2
        return history.get_version(self.db, entries[index].version_id)

    def diff(self, ref: str, from_ref: str | None, to_ref: str | None) -> DetectedChange:
        from differ.chapter import diff_chapters  # noqa: PLC0415
        from reports.models import DetectedChange  # noqa: PLC0415

        chapter = self.find_chapter(ref)
        old = self.resolve_version(chapter, from_ref, latest=False)
        new = self.resolve_version(chapter, to_ref, latest=True)
        diff = diff_chapters(old.chapter, new.chapter, old_version=old.id, new_version=new.id)
        return DetectedChange(
            change_id=0,
            manual=lifecycle.manual_name(self.db, chapter.manual_id),
            chapter_title=new.chapter.title,
            chapter_url=chapter.url,
            detected_at=new.valid_from,
            diff=diff,
            old_content_hash=old.content_hash,
            new_content_hash=new.content_hash,
            chapter_number=chapter.number,
        )

    def history(self, ref: str) -> tuple[ChapterRow, tuple[HistoryEntry, ...]]:
        from store import history  # noqa: PLC0415

        chapter = self.find_chapter(ref)
        return chapter, tuple(history.chapter_history(self.db, chapter.id))

    def section_timeline(
        self, ref: str, section: str
    ) -> tuple[ChapterRow, tuple[SectionEvent, ...]]:
        from store import history  # noqa: PLC0415

        chapter = self.find_chapter(ref)
        return chapter, tuple(history.section_timeline(self.db, chapter.id, section))

    def as_of(self, ref: str, at: datetime) -> tuple[ChapterRow, AsOf]:
        from store import history  # noqa: PLC0415

        chapter = self.find_chapter(ref)
        return chapter, history.version_as_of(self.db, chapter.id, at)

    def runs(self, limit: int = 20) -> tuple[RunRow, ...]:
        return tuple(runs.list_runs(self.db, limit))

    def unwatched(self, run_ids: Sequence[int]) -> dict[int, tuple[Unwatched, ...]]:
        """The listed entries each run did not watch, with the reasons."""
        from store.unwatched import unwatched_in_runs  # noqa: PLC0415

        return unwatched_in_runs(self.db, run_ids)

    def edit_draft(self, draft_id: int, text: str, who: str) -> None:
        from store import drafts  # noqa: PLC0415

        drafts.edit_draft(self.db, draft_id, text, who, self.clock())

    def set_draft_status(self, draft_id: int, status: str, who: str) -> None:
        from store import drafts  # noqa: PLC0415

        drafts.set_draft_status(self.db, draft_id, status, who, self.clock())

    def get_draft(self, draft_id: int) -> StoredDraft:
        from store import drafts  # noqa: PLC0415

        return drafts.get_draft(self.db, draft_id)

    # drafts and reports --------------------------------------------------------------
    def draft(self, period: Period, manual: str | None = None) -> tuple[AmendmentEntry, ...]:
        from reports.draft import draft_entries  # noqa: PLC0415 (not needed at start-up)
        from store import drafts  # noqa: PLC0415

        entries = draft_entries(self.changes(period, manual), period)
        drafts.save_drafts(self.db, entries, period, self.clock())
        return entries

    def report(
        self,
        period: Period,
        manual: str | None = None,
        fmt: str = "html",
        *,
        tz: tzinfo | None = None,
    ) -> str:
        """The digest of ``period``, its times in ``tz`` (default: the settings' time zone)."""
        from reports.digest import build_digest, weekly_counts  # noqa: PLC0415 (imported
        from reports.render import render_digest  # noqa: PLC0415 where used: Jinja2 is slow)
        from store import history  # noqa: PLC0415
        from store.chainhead import chain_head  # noqa: PLC0415

        changes = self.changes(period, manual)
        failures = history.failures_in(self.db, period.start, period.end, manual)
        # the chart counts what the table counts (no cosmetic-only or stamp-only change)
        weekly = weekly_counts(
            history.changes_in(self.db, period.end - timedelta(weeks=13), period.end, manual)
        )
        digest = build_digest(
            changes,
            failures,
            period,
            history=weekly,
            reconciliations=self.reconciliations(period, changes, manual),
            generated_at=self.clock(),
            chain_head=chain_head(self.db).text,
            reviews=self.review_notes([c.change_id for c in changes]),
        )
        zone = tz or ZoneInfo(self.settings.timezone)
        return render_digest(digest, fmt, tz=zone, manuals=self.manual_info())

    def review_notes(self, change_ids: Sequence[int]) -> dict[int, ReviewNote]:
        """The current review of each of ``change_ids`` that the web application recorded."""
        from reports.models import ReviewNote  # noqa: PLC0415
        from store import reviews  # noqa: PLC0415

        found = reviews.latest_reviews(self.db, change_ids)
        return {
            cid: ReviewNote(r.status, r.impact, r.owner, r.who, r.at) for cid, r in found.items()
        }

    def manual_info(self) -> list[ManualInfo]:
        """Each manual's reader-facing heading and start, as the renderers want them."""
        from reports.models import ManualInfo  # noqa: PLC0415

        return [ManualInfo(m.name, m.heading, m.created_at) for m in self.manuals()]

    def reconciliations(
        self, period: Period, changes: Sequence[DetectedChange], manual: str | None = None
    ) -> tuple[Reconciliation, ...]:
        """The publisher's declared entries compared with what was detected (see
        :func:`amendwatch.amendmentspage.reconciliations`)."""
        from amendwatch import amendmentspage  # noqa: PLC0415

        return amendmentspage.reconciliations(self, period, changes, manual)

    def verify(self) -> VerifyResult:
        from store import evidence  # noqa: PLC0415

        path = None if self.db.memory else self.settings.db_path
        return evidence.verify(self.db, path)

    def compact(
        self, *, progress: compaction.Progress | None = None, wait: float | None = None
    ) -> compaction.CompactResult:
        """Rewrite rows stored before compact storage into it, then VACUUM (see
        ``store.compact``); holds the writer lock, so no snapshot runs meanwhile."""
        from store import compact as compaction  # noqa: PLC0415

        with self.exclusive("compaction", wait=wait):
            return compaction.compact(self.db, progress=progress)

    # the publisher's Amendments page -------------------------------------------------
    def amendments(
        self, name_or_url: str, *, follow_archives: bool = False
    ) -> tuple[tuple[PublishedEntry, ...], tuple[str, ...]]:
        """The entries of a manual's (or a URL's) Amendments page, with those of the year
        archives it links when ``follow_archives``; and the archive URLs that failed."""
        from amendwatch import amendmentspage  # noqa: PLC0415

        return amendmentspage.published_entries(self, name_or_url, follow_archives)
