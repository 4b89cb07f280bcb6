"""``--format json`` of history, runs, manual list and verify, validated against the JSON
Schemas in docs/schemas/ (the ones docs/json.md documents), over a real database that a real
``snapshot`` filled from a loopback site; and ``changes`` in the order of detection."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
from click.testing import CliRunner, Result

from amendwatch.api import Amendwatch
from amendwatch.cli import cli
from amendwatch.config import load_settings
from amendwatch.jsonout import SCHEMA_VERSION, verify_json
from store.chainhead import chain_head
from store.models import VerifyResult
from tests.integration.minisite import MiniSite, chapter_html, contents_html

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "docs" / "schemas"
T1, T2, T3 = "2026-11-02T09:00:00+00:00", "2026-11-09T09:00:00+00:00", "2026-11-16T09:00:00+00:00"
SCOPE = "This chapter applies to every ward and to every member of staff on it. " * 4
CHAPTERS = [("1", "Admissions", "/ch/admissions"), ("2", "Discharge", "/ch/discharge")]


def run(db: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--db", str(db), *args], catch_exceptions=False)


def ok(db: Path, *args: str) -> Any:
    """The parsed JSON of a command that must succeed."""
    result = run(db, *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def validate(document: Any, schema_name: str) -> None:
    schema = json.loads((SCHEMAS / schema_name).read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    ).validate(document)


def chapter(title: str, days: str) -> str:
    return chapter_html(
        title, [("1.1 Scope", SCOPE), ("1.2 Timescales", f"Within {days} working days. " * 6)]
    )


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Three runs: T1 both chapters read; T2 Discharge changed; T3 Admissions changed and
    Discharge answering 404 (a partial run). Admissions sorts first by number, last by time."""
    path = tmp_path_factory.mktemp("json") / "aw.db"
    with MiniSite() as site:
        site.pages["/"] = contents_html(CHAPTERS)
        site.pages["/ch/admissions"] = chapter("Admissions", "10")
        site.pages["/ch/discharge"] = chapter("Discharge", "10")
        added = run(path, "manual", "add", "ward", f"{site.base_url}/", "--header", "X-Team: a")
        assert added.exit_code == 0, added.output
        assert run(path, "snapshot", "--quiet", "--at", T1).exit_code == 0
        site.pages["/ch/discharge"] = chapter("Discharge", "5")
        assert run(path, "snapshot", "--quiet", "--at", T2).exit_code == 0
        site.pages["/ch/admissions"] = chapter("Admissions", "15")
        site.statuses["/ch/discharge"] = 404
        assert run(path, "snapshot", "--quiet", "--at", T3).exit_code == 3
    yield path


def test_history_json_has_every_version(db: Path) -> None:
    data = ok(db, "history", "Admissions", "--format", "json")
    validate(data, "history.json")
    assert data["schema_version"] == SCHEMA_VERSION == 1
    assert data["chapter"]["title"] == "Admissions" and data["chapter"]["number"] == "1"
    versions = data["versions"]
    assert [v["valid_from"] for v in versions] == [T1, T3]
    assert versions[0]["valid_to"] == T3 and versions[1]["valid_to"] is None
    text = run(db, "history", "Admissions").output
    assert all(f"v{v['version_id']} " in text and v["content_hash"][:12] in text for v in versions)


def test_history_json_follows_one_section(db: Path) -> None:
    data = ok(db, "history", "Admissions", "--section", "1.2", "--format", "json")
    validate(data, "history.json")
    assert data["section"] == "1.2" and "versions" not in data
    timeline = data["timeline"]
    assert [event["changed"] for event in timeline] == [True, True]  # added, then edited
    assert "Within 15 working days" in timeline[-1]["text"]
    assert len({event["lineage_id"] for event in timeline}) == 1


