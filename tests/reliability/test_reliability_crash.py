"""SIGKILL the snapshot process at random moments, run again, and check the record:
``PRAGMA integrity_check`` ok, ``verify`` ok, no version duplicated or half-written, no change
invented or lost, and every interrupted chapter picked up by the next run.

A handful of trials run in the normal suite; ``make crash-trials`` runs 60 (``-m slow``).
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from amendwatch.api import Amendwatch
from amendwatch.config import Settings
from store import versions as store_versions
from tests.reliability.crashkit import T0, run_trial, timed_run
from tests.reliability.faultsite import FaultSite

CHAPTERS = 16
DELAY = 0.04  # per chapter answer, so that kills land mid-run


@pytest.fixture(scope="module")
def slow_site() -> Iterator[FaultSite]:
    with FaultSite(chapters=CHAPTERS) as site:
        site.delay = DELAY
        yield site


def trials(site: FaultSite, work: Path, count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    span = timed_run(site, work) * 1.1
    failures, killed, invented, lost, started = [], 0, 0, 0, time.monotonic()
    for number in range(count):
        trial = run_trial(site, work, number, rng, span)
        killed += trial.killed
        invented += trial.invented_new
        lost += trial.lost_changes
        failures += [f"trial {number} (kill at {trial.delay:.2f}s): {p}" for p in trial.problems]
    elapsed = time.monotonic() - started
    print(
        f"\ncrash trials: {count} run, {killed} killed mid-run, {len(failures)} problems, "
        f"invented 'new' changes: {invented}, lost changes: {lost}; {elapsed:.1f}s "
        f"(seed {seed}, full run {span / 1.1:.2f}s)"
    )
    assert killed >= count // 2, "too few kills landed mid-run: the trials prove little"
    return failures


def test_a_few_kills_leave_an_intact_record(slow_site: FaultSite, tmp_path: Path) -> None:
    assert trials(slow_site, tmp_path, count=3, seed=int(os.environ.get("CRASH_SEED", "7"))) == []


@pytest.mark.slow
def test_sixty_kills_leave_an_intact_record(slow_site: FaultSite, tmp_path: Path) -> None:
    count = int(os.environ.get("CRASH_TRIALS", "60"))
    seed = int(os.environ.get("CRASH_SEED", "2026"))
    assert trials(slow_site, tmp_path, count=count, seed=seed) == []


def test_an_interrupted_first_run_invents_no_new_chapters(tmp_path: Path) -> None:
    with FaultSite() as site:
        app = Amendwatch.open(Settings(db_path=tmp_path / "aw.db"), clock=lambda: T0)
        app.add_manual("crash", f"{site.base_url}/")
        seen: list[str] = []
        first = app.snapshot(
            at=T0, progress=lambda o: seen.append(o.url), stop=lambda: len(seen) >= 3
        )
        assert first.results[0].interrupted
        app.snapshot(at=T0 + timedelta(hours=1))
        kinds = [row[0] for row in app.db.execute("SELECT kind FROM changes")]
        app.close()
    assert kinds == []


def test_a_kill_between_version_and_change_loses_no_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A kill right after a new version is written must not lose its change: the version,
    its observation and its change commit together (seen once in 60 SIGKILL trials while
    they were separate transactions)."""
    with FaultSite() as site:
        app = Amendwatch.open(Settings(db_path=tmp_path / "aw.db"), clock=lambda: T0)
        app.add_manual("crash", f"{site.base_url}/")
        app.snapshot(at=T0)
        site.edition = 2

        def killed(*args: object, **kwargs: object) -> int:
            raise KeyboardInterrupt  # stands in for SIGKILL right after the version commit

        with monkeypatch.context() as patch:
            patch.setattr(store_versions, "record_change", killed)
            with pytest.raises(KeyboardInterrupt):
                app.snapshot(at=T0 + timedelta(days=1))
        app.snapshot(at=T0 + timedelta(days=2))
        revised = app.db.execute("SELECT COUNT(*) FROM changes WHERE kind = 'updated'").fetchone()
        app.close()
    assert revised[0] == 8 // 3  # chapters 3 and 6 were revised in edition 2
