"""Review and sign-off through the web application: a change's review kept as history (who,
when), filtering by review state, the review state in JSON, drafts edited and approved in the
name of the logged-in user, the approved page exported; every action in the audit log, which
`verify` covers."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

from amendwatch.api import Amendwatch
from amendwatch.config import Settings
from amendwatch.reviews import add_review_state
from reports.periods import parse_range
from tests.web.conftest import Clock, logged_in, make_client, run


def test_a_review_is_recorded_with_its_history_and_filters_the_list(
    db_path: Path, clock: Clock
) -> None:
    with make_client(db_path, clock) as client:
        token = logged_in(client, "reviewer")
        page = client.get("/changes/1")
        assert 'action="/changes/1/review"' in page.text and "not reviewed" in page.text
        first = {"status": "acknowledged", "impact": "high", "owner": "Safeguarding lead",
                 "note": "Check the conference timescales.", "csrf_token": token}  # fmt: skip
        saved = client.post("/changes/1/review", data=first)
        assert saved.status_code == 303 and saved.headers["location"].startswith("/changes/1?")
        clock.advance(timedelta(minutes=20))
        second = {**first, "status": "done", "note": "Procedure updated."}
        assert client.post("/changes/1/review", data=second).status_code == 303
        page = client.get("/changes/1").text
        assert "Review saved." not in page  # only after the redirect with ?saved=1
        assert page.count("<td>reviewer</td>") == 2  # both edits, with who
        assert "Procedure updated." in page and "Check the conference timescales." in page
        assert "2026-11-17 10:20" in page and "2026-11-17 10:00" in page  # and when

        listed = client.get("/changes?since=2026-11-01&until=2026-11-30&status=done").text
        assert 'data-change="1"' in listed and 'data-change="2"' not in listed
        owned = client.get("/changes?since=2026-11-01&until=2026-11-30&owner=safeguarding lead")
        assert 'data-change="1"' in owned.text and 'data-change="2"' not in owned.text
        pending = client.get("/changes?since=2026-11-01&until=2026-11-30&status=open").text
        assert 'data-change="1"' not in pending and 'data-change="2"' in pending
        bad = client.post("/changes/1/review", data={**first, "status": "finished"})
        assert bad.status_code == 400 and "unknown status" in bad.text

    app = Amendwatch.open(Settings(db_path=db_path), clock)
    try:
        payload = app.changes_json(parse_range("2026-11-01", "2026-11-30"))
        add_review_state(payload, app)
    finally:
        app.close()
    by_id = {item["change_id"]: item["review"] for item in payload["changes"]}
    assert by_id[1]["status"] == "done" and by_id[1]["impact"] == "high"
    assert by_id[1]["reviewed_by"] == "reviewer" and by_id[2] is None


def test_a_viewer_sees_the_review_but_no_form(db_path: Path, clock: Clock) -> None:
    with make_client(db_path, clock) as client:
        logged_in(client, "viewer")
        page = client.get("/changes/1").text
        assert "<ins" in page or "<del" in page or "Its sections" in page  # the redline
        assert "Evidence" in page and "content hash" in page
        assert 'action="/changes/1/review"' not in page


def test_drafts_are_edited_and_approved_in_the_users_name(db_path: Path, clock: Clock) -> None:
    with make_client(db_path, clock) as client:
        token = logged_in(client, "editor")
        text = "This chapter now says who chairs the conference."
        edited = client.post("/drafts/2/edit", data={"details": text, "csrf_token": token})
        assert edited.status_code == 303
        approved = client.post("/drafts/2/approve", data={"csrf_token": token})
        assert approved.headers["location"] == "/drafts/2?saved=approved"
        page = client.get("/drafts/2").text
        assert "<td>editor</td><td>edit</td>" in page and "<td>editor</td><td>approved</td>" in page
        assert "last changed by editor" in page
        listing = client.get("/drafts?period=2026-11").text
        assert "status-approved" in listing
        exported = client.get("/drafts/export?period=2026-11&format=html")
        assert exported.status_code == 200 and text in exported.text
        assert "'sha256-" in exported.headers["content-security-policy"]
        markdown = client.get("/drafts/export?period=2026-11&format=md")
        assert "attachment" in markdown.headers["content-disposition"] and text in markdown.text
        empty = client.get("/drafts/export?period=2026-10&format=html")
        assert empty.status_code == 400 and "no approved entries" in empty.text
    with sqlite3.connect(db_path) as conn:
        who = conn.execute("SELECT who, action FROM draft_events WHERE draft_id = 2").fetchall()
        assert who == [("editor", "edit"), ("editor", "approved")]


def test_every_action_is_in_the_audit_log_and_verify_covers_it(db_path: Path, clock: Clock) -> None:
    with make_client(db_path, clock) as client:
        token = logged_in(client, "admin")
        client.post("/changes/1/review", data={"status": "acknowledged", "csrf_token": token})
        client.post("/drafts/3/reject", data={"csrf_token": token})
        client.get("/drafts/export?period=2026-11&format=md")
        account = {"name": "auditor", "role": "viewer", "password": "a long password"}
        client.post("/admin/users/add", data={**account, "csrf_token": token})
        client.post("/logout", data={"csrf_token": token})
        assert client.get("/admin/audit").status_code == 303
        logged_in(client, "admin")
        page = client.get("/admin/audit").text
    for action in ("login", "review", "draft reject", "draft export", "user add", "logout"):
        assert f"<td>{action}</td>" in page, action
    assert "<td>change 1</td>" in page and "<td>user auditor</td>" in page
    assert run(db_path, "verify").exit_code == 0
    with sqlite3.connect(db_path) as conn:
        conn.execute("UPDATE audit_log SET who = 'someone else' WHERE action = 'review'")
    result = run(db_path, "verify")
    assert result.exit_code != 0 and "audit_log" in result.output
