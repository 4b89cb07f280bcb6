"""Fetching in a child process (large manuals with a real clock): the same pages as in-process,
answers in submission order, clear errors when the child is gone, and a snapshot of a
70-chapter manual that gives the same outcomes either way."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from amendwatch.api import Amendwatch, fixed_clock, utc_now
from amendwatch.config import Settings
from amendwatch.errors import FetchError
from amendwatch.pipeline import POOL_MIN_CHAPTERS
from scraper.fetch import FetchPolicy, FetchRequest
from scraper.fetchproc import FetchProcess, clock_pickles
from scraper.session import FetchSession
from tests.integration.minisite import MiniSite, chapter_html, contents_html
from tests.procs import alive as _alive

CHAPTERS = POOL_MIN_CHAPTERS + 6
POLICY = FetchPolicy(retries=0, per_host=2)


@pytest.fixture
def site() -> Iterator[MiniSite]:
    with MiniSite() as running:
        refs = [(f"1.{n}", f"Chapter {n} procedures", f"/ch/{n}.html") for n in range(CHAPTERS)]
        running.pages["/"] = contents_html(refs)
        for number, title, url in refs:
            sections = [(f"{i}. Part {i}", f"Text of {number} section {i}. " * 8) for i in (1, 2)]
            running.pages[url] = chapter_html(title, sections)
        yield running


def requests(site: MiniSite, paths: list[str]) -> list[FetchRequest]:
    return [FetchRequest(site.base_url + path) for path in paths]


def test_the_child_answers_as_the_in_process_session_does(site: MiniSite) -> None:
    paths = ["/ch/1.html", "/missing.html", "/ch/2.html"]
    with FetchSession(POLICY, utc_now) as session:
        here = session.fetch(requests(site, paths))
    with FetchProcess(POLICY, utc_now) as process:
        there = process.fetch(requests(site, paths))
    assert [(p.url, p.status, p.body) for p in there] == [(p.url, p.status, p.body) for p in here]
    assert [p.status for p in there] == [200, 404, 200]


def test_batches_are_answered_in_the_order_asked_for(site: MiniSite) -> None:
    with FetchProcess(POLICY, utc_now) as process:
        first = process.submit(requests(site, ["/ch/3.html"]))
        second = process.submit(requests(site, ["/ch/4.html", "/ch/5.html"]))
        later = second.result()
        earlier = first.result()
    assert [p.url.rsplit("/", 1)[1] for p in later] == ["4.html", "5.html"]
    assert earlier[0].url.endswith("/ch/3.html") and b"Chapter 3 procedures" in earlier[0].body


def test_a_bad_url_is_refused_before_it_reaches_the_child() -> None:
    with FetchProcess(POLICY, utc_now) as process, pytest.raises(FetchError, match="URL"):
        process.submit([FetchRequest("not a url")])


def test_a_child_that_died_is_a_clear_error(site: MiniSite) -> None:
    with FetchProcess(POLICY, utc_now) as process:
        process.fetch(requests(site, ["/ch/1.html"]))
        (pid,) = process.pids
        os.kill(pid, signal.SIGKILL)
        time.sleep(0.2)
        with pytest.raises(FetchError, match="fetch process"):
            process.fetch(requests(site, ["/ch/2.html"]))


def test_only_module_level_clocks_go_to_a_child() -> None:
    assert clock_pickles(utc_now)
    assert clock_pickles(fixed_clock(datetime(2026, 11, 23, tzinfo=UTC)))  # snapshot --at
    assert not clock_pickles(lambda: datetime(2026, 11, 23, tzinfo=UTC))


def test_a_large_manual_gives_the_same_outcomes_fetched_in_a_child(
    site: MiniSite, tmp_path: Path
) -> None:
    results = []
    for name, clock in (("child", utc_now), ("here", lambda: datetime.now(UTC))):
        settings = replace(Settings(db_path=tmp_path / f"{name}.db"), batch_size=16)
        app = Amendwatch.open(settings, clock=clock)
        app.add_manual("big", f"{site.base_url}/")
        first = app.snapshot(["big"])
        site.pages["/ch/7.html"] = site.pages["/ch/7.html"].replace("section 1.", "section one.")
        second = app.snapshot(["big"])
        site.pages["/ch/7.html"] = site.pages["/ch/7.html"].replace("section one.", "section 1.")
        app.close()
        results.append(
            [sorted((o.url, o.outcome) for o in r.results[0].outcomes) for r in (first, second)]
        )
    child, here = results
    assert child == here
    assert [outcome for _, outcome in child[0]].count("new-version") == CHAPTERS
    assert [url for url, outcome in child[1] if outcome == "new-version"] == [
        f"{site.base_url}/ch/7.html"
    ]


PARENT = """
import sys, time
from amendwatch.api import utc_now
from scraper.fetch import FetchPolicy
from scraper.fetchproc import FetchProcess
with FetchProcess(FetchPolicy(), utc_now) as process:
    print(*process.pids, flush=True)
    time.sleep(60)
"""


def test_the_child_ends_when_its_parent_is_killed(tmp_path: Path) -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        parent.send_signal(signal.SIGKILL)
        parent.wait(5)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _alive(child):
            time.sleep(0.05)
        assert not _alive(child)
    finally:
        parent.kill()
        parent.wait(5)
    assert "Traceback" not in (parent.stderr.read() if parent.stderr else "")


class FlappingChapter(dict[str, str]):
    """``MiniSite.pages`` where ``/ch/9.html``'s text changes on every request (a counter
    in a section): no two fetches of it agree, so no change of it can be confirmed."""

    def __init__(self) -> None:
        super().__init__()
        self.served = 0

    def get(self, key: str, default: Any = None) -> Any:
        page = super().get(key, default)
        if key != "/ch/9.html" or not isinstance(page, str) or not self.served_once:
            self.served_once = self.served_once or key == "/ch/9.html"
            return page
        self.served += 1
        return page.replace("section 1.", f"section 1, reading {self.served}.")

    served_once = False


def test_a_large_manual_confirms_a_change_with_a_fetch_made_as_its_parse_starts(
    site: MiniSite, tmp_path: Path
) -> None:
    """Through fetch processes, a changed chapter is fetched again as soon as its parse starts
    (not behind the batches fetched ahead): an edit is confirmed and stored once; a chapter
    whose every fetch differs is reported unconfirmed, never stored."""
    flapping = FlappingChapter()
    flapping.update(site.pages)
    site.pages = flapping
    app = Amendwatch.open(replace(Settings(db_path=tmp_path / "aw.db"), batch_size=16))
    app.add_manual("big", f"{site.base_url}/")
    app.snapshot(["big"])
    site.pages["/ch/7.html"] = site.pages["/ch/7.html"].replace("section 1.", "section one.")
    second = app.snapshot(["big"])
    app.close()
    outcome = {o.url.rsplit("/", 1)[1]: o for o in second.results[0].outcomes}
    assert outcome["7.html"].outcome == "new-version"
    assert outcome["9.html"].outcome == "suspect"
    assert outcome["9.html"].reason.startswith("unconfirmed change")
    assert {o.outcome for n, o in outcome.items() if n not in ("7.html", "9.html")} == {"unchanged"}
