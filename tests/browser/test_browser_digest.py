"""The demo's weekly digest as a reader sees it in Chromium: DOM, screenshot, A4 print.

Set AMENDWATCH_SCREENSHOTS=1 to refresh docs/screenshots/digest.png from this run.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
from pathlib import Path

import pytest
from browser_tools import dump_dom, needs_chromium, run_chromium
from bs4 import BeautifulSoup
from click.testing import CliRunner

from amendwatch.cli import cli

pytestmark = needs_chromium
DOCS_SHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "digest.png"
A4_POINTS = (595.28, 841.89)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # one demo run per test session, shared with the other folder's demo fixture
    out = tmp_path_factory.getbasetemp() / "demo-shared"
    if not (out / "report-2026-11.html").exists():
        result = CliRunner().invoke(cli, ["demo", "--output", str(out)], catch_exceptions=False)
        assert result.exit_code == 0, result.output
    return out


def test_digest_reads_right_after_the_browser_has_run_it(demo: Path, tmp_path: Path) -> None:
    soup = BeautifulSoup(dump_dom(demo / "report-edition-2.html", tmp_path), "html.parser")
    assert soup.h1.get_text(strip=True) == "Change report – 9–15 November 2026"
    summary = {tr.th.get_text(): tr.td.get_text() for tr in soup.select("table.summary tr")}
    assert summary["Chapters changed"] == "2"  # Agency Roles is cosmetic only: not counted
    assert summary["Pages not checked"] == "0"
    assert len(soup.select("figure.chart svg rect.bar")) == 2  # watched since the week before
    heading = next(
        h
        for h in soup.find_all("h4")
        if h.get_text().startswith("Section 4, Conference Timescales")
    )
    assert heading is not None
    redline = heading.find_next("p", class_="redline")
    assert [d.get_text() for d in redline.find_all("del")] == ["15"]
    assert [i.get_text() for i in redline.find_all("ins")] == ["10"]
    assert redline.ins.mark is not None  # the changed number is highlighted
    layout = soup.select_one("p.layout").get_text(" ", strip=True)
    assert "Section 6, Who Should Attend (was Section 5)" in layout
    cosmetic = soup.select_one("details.cosmetic summary").get_text()
    assert cosmetic.startswith("2 cosmetic changes")
    live = [a["href"] for a in soup.select("dl.evidence a")]
    assert live and all(str(h).startswith("http://127.0.0.1:") for h in live)
    hashes = [c.get_text() for c in soup.select("dl.evidence code")]
    assert hashes and all(re.fullmatch(r"[0-9a-f]{64}", h) for h in hashes)
    assert soup.find(id="not-checked").find_next("p").get_text() == "Every page was checked."
    assert soup.find("script") is None


def _png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


def test_screenshot_of_the_weekly_digest(demo: Path, tmp_path: Path) -> None:
    shot = tmp_path / "digest.png"
    run_chromium(
        demo / "report-edition-2.html",
        tmp_path,
        f"--screenshot={shot}",
        "--window-size=1200,1600",
        "--hide-scrollbars",
    )
    assert _png_size(shot) == (1200, 1600)
    assert shot.stat().st_size > 30_000  # text, tables and a chart: not a blank page
    if os.environ.get("AMENDWATCH_SCREENSHOTS"):
        DOCS_SHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, DOCS_SHOT)


def test_month_report_prints_on_a4(demo: Path, tmp_path: Path) -> None:
    pdf = tmp_path / "report.pdf"
    run_chromium(
        demo / "report-2026-11.html", tmp_path, f"--print-to-pdf={pdf}", "--no-pdf-header-footer"
    )
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-")
    boxes = re.findall(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", data)
    assert len(boxes) >= 2  # several pages, every one A4
    for width, height in boxes:
        assert abs(float(width) - A4_POINTS[0]) < 2 and abs(float(height) - A4_POINTS[1]) < 2
