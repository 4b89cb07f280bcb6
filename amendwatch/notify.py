"""Alerts after a run, through Apprise (``amendwatch[notify]``): what to say and sending it.

After a run, :func:`alert_after_run` reads what the database says about it and

* records the broken watches it shows in the ``alerts`` table (``store.alerts``): a contents
  page that failed, a chapter not checked in ``failure_runs`` runs in a row, an unconfirmed
  large change, a run abandoned by a killed process; and what works again;
* sends one message per manual with the substantive changes the run confirmed (not
  cosmetic-only, not date stamps only; unconfirmed changes are never stored as changes), one
  message per newly broken state (the chapters of a manual grouped) and one per recovery.

A broken state is announced once, until it recovers; a message no URL accepted is tried
again after the next run. Sending never fails the run: a failing service is logged as one
line and the run's result is unchanged. Apprise is imported only when something is sent.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlite_utils import Database

from amendwatch.config import NotifyConfig
from amendwatch.confirm import UNCONFIRMED
from amendwatch.errors import AmendwatchError, ConfigError
from differ.models import ChapterDiff, SectionChange
from store import alerts, runs
from store.alerts import AlertRow
from store.codec import unpack_diff

if TYPE_CHECKING:
    from types import ModuleType

log = logging.getLogger("amendwatch.notify")

REPORT_PATH = "/reports/latest.html"  # what ``amendwatch serve`` serves under base_url
NOT_CHECKED_ANCHOR = "#not-checked"
ONE_OFF = ("abandoned",)  # alert kinds that announce an event: nothing recovers
ABANDONED_WINDOW = timedelta(days=7)  # older abandoned runs are not announced
MAX_CHAPTERS = 25  # chapters listed in one message ("and N more")
MAX_SECTIONS = 10  # sections listed for one chapter
TEST_TITLE = "amendwatch: test message"
INSTALL_HINT = "pip install 'amendwatch[notify]'"


@dataclass(frozen=True)
class Alert:
    """One message: ``keys`` are the ``alerts`` rows it announces (none for changes)."""

    keys: tuple[str, ...]
    manual: str | None
    kind: str  # changes | contents | chapter | unconfirmed | abandoned | test
    title: str
    body: str
    recovered: bool = False
    level: str = "info"  # Apprise's notify type: info | success | warning | failure
    link: str | None = None


Sender = Callable[[Sequence[Alert]], Sequence[bool]]  # whether each message was delivered


@dataclass(frozen=True)
class AlertOutcome:
    sent: tuple[Alert, ...] = ()
    undelivered: tuple[Alert, ...] = ()
    opened: tuple[str, ...] = ()  # alert keys broken by this run (or still broken)
    recovered: tuple[str, ...] = ()  # alert keys this run saw working again


@dataclass(frozen=True)
class Delivery:
    """One URL's answer: ``url`` with its secret parts masked."""

    url: str
    delivered: bool
    reason: str = ""


# after a run ----------------------------------------------------------------------------------
def alert_after_run(
    db: Database, run_id: int, config: NotifyConfig, now: datetime, send: Sender | None = None
) -> AlertOutcome:
    """Record the broken and recovered watches run ``run_id`` shows, then send its change
    messages and every announcement still due (through Apprise to ``config.urls`` unless
    ``send`` is given). Only ``StoreError`` can escape; sending never raises."""
    if send is None and not config.urls:
        return AlertOutcome()
    seen = alerts.apply_run(
        db, run_id, now, failure_runs=max(1, config.failure_runs),
        large_unconfirmed=UNCONFIRMED, abandoned_since=now - ABANDONED_WINDOW,
    )  # fmt: skip
    headings = alerts.manual_headings(db)
    due = alerts.pending_alerts(db)
    messages = (
        *state_alerts([r for r in due if r.state == alerts.OPEN], headings, config),
        *change_alerts(db, run_id, headings, config.base_url),
        *state_alerts([r for r in due if r.state == alerts.RECOVERED], headings, config),
    )
    if not messages:
        return AlertOutcome((), (), seen.opened, seen.recovered)
    flags = _send(send or apprise_sender(config.urls), messages, run_id)
    sent = tuple(m for m, ok in zip(messages, flags, strict=True) if ok)
    keys = [key for message in sent for key in message.keys]
    alerts.mark_announced(db, keys, now, one_off=ONE_OFF)
    undelivered = tuple(m for m, ok in zip(messages, flags, strict=True) if not ok)
    return AlertOutcome(sent, undelivered, seen.opened, seen.recovered)


