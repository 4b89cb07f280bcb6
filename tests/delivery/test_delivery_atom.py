"""Atom feeds: valid XML with the expected entries, stable ids, hostile content inert."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner

from amendwatch import delivery
from amendwatch.api import Amendwatch
from amendwatch.cli import cli
from reports.atom import FEED_LIMIT, build_feed, render_feed
from reports.periods import parse_range
from tests.reports.reports_builders import prebirth_change

A = "{http://www.w3.org/2005/Atom}"
NOW = datetime(2026, 11, 20, tzinfo=UTC)


def entries(xml: str) -> list[ET.Element]:
    root = ET.fromstring(xml.encode("utf-8"))
    assert root.tag == f"{A}feed"
    return root.findall(f"{A}entry")


def test_feed_of_the_demo_changes_validates_with_expected_entries(app: Amendwatch) -> None:
    changes = app.changes(parse_range("2026-01-01", "2026-12-31"), "northmoor")
    xml = delivery.feed_xml(app, "northmoor", NOW)
    root = ET.fromstring(xml.encode("utf-8"))
    assert root.findtext(f"{A}title") == "amendwatch: northmoor"
    assert root.findtext(f"{A}updated") == max(c.detected_at for c in changes).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    found = entries(xml)
    assert len(found) == len(changes) > 0
    titles = {e.findtext(f"{A}title") for e in found}
    assert titles == {f"{c.chapter_title} — {c.diff.kind}" for c in changes}
    for entry in found:
        assert entry.findtext(f"{A}id", "").startswith(
            "tag:amendwatch,2026-11-09:northmoor/change/"
        )
        link = entry.find(f"{A}link")
        assert link is not None and link.get("href", "").startswith("http://127.0.0.1:")
        content = entry.find(f"{A}content")
        assert content is not None and content.get("type") == "text" and content.text


def test_entry_ids_are_stable_across_renders_and_new_changes(app: Amendwatch) -> None:
    first = [e.findtext(f"{A}id") for e in entries(delivery.feed_xml(app, "northmoor", NOW))]
    later = NOW + timedelta(days=3)
    again = [e.findtext(f"{A}id") for e in entries(delivery.feed_xml(app, "northmoor", later))]
    assert first == again
    assert len(set(first)) == len(first)


def test_hostile_content_stays_inert_text() -> None:
    base = prebirth_change()
    hostile = "<script>alert(1)</script> ]]> &amp; \x00\x1b"
    change = replace(base, chapter_title=hostile, chapter_url='http://x/"><script>')
    xml = render_feed(build_feed(base.manual, [change], generated_at=NOW))
    (entry,) = entries(xml)
    assert entry.findtext(f"{A}title", "").startswith("<script>alert(1)</script> ]]> &amp; ")
    assert "<script>" not in xml
    link = entry.find(f"{A}link")
    assert link is not None and link.get("href") == 'http://x/"><script>'


def test_feed_keeps_the_latest_hundred_newest_first() -> None:
    base = prebirth_change()
    changes = [
        replace(base, change_id=n, detected_at=NOW - timedelta(hours=n)) for n in range(1, 131)
    ]
    feed = build_feed(base.manual, changes, generated_at=NOW)
    assert len(feed.entries) == FEED_LIMIT
    assert feed.entries[0].id.endswith("/change/1")
    assert feed.entries[-1].id.endswith(f"/change/{FEED_LIMIT}")
    assert len(entries(render_feed(feed))) == FEED_LIMIT


def test_empty_feed_is_still_valid() -> None:
    xml = render_feed(build_feed("empty manual", [], generated_at=NOW))
    root = ET.fromstring(xml.encode("utf-8"))
    assert root.findtext(f"{A}updated") == "2026-11-20T00:00:00Z"
    assert root.findtext(f"{A}id") == "tag:amendwatch,2026:empty%20manual/changes"
    assert entries(xml) == []


def test_feed_command_writes_a_file(app: Amendwatch, tmp_path: Path) -> None:
    out = tmp_path / "northmoor.atom"
    db = str(app.settings.db_path)
    result = CliRunner().invoke(cli, ["--db", db, "feed", "northmoor", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert len(entries(out.read_text("utf-8"))) > 0
    missing = CliRunner().invoke(cli, ["--db", db, "feed", "nope"])
    assert missing.exit_code == 1 and missing.output.startswith("Error:")
