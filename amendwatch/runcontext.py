"""What one snapshot run of a manual carries: its context, its outcomes, and the small
helpers every stage of the run shares (fetch with the manual's policy, record, extract)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlite_utils import Database

from amendwatch.capturework import Prepared
from amendwatch.config import Settings
from scraper.fetch import FetchPolicy, FetchRequest, decode_body
from scraper.fetchproc import Fetcher
from scraper.guard import allow_entry, policy_for_site
from scraper.models import Chapter, Page, Skipped
from store import observations
from store.models import ChapterRow, Manual

Clock = Callable[[], datetime]
Pairs = tuple[tuple[str, str], ...]
CookieValues = Callable[[Pairs], Pairs]  # (name, source) pairs -> (name, value) pairs


@dataclass(frozen=True)
class ChapterOutcome:
    url: str
    title: str
    # new-version | stamp (only the date stamp changed) | unchanged | not-modified | failed |
    # suspect | removed | missing | moved
    outcome: str
    reason: str = ""
    change_id: int | None = None


@dataclass(frozen=True)
class SnapshotResult:
    manual: str
    run_id: int | None
    contents_ok: bool
    outcomes: tuple[ChapterOutcome, ...]
    interrupted: bool = False
    skipped: tuple[Skipped, ...] = ()  # listed on the contents page, not watched: each with why
    contents_error: str = ""  # why the contents page failed (HTTP status, not HTML, ...)

    def count(self, *outcomes: str) -> int:
        return sum(1 for o in self.outcomes if o.outcome in outcomes)

    @property
    def checked(self) -> int:
        return self.count(
            "new-version", "stamp", "unchanged", "not-modified", "removed", "moved", "flip"
        )

    @property
    def changed(self) -> int:
        """Chapters with a change to report (a new date stamp alone is none)."""
        return sum(1 for o in self.outcomes if o.change_id is not None and o.outcome != "stamp")

    @property
    def failed(self) -> int:
        return self.count("failed", "suspect")

    @property
    def complete(self) -> bool:
        """Nothing was left unchecked: the contents page and every chapter were read."""
        return self.contents_ok and not self.failed


@dataclass(frozen=True)
class RunContext:
    db: Database
    manual: Manual
    settings: Settings
    clock: Clock
    run_id: int | None
    baseline: bool  # the manual's first successful run: versions, but no "new chapter" changes
    session: Fetcher  # the manual's host policy, one client and robots.txt cache per run


def no_cookies(sources: Pairs) -> Pairs:
    """The default cookie resolver: no values (see ``site_policy``)."""
    return ()


def _merged(base: Pairs, extra: Pairs, *, fold: bool = True) -> Pairs:
    """``base`` then ``extra``; a name in ``extra`` replaces the same name in ``base`` (in
    any case when ``fold``, as header names; cookie names are case-sensitive)."""

    def key(name: str) -> str:
        return name.lower() if fold else name

    names = {key(name) for name, _ in extra}
    return (*(pair for pair in base if key(pair[0]) not in names), *extra)


def site_policy(
    policy: FetchPolicy, manual: Manual, cookie_values: CookieValues = no_cookies
) -> FetchPolicy:
    """Fetch only from the manual's own host, the hosts it allows and its Amendments page's
    host; internal addresses only when the manual itself lives on one. The manual's headers
    (over the policy's), its User-Agent (when set) and its cookies, whose sources
    (``env:VAR``, ``file:PATH``) ``cookie_values`` turns into values, go with its requests."""
    hosts = set(policy.allowed_hosts) | set(manual.allowed_hosts)
    if manual.amendments_url:
        hosts.add(allow_entry(manual.amendments_url))  # its host, and port unless default
    bound = policy_for_site(policy, manual.contents_url)
    cookies = cookie_values(manual.cookies) if manual.cookies else ()
    return replace(
        bound,
        allowed_hosts=tuple(sorted(h for h in hosts if h)),
        headers=_merged(policy.headers, manual.headers),
        cookies=_merged(policy.cookies, cookies, fold=False),
        user_agent=manual.user_agent or policy.user_agent,
    )


def fetch(ctx: RunContext, requests: Sequence[FetchRequest]) -> list[Page]:
    return ctx.session.fetch(requests)


def record(ctx: RunContext, row: ChapterRow, page: Page, outcome: str, reason: str = "") -> int:
    work = page.work
    return observations.record_observation(
        ctx.db,
        page,
        manual_id=ctx.manual.id,
        chapter_id=row.id,
        role="chapter",
        outcome=outcome,
        reason=reason,
        run_id=ctx.run_id,
        encoded=work.encoded if isinstance(work, Prepared) else None,  # by the fetch process
    )


def extract(ctx: RunContext, page: Page) -> Chapter:
    from scraper.extract import extract_chapter  # noqa: PLC0415 (the HTML parser: when needed)

    return extract_chapter(
        decode_body(page),
        page.final_url or page.url,
        selector=ctx.manual.content_selector,
        ignore=ctx.manual.ignore_selectors,
        ignore_text=ctx.manual.ignore_patterns,
    )
