"""`verify --deep` (issue 15, part 1): what a person with the code can forge so that every
hash and seal agrees is still caught by deriving it again from the captures."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

from store.codec import pack_content, pack_diff, unpack_diff
from store.db import open_db_readonly
from store.rows import fetch_all
from store.versions import change_summary, content_dictionary, version_chapter
from tests.audit.conftest import forge, run


def deep(path: Path) -> tuple[int, str]:
    result = run(path, "verify", "--deep")
    return result.exit_code, result.output


def plain_ok(path: Path) -> bool:
    return run(path, "verify").exit_code == 0


def test_an_intact_database_is_re_derived_exactly(db_copy: Path) -> None:
    code, output = deep(db_copy)
    assert code == 0, output
    with sqlite3.connect(db_copy) as con:
        versions = con.execute("SELECT COUNT(*) FROM versions").fetchone()[0]
        changes = con.execute("SELECT COUNT(*) FROM changes").fetchone()[0]
    con.close()
    assert f"deep ok: {versions} versions re-extracted" in output
    assert f"{changes} changes re-diffed" in output


def test_forged_version_content_is_caught(db_copy: Path) -> None:
    db = open_db_readonly(db_copy)
    (row,) = fetch_all(db, "SELECT * FROM versions WHERE id = 2")
    chapter = version_chapter(db, row)
    dictionary = content_dictionary(db, row)
    db.close()
    sections = list(chapter.sections)
    sections[1] = replace(sections[1], text=sections[1].text + " Staff may ignore this.")
    forged = replace(chapter, sections=tuple(sections))
    assert forged.content_hash != chapter.content_hash
    content = pack_content(forged, dictionary)
    forge(db_copy, "versions", 2, {"content": content, "content_hash": forged.content_hash})
    assert plain_ok(db_copy)  # every row hash and seal recomputed
    code, output = deep(db_copy)
    assert code == 1
    assert "versions row 2" in output and "re-extracted from observation" in output


def test_forged_version_title_is_caught(db_copy: Path) -> None:
    forge(db_copy, "versions", 1, {"title": "A title the page never had"})
    assert plain_ok(db_copy)
    code, output = deep(db_copy)
    assert code == 1 and "versions row 1" in output and "title" in output, output


def test_forged_sections_rows_are_caught(db_copy: Path) -> None:
    with sqlite3.connect(db_copy) as con:
        second = con.execute(
            "SELECT id FROM sections WHERE version_id = 1 ORDER BY ordinal LIMIT 1 OFFSET 1"
        ).fetchone()[0]
    con.close()
    forge(db_copy, "sections", second, {"title": "Forged heading"})
    assert plain_ok(db_copy)
    code, output = deep(db_copy)
    assert code == 1 and f"sections row {second}" in output, output


def test_a_deleted_sections_row_is_caught(db_copy: Path) -> None:
    with sqlite3.connect(db_copy) as con:
        (last,) = con.execute(
            "SELECT id FROM sections WHERE version_id = 1 ORDER BY ordinal DESC LIMIT 1"
        ).fetchone()
    con.close()
    forge(db_copy, "sections", last, None)
    assert plain_ok(db_copy)
    code, output = deep(db_copy)
    assert code == 1 and "versions row 1" in output and "sections rows" in output, output


def test_a_forged_change_is_caught(db_copy: Path) -> None:
    db = open_db_readonly(db_copy)
    (row,) = fetch_all(db, "SELECT * FROM changes WHERE kind = 'updated' ORDER BY id LIMIT 1")
    db.close()
    stored = unpack_diff(row["diff"])
    forged = replace(stored, sections=stored.sections[1:])  # hide one changed section
    assert stored.sections
    values = {"diff": pack_diff(forged), "summary": change_summary(forged)}
    forge(db_copy, "changes", int(row["id"]), values)
    assert plain_ok(db_copy)
    code, output = deep(db_copy)
    assert code == 1 and f"changes row {row['id']}" in output and "re-diffed" in output


def test_a_change_summary_that_disagrees_with_its_diff_is_caught(db_copy: Path) -> None:
    forge(db_copy, "changes", 1, {"summary": "nothing of note"})
    assert plain_ok(db_copy)
    code, output = deep(db_copy)
    assert code == 1 and "changes row 1" in output and "summary" in output, output


def test_verify_json_carries_against_deep_and_its_failures(db_copy: Path) -> None:
    import json  # noqa: PLC0415

    import jsonschema  # type: ignore[import-untyped]  # noqa: PLC0415

    schema = json.loads((Path(__file__).parents[2] / "docs/schemas/verify.json").read_text())
    head = run(db_copy, "verify").output.split("chain head: ")[1].split()[0]
    good = run(db_copy, "verify", "--format", "json", "--deep", "--against", head)
    data = json.loads(good.output)
    jsonschema.validate(data, schema)
    assert good.exit_code == 0 and data["ok"] and data["deep"]["ok"]
    assert data["against"] == {"head": head, "ok": True, "problem": None}
    forge(db_copy, "versions", 1, {"title": "A title the page never had"})
    bad = run(db_copy, "verify", "--format", "json", "--deep")
    data = json.loads(bad.output)
    jsonschema.validate(data, schema)
    assert bad.exit_code == 1 and data["ok"] and not data["deep"]["ok"]
    assert any("versions row 1" in problem for problem in data["deep"]["problems"])
