"""rederive re-extracts with the manual's own rules: its ignore selectors and text patterns
as well as its content selector, so an unchanged rule set re-derives every version as is."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from amendwatch import audit
from amendwatch.api import Amendwatch
from amendwatch.config import Settings
from tests.integration.minisite import MiniSite, contents_html

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
CHAPTER = (
    "<html><head><title>Strategy Meetings</title></head><body><main><h1>Strategy Meetings</h1>"
    '<div class="editor-note">Editor: check this paragraph before publication.</div>'
    "<h2>1. Purpose</h2><p>A strategy meeting decides whether to start enquiries.</p>"
    "<p>Page reviewed on 14 November 2026</p>"
    "<h2>2. Attendance</h2><p>Police, children's social care and health attend.</p>"
    "</main></body></html>"
)


def test_rederive_applies_the_manuals_ignore_rules(tmp_path: Path) -> None:
    with MiniSite() as site:
        site.pages["/"] = contents_html([("1.1", "Strategy Meetings", "/ch/strategy.html")])
        site.pages["/ch/strategy.html"] = CHAPTER
        app = Amendwatch.open(Settings(db_path=tmp_path / "aw.db"), clock=lambda: T0)
        app.add_manual(
            "m",
            f"{site.base_url}/",
            ignore_selectors=(".editor-note",),
            ignore_patterns=(r"^Page reviewed on ",),
        )
        app.snapshot(["m"], at=T0)
        (version,) = app.db.execute("SELECT id FROM versions").fetchall()
        try:
            results = audit.rederive_versions(app)
            overridden = audit.rederive_versions(app, selector="main")
            derivations = app.db.execute("SELECT COUNT(*) FROM derivations").fetchone()[0]
        finally:
            app.close()
    assert [(r.version_id, r.error, r.old_hash == r.new_hash) for r in results] == [
        (version[0], "", True)
    ]
    # a selector override keeps the ignore rules: <main> without the note and the
    # reviewed-on line is what was stored, so nothing differs and nothing is recorded
    assert [(r.error, r.old_hash == r.new_hash) for r in overridden] == [("", True)]
    assert derivations == 0