def alert_if_configured(
    db: Database, run_id: int, config: NotifyConfig | None, now: datetime
) -> AlertOutcome | None:
    """:func:`alert_after_run` when ``[notify]`` has URLs (else None); a store error is
    logged as one line: the run's result never depends on its alerts."""
    if config is None or not config.urls:
        return None
    try:
        return alert_after_run(db, run_id, config, now)
    except AmendwatchError as exc:
        log.error("run %s: alerts not sent: %s", run_id, exc)
        return None


def _send(send: Sender, messages: Sequence[Alert], run_id: int) -> tuple[bool, ...]:
    try:
        flags = tuple(bool(flag) for flag in send(messages))
    except AmendwatchError as exc:  # Apprise not installed
        log.error("run %s: %d alerts not sent: %s", run_id, len(messages), exc)
        return (False,) * len(messages)
    if len(flags) != len(messages):
        raise ValueError("a sender answers once for each message")
    return flags


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


# what to say --------------------------------------------------------------------------------------
def link_to(base_url: str | None, anchor: str = "") -> str | None:
    """The report's address under ``base_url`` (None without one)."""
    return None if not base_url else base_url.rstrip("/") + REPORT_PATH + anchor


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _with_link(lines: list[str], link: str | None) -> str:
    return "\n".join([*lines, *([] if link is None else ["", f"Report: {link}"])])


def change_alerts(
    db: Database, run_id: int, headings: dict[str, str], base_url: str | None
) -> tuple[Alert, ...]:
    """One message per manual with the substantive changes run ``run_id`` recorded."""
    run = runs.get_run(db, run_id)
    per_manual: dict[str, list[str]] = {}
    for change in alerts.run_changes(db, run_id):
        diff = unpack_diff(change.diff)
        line = change_line(change.chapter_title, change.kind, diff)
        if line is not None:
            per_manual.setdefault(change.manual, []).append(line)
    link = link_to(base_url)
    messages = []
    for manual, lines in per_manual.items():
        heading = headings.get(manual, manual)
        shown = lines[:MAX_CHAPTERS] + (
            [f"- and {len(lines) - MAX_CHAPTERS} more"] if len(lines) > MAX_CHAPTERS else []
        )
        when = _when(run.finished_at or run.started_at)
        body = [f"Run {run_id} ({when}) confirmed changes to {heading}:", "", *shown]
        title = f"amendwatch: {heading}: {_plural(len(lines), 'chapter')} changed"
        messages.append(Alert((), manual, "changes", title, _with_link(body, link), link=link))
    return tuple(messages)


def change_line(title: str, kind: str, diff: ChapterDiff) -> str | None:
    """The chapter's line in a change message; None when the change is not substantive
    (only the date stamp, only cosmetic edits, only renumbering)."""
    if kind == "stamp" or diff.kind == "stamp":
        return None
    sections = [s for s in diff.sections if _counts(s)]
    what = {
        "new": "new chapter",
        "removed": "removed",
        "renamed": f"renamed from {diff.old_title}" if diff.old_title else "renamed",
        "moved": "moved to a new address",
    }.get(diff.kind)
    if what is None and not sections and not diff.revised_throughout:
        return None
    details = [what or ("revised throughout" if diff.revised_throughout else "updated")]
    if dict(diff.extra).get("flip_of"):
        details.append("back to an earlier version")
    line = f"- {title} ({', '.join(details)})"
    if diff.kind in ("new", "removed") or not sections:
        return line
    labels = [f"{s.section.label} ({', '.join(sorted(s.kinds))})" for s in sections]
    more = len(labels) - MAX_SECTIONS
    return (
        line + ": " + "; ".join(labels[:MAX_SECTIONS]) + (f"; and {more} more" if more > 0 else "")
    )


