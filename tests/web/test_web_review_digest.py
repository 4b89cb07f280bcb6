"""Review state recorded in the web application shows in the digest: HTML, Markdown and JSON
(issue 16, "Review state shows in the digest and the JSON")."""

from __future__ import annotations

import json
from pathlib import Path

from bs4 import BeautifulSoup

from store.db import open_db
from store.reviews import record_review
from tests.web.conftest import NOW, run

PERIOD = ("--since", "2026-11-01", "--until", "2026-11-30")


def test_a_review_shows_beside_its_change_in_every_digest_format(db_path: Path) -> None:
    before = json.loads(run(db_path, "report", *PERIOD, "--format", "json").output)
    change_id = before["changes"][0]["change_id"]
    assert all(item["review"] is None for item in before["changes"])
    db = open_db(db_path)
    record_review(db, change_id, status="action needed", impact="high", owner="Dana",
                  note="update our policy", who="reviewer", now=NOW)  # fmt: skip
    db.close()
    after = json.loads(run(db_path, "report", *PERIOD, "--format", "json").output)
    reviewed = {item["change_id"]: item["review"] for item in after["changes"]}
    assert reviewed[change_id]["status"] == "action needed"
    assert reviewed[change_id]["owner"] == "Dana" and reviewed[change_id]["who"] == "reviewer"
    assert sum(1 for review in reviewed.values() if review) == 1
    html = BeautifulSoup(run(db_path, "report", *PERIOD, "--format", "html").output, "lxml")
    article = html.select_one(f"#change-{change_id}")
    assert article is not None
    note = article.select_one("p.review")
    assert note is not None and "action needed, impact high, owner Dana" in note.text
    assert len(html.select("p.review")) == 1
    markdown = run(db_path, "report", *PERIOD, "--format", "md").output
    assert f"(change {change_id}). Review: action needed, impact high, owner Dana" in markdown
