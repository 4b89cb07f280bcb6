"""Chain head (issue 15, part 2): `verify` prints it, `verify --against HEAD` proves the
database still extends a head published earlier, and digests, emails and feeds carry it."""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from pathlib import Path

from click.testing import CliRunner

from amendwatch.api import Amendwatch
from amendwatch.cli import cli
from amendwatch.config import Settings, load_schedule_config
from amendwatch.delivery import build_message, weekly_report
from store.observations import GENESIS_HASH, observation_hash
from tests.audit.conftest import forge, run

HEAD = re.compile(r"chain head: (\d+(?:\.\d+)?:[0-9a-f]{64})", re.IGNORECASE)


def head_of(db: Path) -> str:
    result = run(db, "verify")
    assert result.exit_code == 0, result.output
    found = HEAD.search(result.output)
    assert found, result.output
    return found.group(1)


def against(db: Path, head: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--db", str(db), "verify", "--against", head])
    return result.exit_code, result.output


def rewrite_from(db: Path, obs_id: int, url: str) -> None:
    """What someone with the code does: change a row, then recompute every later hash."""
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    con.execute("UPDATE observations SET url = ? WHERE id = ?", (url, obs_id))
    prev = con.execute(
        "SELECT hash FROM observations WHERE id < ? ORDER BY id DESC LIMIT 1", (obs_id,)
    ).fetchone()
    prev_hash = prev["hash"] if prev else GENESIS_HASH
    rows = con.execute("SELECT * FROM observations WHERE id >= ? ORDER BY id", (obs_id,))
    for row in rows.fetchall():
        fields = dict(row) | {"prev_hash": prev_hash}
        prev_hash = observation_hash(fields)
        con.execute(
            "UPDATE observations SET prev_hash = ?, hash = ? WHERE id = ?",
            (fields["prev_hash"], prev_hash, row["id"]),
        )
    con.commit()
    con.close()


def test_verify_prints_the_stored_head(db_copy: Path) -> None:
    head = head_of(db_copy)
    with sqlite3.connect(db_copy) as con:
        count = con.execute("SELECT COUNT(*) FROM observations").fetchone()[0]
        newest = con.execute("SELECT hash FROM observations ORDER BY id DESC LIMIT 1").fetchone()
        seals = con.execute("SELECT COUNT(*) FROM seals").fetchone()[0]
        seal = con.execute("SELECT hash FROM seals ORDER BY id DESC LIMIT 1").fetchone()
    combined = hashlib.sha256(f"{newest[0]}:{seal[0]}".encode()).hexdigest()
    assert head == f"{count}.{seals}:{combined}"
    code, output = against(db_copy, head)
    assert code == 0 and f"extends the published head {head}" in output


def test_an_earlier_head_is_extended_by_later_observations(db_copy: Path) -> None:
    with sqlite3.connect(db_copy) as con:
        third = con.execute("SELECT hash FROM observations WHERE id = 3").fetchone()[0]
    code, output = against(db_copy, f"3:{third}")
    assert code == 0, output


def test_deleting_the_newest_observations_is_caught_against_an_earlier_head(
    db_copy: Path,
) -> None:
    published = head_of(db_copy)
    with sqlite3.connect(db_copy) as con:
        con.execute(
            "DELETE FROM observations WHERE id IN"
            " (SELECT id FROM observations ORDER BY id DESC LIMIT 2)"
        )
    con.close()
    assert run(db_copy, "verify").exit_code == 0  # the shorter chain is intact in itself
    code, output = against(db_copy, published)
    assert code == 1
    assert len(output.strip().splitlines()) == 1, output
    assert "verify FAILED" in output and "fewer than" in output


def test_editing_an_old_observations_hash_is_caught(db_copy: Path) -> None:
    published = head_of(db_copy)
    with sqlite3.connect(db_copy) as con:
        con.execute("UPDATE observations SET hash = ? WHERE id = 2", ("f" * 64,))
    con.close()
    result = run(db_copy, "verify")
    assert result.exit_code == 1
    assert "observation 2" in result.output
    assert against(db_copy, published)[0] == 1


def test_a_rewritten_history_passes_verify_but_not_against_the_published_head(
    db_copy: Path,
) -> None:
    published = head_of(db_copy)
    rewrite_from(db_copy, 2, "https://forged.example/")
    assert run(db_copy, "verify").exit_code == 0  # every hash recomputed: only the head knows
    code, output = against(db_copy, published)
    assert code == 1
    assert "history rewritten" in output
    assert len(output.strip().splitlines()) == 1, output


def test_a_malformed_head_is_refused(db_copy: Path) -> None:
    code, output = against(db_copy, "12:not-a-hash")
    assert code != 0
    assert "COUNT.SEALS:HASH" in output


def test_a_forged_sealed_row_passes_verify_but_not_against_the_published_head(
    db_copy: Path,
) -> None:
    published = head_of(db_copy)
    forge(db_copy, "versions", 1, {"valid_from": "2020-01-01T00:00:00+00:00"})
    assert run(db_copy, "verify").exit_code == 0  # every hash recomputed: only the head knows
    code, output = against(db_copy, published)
    assert code == 1 and "history rewritten" in output, output
    assert "sealed rows" in output


def test_an_observation_only_head_printed_before_seals_is_still_read(db_copy: Path) -> None:
    with sqlite3.connect(db_copy) as con:
        count = con.execute("SELECT COUNT(*) FROM observations").fetchone()[0]
        newest = con.execute("SELECT hash FROM observations ORDER BY id DESC LIMIT 1").fetchone()
    con.close()
    assert against(db_copy, f"{count}:{newest[0]}")[0] == 0


def test_digest_and_feed_carry_the_head(db_copy: Path) -> None:
    head = head_of(db_copy)
    period = ("--since", "2026-11-01", "--until", "2026-11-30")
    for fmt in ("md", "html"):
        text = run(db_copy, "report", *period, "--format", fmt).output
        assert "Chain head: " in text and head in text
        assert text.index("Chain head") > text.index("Not checked")  # below the reading part
    report_json = json.loads(run(db_copy, "report", *period, "--format", "json").output)
    assert report_json["chain_head"] == head
    feed = run(db_copy, "feed", "northmoor").output
    assert f'<aw:chainHead xmlns:aw="tag:amendwatch,2026:audit">{head}</aw:chainHead>' in feed


def test_the_email_carries_the_head(db_copy: Path, tmp_path: Path) -> None:
    config = tmp_path / "amendwatch.toml"
    config.write_text(
        '[email]\nhost = "127.0.0.1"\nfrom = "aw@example.org"\nto = ["a@example.org"]\n',
        encoding="utf-8",
    )
    email = load_schedule_config(config).email
    assert email is not None
    head = head_of(db_copy)
    app = Amendwatch.open(Settings(db_path=db_copy), readonly=True)
    try:
        message = build_message(weekly_report(app, "2026-W47"), email, app.clock())
    finally:
        app.close()
    plain = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert plain is not None and html is not None
    assert f"Chain head: {head}" in plain.get_content()
    assert head in html.get_content()