def _counts(section: SectionChange) -> bool:
    """Worth a reader's time: reworded, added, removed, renamed or relinked (not cosmetic,
    not only renumbered or moved)."""
    return section.is_substantive or bool(section.links_added or section.links_removed)


def state_alerts(
    rows: Sequence[AlertRow], headings: dict[str, str], config: NotifyConfig
) -> tuple[Alert, ...]:
    """One message per manual and kind of broken (or recovered) state; abandoned runs one
    each."""
    groups: dict[tuple[str | None, str, str], list[AlertRow]] = {}
    for row in rows:
        group = row.key if row.kind in ONE_OFF else ""
        groups.setdefault((row.manual, row.kind, group), []).append(row)
    return tuple(_state_alert(group, headings, config) for group in groups.values())


def _state_alert(rows: list[AlertRow], headings: dict[str, str], config: NotifyConfig) -> Alert:
    first = rows[0]
    heading = headings.get(first.manual or "", first.manual or "")
    recovered = first.state == alerts.RECOVERED
    title, lines = _wording(first.kind, recovered, heading, rows, config.failure_runs)
    link = None if recovered else link_to(config.base_url, NOT_CHECKED_ANCHOR)
    return Alert(
        keys=tuple(r.key for r in rows),
        manual=first.manual,
        kind=first.kind,
        title=f"amendwatch: {title}",
        body=_with_link(lines, link),
        recovered=recovered,
        level="success" if recovered else "failure" if first.kind == "contents" else "warning",
        link=link,
    )


_GROUPED = {  # (kind, recovered): the title and the first line of a chapters' message
    ("chapter", False): (
        "{heading}: {chapters} not checked in {runs} runs",
        "These chapters of {heading} could not be checked in {runs} or more runs in a row:",
    ),
    ("chapter", True): (
        "{heading}: {chapters} checked again",
        "These chapters of {heading} were checked again (each with how it had failed):",
    ),
    ("unconfirmed", False): (
        "{heading}: unconfirmed large change in {chapters}",
        "A large change to these chapters of {heading} was not confirmed by a second fetch,"
        " so nothing was stored as a version; both captures are kept as evidence"
        " (`amendwatch changes` lists them) and the next run checks again:",
    ),
    ("unconfirmed", True): (
        "{heading}: {chapters} read consistently again",
        "These chapters of {heading}, with an unconfirmed large change before, were read"
        " consistently again:",
    ),
}


def _wording(
    kind: str, recovered: bool, heading: str, rows: list[AlertRow], runs_needed: int
) -> tuple[str, list[str]]:
    first, count = rows[0], len(rows)
    if kind == "contents":
        return _contents_wording(first, recovered, heading)
    if kind == "abandoned":
        return f"{first.detail.split(' (', 1)[0].lower()} abandoned", [
            f"{first.detail} was left running by a process that was killed or crashed; a"
            " later run marked it abandoned. What it stored is kept; the chapters it did not"
            " reach are checked by the runs that follow."
        ]
    title, intro = _GROUPED.get((kind, recovered), ("{heading}: {kind}", "{heading}:"))
    items = [
        f"- {r.detail} (since {_when(r.since)})" if recovered else f"- {r.detail}"
        for r in rows[:MAX_CHAPTERS]
    ]
    items += [f"- and {count - MAX_CHAPTERS} more"] if count > MAX_CHAPTERS else []
    names = {"heading": heading, "chapters": _plural(count, "chapter"), "runs": runs_needed}
    return title.format(kind=kind, **names), [intro.format(**names), *items]


