"""Any byte string served as a chapter page (issue 19, point 1): it becomes a version, a failed
observation or a suspect one, never an exception.

Hypothesis feeds ``st.binary()`` and real chapter HTML mutated (cut at a random point, random
bytes inserted, deeply nested or unclosed prefixes) through the analysis stage
(``scraper.analysis.analyse``, which catches what the HTML libraries raise and turns it into an
error with a reason) and ``scraper.checks.judge_page``; a handful of examples go through the
real pipeline (``Amendwatch`` on a real SQLite file, the page served by a loopback site).
"""

from __future__ import annotations

import itertools
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from amendwatch.api import Amendwatch
from amendwatch.config import load_settings
from scraper.analysis import AnalysisJob, analyse
from scraper.checks import judge_page
from scraper.models import Page
from scraper.text import decode_bytes
from tests.reliability.faultsite import FaultSite, chapter_html, chapter_path

URL = "http://127.0.0.1:9/chapters/c3.html"
_RUNS = itertools.count()
REAL = chapter_html(3).encode()
PREFIXES = (
    b"<div>" * 3000,
    b"<span>" * 3000,
    b"<table><tr><td>" * 500,
    b"<ul><li>" * 1000,
    b"<p><b><i>" * 1000,
    b"<!--" + b"x" * 100,
    b"<![CDATA[",
    b"<?xml version='1.0' encoding='utf-16'?>",
    b"\xef\xbb\xbf",
    b"\xff\xfe",
)


@st.composite
def mutated_chapter(draw: st.DrawFn) -> bytes:
    body = REAL
    how = draw(st.sampled_from(["cut", "insert", "prefix", "all"]))
    if how in ("prefix", "all"):
        body = draw(st.sampled_from(PREFIXES)) + body
    if how in ("insert", "all"):
        for _ in range(draw(st.integers(1, 5))):
            at = draw(st.integers(0, len(body)))
            body = body[:at] + draw(st.binary(min_size=1, max_size=40)) + body[at:]
    if how in ("cut", "all"):
        body = body[: draw(st.integers(0, len(body)))]
    return body


any_page = st.one_of(st.binary(max_size=4000), mutated_chapter())


def page_of(body: bytes) -> Page:
    return Page(
        url=URL,
        final_url=URL,
        status=200,
        headers=(("content-type", "text/html"),),
        body=body,
        fetched_at=datetime(2026, 11, 9, 9, tzinfo=UTC),
    )


@settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(body=any_page)
def test_any_bytes_are_a_version_or_a_failed_or_suspect_observation(body: bytes) -> None:
    page = page_of(body)
    text = decode_bytes(body, "text/html")
    analysis = analyse(AnalysisJob(html=text, url=URL))  # never raises
    assert (analysis.chapter is None) != (analysis.error is None) or analysis.same
    if analysis.error is not None:
        assert analysis.error.strip()
    judgement = judge_page(page, analysis.chapter, None)
    assert judgement.outcome in ("ok", "suspect", "failed", "large")
    if judgement.outcome != "ok":
        assert judgement.reason


@settings(
    max_examples=6,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(body=any_page)
def test_any_bytes_through_the_real_pipeline(tmp_path: Path, body: bytes) -> None:
    db = tmp_path / f"any-{next(_RUNS)}.db"  # one database per example
    with FaultSite() as site:
        app = Amendwatch.open(load_settings(str(db), env={}))
        try:
            app.add_manual("faulty", site.url("/"))
            start = datetime(2026, 11, 9, 9, tzinfo=UTC)
            app.snapshot(at=start)
            site.overrides[chapter_path(3)] = body.decode("latin-1")  # served as sent
            app.snapshot(at=start + timedelta(days=1))
        finally:
            app.close()
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM runs WHERE status = 'running'").fetchone() == (0,)
        (outcome, reason) = conn.execute(
            "SELECT outcome, reason FROM observations WHERE url LIKE '%/c3.html' "
            "ORDER BY id DESC LIMIT 1"
        ).fetchone()
        others = conn.execute(
            "SELECT count(*) FROM observations WHERE role = 'chapter' AND url NOT LIKE "
            "'%/c3.html' AND outcome IN ('failed', 'suspect')"
        ).fetchone()
    assert others == (0,)
    assert outcome not in ("failed", "suspect") or reason
