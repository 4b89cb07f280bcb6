"""Alerts after a run (amendwatch/notify.py, store/alerts.py): runs made by the real pipeline
over a loopback site, messages checked through an injected sender, and real Apprise posting to
a loopback ``json://`` endpoint (or a dead port)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from amendwatch import scheduler
from amendwatch.api import Amendwatch
from amendwatch.cli import cli
from amendwatch.config import NotifyConfig, Settings, load_schedule_config
from amendwatch.notify import Alert, AlertOutcome, alert_after_run, send_test
from scraper.policy import FetchPolicy
from store import alerts, runs
from store.db import open_db
from store.network import ManualNetwork
from tests.delivery.conftest import free_port
from tests.integration.minisite import MiniSite, chapter_html, contents_html
from tests.loopback import LoopbackServer, QuietHandler

needs_apprise = pytest.mark.skipif(
    find_spec("apprise") is None, reason="Apprise is not installed (amendwatch[notify])"
)

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
DATA = Path(__file__).parents[1] / "data"
SECTIONS = [
    ("1. Introduction", "This chapter sets out how agencies respond to concerns about a child."),
    ("2. Timescales", "The assessment must be completed within 45 working days of the referral."),
    ("3. Recording", "Every decision must be recorded on the child's file with its reasons."),
]
LONG = [
    (f"{n}. Heading Number {n}", f"Paragraph {n} of the procedure. " + "The duty applies. " * 60)
    for n in range(1, 9)
]
BASE = "https://aw.example.org/watch"


@dataclass
class Outbox:
    """A sender that keeps what it is given (delivering it, unless ``deliver`` is False)."""

    deliver: bool = True
    sent: list[Alert] = field(default_factory=list)

    def __call__(self, messages: Sequence[Alert]) -> list[bool]:
        self.sent.extend(messages)
        return [self.deliver] * len(messages)

    def take(self) -> list[Alert]:
        taken, self.sent = self.sent, []
        return taken


@pytest.fixture
def site() -> Iterator[MiniSite]:
    with MiniSite() as running:
        running.pages["/"] = contents_html(
            [("1.1", "Assessments", "/a.html"), ("1.2", "Referrals", "/b.html")]
        )
        running.pages["/a.html"] = chapter_html("Assessments", SECTIONS)
        running.pages["/b.html"] = chapter_html("Referrals", [("1. Referrals", "Refer at once.")])
        running.pages["/other/"] = contents_html([("2.1", "Visits", "/other/v.html")])
        running.pages["/other/v.html"] = chapter_html("Visits", LONG)
        yield running


@dataclass
class Watch:
    app: Amendwatch
    site: MiniSite
    config: NotifyConfig
    outbox: Outbox
    day: int = 0

    def run(self, names: Sequence[str] = ()) -> AlertOutcome:
        """One more daily snapshot, then its alerts through the outbox."""
        self.day += 1
        at = T0 + self.day * DAY
        report = self.app.snapshot(names, at=at)
        return alert_after_run(self.app.db, report.run_id, self.config, at, send=self.outbox)


def watch_of(tmp_path: Path, site: MiniSite, **notify: Any) -> Iterator[Watch]:
    settings = Settings(tmp_path / "aw.db", FetchPolicy(retries=0), confirm_delay=0.0)
    app = Amendwatch.open(settings)
    app.add_manual("mini", f"{site.base_url}/")
    app.add_manual(
        "other", f"{site.base_url}/other/", network=ManualNetwork(display_name="Other Procedures")
    )
    app.snapshot(at=T0)  # the baseline: nothing to announce
    try:
        yield Watch(app, site, NotifyConfig(**notify), Outbox())
    finally:
        app.close()


@pytest.fixture
def watch(tmp_path: Path, site: MiniSite) -> Iterator[Watch]:
    yield from watch_of(tmp_path, site, base_url=BASE)


# changes -----------------------------------------------------------------------------------------
def test_changes_are_one_message_per_manual_with_chapters_sections_and_link(watch: Watch) -> None:
    site = watch.site
    site.pages["/a.html"] = site.pages["/a.html"].replace("45 working days", "35 working days")
    site.pages["/b.html"] = chapter_html(
        "Referrals", [("1. Referrals", "Refer at once."), ("2. Urgent cases", "Ring the team.")]
    )
    site.pages["/other/v.html"] = site.pages["/other/v.html"].replace(
        "Paragraph 3 of", "Paragraph three of"
    )
    outcome = watch.run()
    by_manual = {m.manual: m for m in outcome.sent}
    assert set(by_manual) == {"mini", "other"}  # one message each
    mini = by_manual["mini"]
    assert mini.title == "amendwatch: mini: 2 chapters changed"
    assert "- Assessments (updated): Section 2, Timescales (modified)" in mini.body
    assert "- Referrals (updated): Section 2, Urgent cases (added)" in mini.body
    assert mini.link == f"{BASE}/reports/latest.html" and mini.link in mini.body
    other = by_manual["other"]
    assert other.title == "amendwatch: Other Procedures: 1 chapter changed"  # display name
    assert "Section 3, Heading Number 3 (modified)" in other.body
    assert "Assessments" not in other.body
    assert outcome.undelivered == () and watch.run().sent == ()  # said once


def test_without_base_url_no_link(tmp_path: Path, site: MiniSite) -> None:
    for watch in watch_of(tmp_path, site):
        site.pages["/a.html"] = site.pages["/a.html"].replace("45", "40")
        (message,) = watch.run().sent
        assert message.link is None and "Report:" not in message.body
        assert "http" not in message.body


def test_cosmetic_and_stamp_only_runs_send_nothing(watch: Watch) -> None:
    site = watch.site
    for case in ("differ_cosmetic_only", "differ_stamp_only"):
        site.pages["/a.html"] = (DATA / case / "old.html").read_text()
        watch.run()
        watch.outbox.take()
        site.pages["/a.html"] = (DATA / case / "new.html").read_text()
        outcome = watch.run()
        stored = watch.app.db.execute(
            "SELECT count(*) FROM changes WHERE run_id = (SELECT max(id) FROM runs)"
        ).fetchone()[0]
        assert stored == 1, case  # the change is recorded, and not announced
        assert outcome.sent == (), case


def test_an_unconfirmed_large_change_is_a_broken_watch_alert_not_a_change(watch: Watch) -> None:
    site = watch.site
    short = chapter_html("Visits", [("1. Heading Number 1", "A much shorter procedure.")])
    site.queued["/other/v.html"] = [short]  # then the full page again: not confirmed
    (message,) = watch.run(["other"]).sent
    assert message.kind == "unconfirmed" and not message.recovered
    assert message.title == "amendwatch: Other Procedures: unconfirmed large change in 1 chapter"
    assert "Visits (" in message.body and "unconfirmed large change" in message.body
    assert message.link == f"{BASE}/reports/latest.html#not-checked"
    (settled,) = watch.run(["other"]).sent  # the page reads whole again
    assert settled.recovered and settled.kind == "unconfirmed"
    assert alerts.open_alerts(watch.app.db, "unconfirmed") == ()
    assert watch.run(["other"]).sent == ()


# broken watches ---------------------------------------------------------------------------------
def test_contents_failure_alerts_once_then_recovers_once(watch: Watch) -> None:
    watch.site.statuses["/"] = 503
    first = watch.run(["mini"])
    (message,) = first.sent
    assert message.kind == "contents" and message.manual == "mini"
    assert message.title == "amendwatch: mini: contents page failing"
    assert "HTTP 503" in message.body
    assert watch.run(["mini"]).sent == ()  # still broken: not said again
    (row,) = alerts.open_alerts(watch.app.db, "contents")
    assert row.count == 2
    del watch.site.statuses["/"]
    (recovered,) = watch.run(["mini"]).sent
    assert recovered.recovered and recovered.title == "amendwatch: mini: contents page recovered"
    assert watch.run(["mini"]).sent == ()


def test_a_chapter_failing_n_runs_in_a_row_alerts_on_the_nth(
    tmp_path: Path, site: MiniSite
) -> None:
    for watch in watch_of(tmp_path, site, failure_runs=3):
        site.statuses["/b.html"] = 500
        assert watch.run(["mini"]).sent == ()
        assert watch.run(["mini"]).sent == ()  # N - 1 runs: nothing yet
        (message,) = watch.run(["mini"]).sent
        assert message.kind == "chapter"
        assert message.title == "amendwatch: mini: 1 chapter not checked in 3 runs"
        assert "Referrals (" in message.body and "/b.html" in message.body
        assert watch.run(["mini"]).sent == ()
        (row,) = alerts.open_alerts(watch.app.db, "chapter")
        assert row.count == 4 and row.since == T0 + DAY  # from the first failing run
        del site.statuses["/b.html"]
        (recovered,) = watch.run(["mini"]).sent
        assert (
            recovered.recovered and recovered.title == "amendwatch: mini: 1 chapter checked again"
        )


def test_a_streak_broken_by_a_good_run_starts_again(tmp_path: Path, site: MiniSite) -> None:
    for watch in watch_of(tmp_path, site, failure_runs=2):
        site.statuses["/b.html"] = 500
        watch.run(["mini"])
        del site.statuses["/b.html"]
        watch.run(["mini"])
        site.statuses["/b.html"] = 500
        assert watch.run(["mini"]).sent == ()
        assert [m.kind for m in watch.run(["mini"]).sent] == ["chapter"]


def test_an_abandoned_run_is_announced_once(watch: Watch) -> None:
    killed = runs.start_run(watch.app.db, "scheduled", T0 + DAY / 2)  # its process died
    (message,) = watch.run().sent
    assert message.kind == "abandoned" and message.manual is None
    assert message.title == f"amendwatch: run {killed} abandoned"
    assert "killed or crashed" in message.body
    assert watch.run().sent == ()  # announced once, and nothing "recovers"


def test_an_undelivered_alert_is_tried_again_after_the_next_run(watch: Watch) -> None:
    watch.site.statuses["/"] = 503
    watch.outbox.deliver = False
    assert len(watch.run(["mini"]).undelivered) == 1
    watch.outbox.deliver = True
    (again,) = watch.run(["mini"]).sent
    assert again.kind == "contents"
    assert watch.run(["mini"]).sent == ()


# through Apprise ----------------------------------------------------------------------------------
@dataclass
class Hook:
    url: str
    posts: list[dict[str, Any]]


@pytest.fixture
def hook() -> Iterator[Hook]:
    """A loopback endpoint that keeps every JSON body POSTed to it."""
    posts: list[dict[str, Any]] = []

    class Handler(QuietHandler):
        def do_POST(self) -> None:  # noqa: N802
            size = int(self.headers.get("Content-Length", "0"))
            posts.append(json.loads(self.rfile.read(size)))
            self.answer(200, b"{}", "application/json")

    with LoopbackServer(Handler) as server:
        yield Hook(server.base_url.replace("http://", "json://") + "/hook", posts)


@needs_apprise
def test_apprise_posts_one_alert_per_broken_state_and_one_recovery(
    tmp_path: Path, site: MiniSite, hook: Hook
) -> None:
    for watch in watch_of(tmp_path, site, urls=(hook.url,)):
        site.statuses["/"] = 503
        site.pages["/other/v.html"] = site.pages["/other/v.html"].replace("Paragraph 2", "Para 2")
        for day in (1, 2):  # the real Apprise sender (no send=)
            report = watch.app.snapshot(at=T0 + day * DAY)
            alert_after_run(watch.app.db, report.run_id, watch.config, T0 + day * DAY)
        titles = [post["title"] for post in hook.posts]
        assert titles == [
            "amendwatch: mini: contents page failing",
            "amendwatch: Other Procedures: 1 chapter changed",
        ]
        assert "Section 2, Heading Number 2 (modified)" in hook.posts[1]["message"]
        assert hook.posts[0]["type"] == "failure"
        del site.statuses["/"]
        report = watch.app.snapshot(at=T0 + 3 * DAY)
        alert_after_run(watch.app.db, report.run_id, watch.config, T0 + 3 * DAY)
        assert [post["title"] for post in hook.posts[2:]] == [
            "amendwatch: mini: contents page recovered"
        ]
        assert hook.posts[2]["type"] == "success"


@needs_apprise
def test_a_dead_service_never_fails_the_run(watch: Watch, caplog: pytest.LogCaptureFixture) -> None:
    dead = NotifyConfig(urls=(f"json://127.0.0.1:{free_port()}/hook",))
    watch.site.statuses["/"] = 503
    report = watch.app.snapshot(["mini"], at=T0 + DAY)
    with caplog.at_level(logging.WARNING, logger="amendwatch.notify"):
        outcome = alert_after_run(watch.app.db, report.run_id, dead, T0 + DAY)
    assert outcome.sent == () and len(outcome.undelivered) == 1
    lines = [r.getMessage() for r in caplog.records if r.name == "amendwatch.notify"]
    assert len(lines) == 1 and "not delivered" in lines[0]
    assert runs.get_run(watch.app.db, report.run_id).status == "partial"  # unchanged


@needs_apprise
def test_send_test_reports_each_url_with_secrets_masked(hook: Hook) -> None:
    secret = hook.url.replace("json://", "json://user:s3cret-token@")
    dead = f"json://127.0.0.1:{free_port()}/hook"
    good, bad, invalid = send_test([secret, dead, "msteams://not-a-webhook"], T0)
    assert good.delivered and "s3cret-token" not in good.url and "user:****@" in good.url
    assert hook.posts[0]["title"] == "amendwatch: test message"
    assert not bad.delivered and bad.reason
    assert not invalid.delivered and invalid.url == "msteams://****"


def notify_toml(tmp_path: Path, *urls: str) -> Path:
    path = tmp_path / "amendwatch.toml"
    listed = ", ".join(f'"{url}"' for url in urls)
    path.write_text(f"[notify]\nurls = [{listed}]\n", encoding="utf-8")
    if load_schedule_config(path).notify is None:
        pytest.skip("amendwatch.config does not read [notify] yet")
    return path


@needs_apprise
def test_notify_test_command_delivers_to_the_loopback_endpoint(tmp_path: Path, hook: Hook) -> None:
    config = notify_toml(tmp_path, hook.url.replace("json://", "json://user:pw123@"))
    result = CliRunner().invoke(
        cli, ["--db", str(tmp_path / "aw.db"), "notify", "test", "--config", str(config)]
    )
    assert result.exit_code == 0, result.output
    (line,) = result.output.splitlines()
    assert line.startswith("delivered") and "pw123" not in line
    assert len(hook.posts) == 1


@needs_apprise
def test_notify_test_command_against_a_dead_port_exits_1(tmp_path: Path) -> None:
    config = notify_toml(tmp_path, f"json://127.0.0.1:{free_port()}/hook")
    result = CliRunner().invoke(
        cli, ["--db", str(tmp_path / "aw.db"), "notify", "test", "--config", str(config)]
    )
    assert result.exit_code == 1
    (line,) = result.output.splitlines()
    assert line.startswith("FAILED") and "127.0.0.1" in line
    assert "Traceback" not in result.output


@needs_apprise
def test_the_scheduled_snapshot_job_sends_its_alerts(
    tmp_path: Path, site: MiniSite, hook: Hook
) -> None:
    db = tmp_path / "aw.db"
    app = Amendwatch.open(Settings(db))
    app.add_manual("mini", f"{site.base_url}/")
    app.snapshot(at=T0)
    app.close()
    config = notify_toml(tmp_path, hook.url)
    site.statuses["/"] = 404
    scheduler.snapshot_job(str(db), str(config))
    assert [post["title"] for post in hook.posts] == ["amendwatch: mini: contents page failing"]


# the state --------------------------------------------------------------------------------------
def test_a_state_recovered_before_it_was_announced_closes_silently(tmp_path: Path) -> None:
    db = open_db(tmp_path / "aw.db")
    alerts.open_alert(db, "contents:m", manual="m", kind="contents", detail="HTTP 503", now=T0)
    resolved = alerts.resolve_alert(db, "contents:m", T0 + DAY)
    assert resolved is not None and resolved.state == alerts.CLOSED
    assert alerts.pending_alerts(db) == ()


def test_broken_again_before_the_recovery_was_announced_is_not_said_twice(tmp_path: Path) -> None:
    db = open_db(tmp_path / "aw.db")
    alerts.open_alert(db, "contents:m", manual="m", kind="contents", detail="HTTP 503", now=T0)
    alerts.mark_announced(db, ["contents:m"], T0)
    alerts.resolve_alert(db, "contents:m", T0 + DAY)
    assert [r.state for r in alerts.pending_alerts(db)] == [alerts.RECOVERED]
    again = alerts.open_alert(
        db, "contents:m", manual="m", kind="contents", detail="HTTP 500", now=T0 + 2 * DAY
    )
    assert again.state == alerts.OPEN and again.since == T0 and again.count == 2
    assert alerts.pending_alerts(db) == ()  # its first announcement stands