def test_runs_json_names_what_was_not_checked(db: Path) -> None:
    data = ok(db, "runs", "--format", "json")
    validate(data, "runs.json")
    newest, middle, first = data["runs"]
    assert [first["status"], middle["status"], newest["status"]] == ["ok", "ok", "partial"]
    assert first["not_checked"] == [] and first["errors"] == []
    assert newest["failed"] == 1 and newest["changed"] == 1
    (missed,) = newest["not_checked"]
    assert missed["url"].endswith("/ch/discharge") and missed["role"] == "chapter"
    assert missed["status"] == 404 and missed["outcome"] == "failed"
    assert missed["reason"].startswith("HTTP 404") and missed["manual"] == "ward"
    assert any("/ch/discharge" in error for error in newest["errors"])


def test_manual_list_json(db: Path) -> None:
    data = ok(db, "manual", "list", "--format", "json")
    validate(data, "manual-list.json")
    (ward,) = data["manuals"]
    assert ward["name"] == "ward" and ward["contents_url"].endswith("/")
    assert ward["headers"] == [{"name": "X-Team", "value": "a"}] and ward["cookies"] == []
    assert ward["display_name"] is None and ward["ignore_selectors"] == []


def test_manual_list_json_of_an_empty_database(tmp_path: Path) -> None:
    data = ok(tmp_path / "new.db", "manual", "list", "--format", "json")
    validate(data, "manual-list.json")
    assert data == {"schema_version": 1, "manuals": []}


def test_verify_json_of_a_real_database(db: Path) -> None:
    app = Amendwatch.open(load_settings(str(db)), readonly=True)
    try:
        result, head = app.verify(), chain_head(app.db)
    finally:
        app.close()
    data: Any = json.loads(json.dumps(verify_json(result, head, {"against": None})))
    validate(data, "verify.json")
    assert data["ok"] is True and data["problems"] == [] and data["against"] is None
    assert data["chain_head"]["text"] == head.text and data["observations"] == head.count
    assert data["sealed"] > 0 and data["checked"] == data["observations"] + data["bodies"]


def test_verify_json_of_a_failure_and_its_extra_members() -> None:
    failed = VerifyResult(ok=False, checked=3, problems=("versions 7: row altered",), sealed=9)
    head = type("Head", (), {"text": "2.1:" + "a" * 64, "count": 2, "seals": 1, "hash": "a" * 64})
    data = verify_json(failed, head, {"deep": {"ok": True}})  # type: ignore[arg-type]
    validate(data, "verify.json")
    assert data["deep"] == {"ok": True} and data["problems"] == ["versions 7: row altered"]
    with pytest.raises(jsonschema.ValidationError):  # ok with a problem contradicts itself
        validate({**data, "ok": True}, "verify.json")
    with pytest.raises(ValueError, match="ok"):
        verify_json(failed, head, {"ok": True})  # type: ignore[arg-type]


def test_changes_are_listed_in_the_order_they_were_detected(db: Path) -> None:
    data = ok(db, "changes", "--format", "json")
    detected = [change["detected_at"] for change in data["changes"]]
    assert detected == [T2, T3]
    titles = [change["chapter_title"] for change in data["changes"]]
    assert titles == ["Discharge", "Admissions"]  # by time, not by chapter number
    text = run(db, "changes").output
    stamps = re.findall(r"^(\d{4}-\d\d-\d\d[ T][\d:]+)", text, flags=re.MULTILINE)
    assert stamps == sorted(stamps) and len(stamps) == 2
    assert text.index("Discharge  [updated]") < text.index("Admissions  [updated]")


def test_every_schema_is_documented() -> None:
    page = (ROOT / "docs" / "json.md").read_text(encoding="utf-8")
    names = sorted(path.name for path in SCHEMAS.glob("*.json"))
    assert names == ["history.json", "manual-list.json", "runs.json", "verify.json"]
    for name in names:
        assert f"schemas/{name}" in page, name
        schema = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
        assert schema["properties"]["schema_version"] == {"const": SCHEMA_VERSION}