def _contents_wording(row: AlertRow, recovered: bool, heading: str) -> tuple[str, list[str]]:
    detail = row.detail.rstrip(".")
    if recovered:
        return f"{heading}: contents page recovered", [
            f"The contents page of {heading} was read again. It had failed since"
            f" {_when(row.since)} ({detail})."
        ]
    return f"{heading}: contents page failing", [
        f"The contents page of {heading} could not be read: {detail}.",
        f"Failing since {_when(row.since)}, {_plural(row.count, 'run')} in a row. New and"
        " removed chapters cannot be found until it is read again; the chapters already"
        " known are still checked.",
    ]


# sending through Apprise ------------------------------------------------------------------------
def apprise_sender(urls: Sequence[str]) -> Sender:
    """A sender to every URL in ``urls``; a message counts as delivered when at least one
    URL accepted it. Each URL that did not is logged as one line."""

    def send(messages: Sequence[Alert]) -> list[bool]:
        results = []
        for message in messages:
            answers = deliver(urls, message.title, message.body, message.level)
            for answer in answers:
                if not answer.delivered:
                    log.warning(
                        "notify: %r not delivered to %s: %s", message.title, answer.url,
                        answer.reason,
                    )  # fmt: skip
            results.append(any(answer.delivered for answer in answers))
        return results

    return send


def send_test(urls: Sequence[str], now: datetime) -> tuple[Delivery, ...]:
    """A test message to each URL (``amendwatch notify test``)."""
    body = (
        f"This is a test message from amendwatch, sent {_when(now)}. Alerts about changed"
        " guidance and broken watches will arrive here."
    )
    return deliver(urls, TEST_TITLE, body)


def deliver(
    urls: Sequence[str], title: str, body: str, level: str = "info"
) -> tuple[Delivery, ...]:
    """Send one message to each URL in turn: whether each accepted it, and why not."""
    apprise = import_apprise()
    with _quiet(apprise):
        return tuple(_deliver_one(apprise, url, title, body, level) for url in urls)


def _deliver_one(apprise: ModuleType, url: str, title: str, body: str, level: str) -> Delivery:
    service = apprise.Apprise.instantiate(url)
    if service is None:
        return Delivery(_masked_scheme(url), False, "not a valid Apprise URL")
    masked = service.url(privacy=True).split("?", 1)[0]
    sender = apprise.Apprise()
    sender.add(service)
    result = sender.notify(
        body=body, title=title, notify_type=level, body_format=apprise.NotifyFormat.TEXT
    )
    if result:
        return Delivery(masked, True)
    logs = getattr(result, "logs", None)
    messages = [str(entry.message) for entry in logs()] if callable(logs) else []
    return Delivery(masked, False, messages[-1] if messages else "not delivered")


def mask_url(url: str) -> str:
    """``url`` as it may be shown: Apprise's privacy form, without its query; an URL Apprise
    cannot read shows its scheme only."""
    apprise = import_apprise()
    with _quiet(apprise):
        service = apprise.Apprise.instantiate(url)
    return _masked_scheme(url) if service is None else service.url(privacy=True).split("?", 1)[0]


def _masked_scheme(url: str) -> str:
    scheme, found, _ = url.partition("://")
    return f"{scheme}://****" if found and scheme.isalnum() else "****"


def import_apprise() -> ModuleType:
    """Apprise, imported only when something is sent (``amendwatch --help`` stays fast)."""
    try:
        import apprise  # noqa: PLC0415
    except ImportError as exc:
        raise ConfigError("Apprise is not installed: alerts cannot be sent", INSTALL_HINT) from exc
    return apprise


@contextlib.contextmanager
def _quiet(apprise: ModuleType) -> Iterator[None]:
    """Apprise's own log lines stay out of ours (each result keeps them; we log one line)."""
    logger = logging.getLogger(apprise.__name__)
    before = logger.propagate
    logger.propagate = False
    try:
        yield
    finally:
        logger.propagate = before
