"""Redlines that stay readable without colour, measured in headless Chromium (Playwright).

For every deleted and inserted run of the demo's weekly digest (and of a digest built here with
a number changed from 15 to 10): the text's contrast against the background it is painted on,
from getComputedStyle, is at least WCAG AA's 4.5:1; deleted text is struck through and
bracketed, inserted text underlined, so the two differ in more than a hue; a replacement shows
an arrow between old and new. The same holds with forced colours (a high-contrast theme that
throws every author colour away).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_tools import CHROMIUM, needs_chromium
from click.testing import CliRunner
from diff_match_patch import diff_match_patch

from amendwatch.cli import cli
from differ.models import ChapterDiff, Edit, SectionChange
from reports.digest import build_digest
from reports.models import DetectedChange
from reports.periods import parse_week
from reports.render import render_digest
from scraper.models import Section

sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
pytestmark = needs_chromium
AA = 4.5

# the contrast of each del/ins (and the highlighted numbers inside them) with its background
MEASURE = """
() => {
  const parse = (c) => {
    const p = c.match(/rgba?\\(([^)]+)\\)/)[1].split(',').map(Number);
    return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1};
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c.a > 0) return c;
    }
    return {r: 255, g: 255, b: 255, a: 1};
  };
  const channel = (v) => {
    v /= 255;
    return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
  };
  const lum = (c) => 0.2126 * channel(c.r) + 0.7152 * channel(c.g) + 0.0722 * channel(c.b);
  const ratio = (a, b) => {
    const [x, y] = [lum(a), lum(b)];
    return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
  };
  const runs = document.querySelectorAll(
    'p.redline del, p.redline ins, p.redline del mark, p.redline ins mark');
  return Array.from(runs, (el) => {
    const style = getComputedStyle(el);
    const run = el.closest('del, ins');
    return {
      tag: el.tagName.toLowerCase(),
      run: run.tagName.toLowerCase(),
      text: el.textContent,
      ratio: ratio(parse(style.color), background(el)),
      decoration: getComputedStyle(run).textDecorationLine,
      before: getComputedStyle(run, '::before').content,
      after: getComputedStyle(run, '::after').content,
      follows_del: run.previousElementSibling !== null
        && run.previousElementSibling.tagName === 'DEL',
    };
  });
}
"""


@pytest.fixture(scope="module")
def browser(demo: Path) -> Iterator[Any]:
    # after the demo run: Playwright's sync API keeps an event loop running in this thread,
    # and the demo's fetcher runs its own
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # one demo run per test session, shared with the other folders' demo fixtures
    out = tmp_path_factory.getbasetemp() / "demo-shared"
    if not (out / "report-2026-11.html").exists():
        result = CliRunner().invoke(cli, ["demo", "--output", str(out)], catch_exceptions=False)
        assert result.exit_code == 0, result.output
    return out


def _number_change() -> DetectedChange:
    text = "The conference must be held within {} working days of the strategy discussion."
    old = Section("4", "Conference Timescales", 1, ("4",), text.format(15))
    new = Section("4", "Conference Timescales", 1, ("4",), text.format(10) + " Minutes follow.")
    dmp = diff_match_patch()
    diffs = dmp.diff_main(old.text, new.text)
    dmp.diff_cleanupSemantic(diffs)
    edits = tuple(Edit(op, text) for op, text in diffs)
    section = SectionChange(frozenset({"modified"}), old, new, edits, flags=frozenset({"number"}))
    diff = ChapterDiff("https://x.test/icpc", "updated", 1, 2, (section,))
    week = parse_week("2026-W46")
    return DetectedChange(1, "Manual", "ICPC", diff.chapter_url, week.start, diff)


def _measure(browser: Any, page_file: Path, *, forced_colors: bool = False) -> list[dict[str, Any]]:
    page = browser.new_page()
    try:
        if forced_colors:
            page.emulate_media(forced_colors="active")
        page.goto(page_file.resolve().as_uri())
        runs: list[dict[str, Any]] = page.evaluate(MEASURE)
        return runs
    finally:
        page.close()


def _check(runs: list[dict[str, Any]]) -> None:
    assert {r["run"] for r in runs} == {"del", "ins"}
    low = [(r["tag"], r["text"][:40], round(r["ratio"], 2)) for r in runs if r["ratio"] < AA]
    assert low == []
    for run in runs:
        if run["run"] == "del":
            assert "line-through" in run["decoration"], run
            assert (run["before"], run["after"]) == ('"["', '"]"'), run
        else:
            assert "underline" in run["decoration"], run
            assert "line-through" not in run["decoration"], run
            assert run["before"] == ('"→"' if run["follows_del"] else "none"), run


def test_a_changed_number_reads_old_struck_then_new(browser: Any, tmp_path: Path) -> None:
    digest = build_digest([_number_change()], [], parse_week("2026-W46"))
    page_file = tmp_path / "digest.html"
    page_file.write_text(render_digest(digest, "html"), encoding="utf-8")
    runs = _measure(browser, page_file)
    _check(runs)
    old = [r for r in runs if r["tag"] == "del"]
    new = [r for r in runs if r["tag"] == "ins"]
    assert [r["text"] for r in old] == ["15"]
    assert (new[0]["text"], new[0]["follows_del"]) == ("10", True)
    assert [r["text"] for r in runs if r["tag"] == "mark"] == ["15", "10"]


@pytest.mark.parametrize("forced_colors", [False, True], ids=["colours", "forced-colours"])
def test_demo_digest_redlines_pass_contrast_and_differ_beyond_hue(
    browser: Any, demo: Path, forced_colors: bool
) -> None:
    runs = _measure(browser, demo / "report-edition-2.html", forced_colors=forced_colors)
    assert len(runs) > 20
    _check(runs)
