"""A real database for the audit tests: the demo manual served on loopback (static bodies,
so repeated captures are byte-identical) snapshotted through the CLI at several ``--at`` dates."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from amendwatch.cli import cli
from amendwatch.demo.server import DemoServer
from store.observations import GENESIS_HASH
from store.seals import hash_of_row, seal_hash

AT1 = "2026-11-02T09:00:00+00:00"
AT1B = "2026-11-03T09:00:00+00:00"  # edition 1 again: unchanged, identical bodies
AT2 = "2026-11-09T09:00:00+00:00"
AT3 = "2026-11-16T09:00:00+00:00"
AT4 = "2026-11-23T09:00:00+00:00"  # edition 3 again: the removal is confirmed


def run(db: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--db", str(db), *args], catch_exceptions=False)


def build(path: Path, *, validators: bool = False) -> Path:
    with DemoServer(validators=validators, dynamic=False) as server:
        added = run(path, "manual", "add", "northmoor", f"{server.base_url}/")
        assert added.exit_code == 0, added.output
        for edition, at in ((1, AT1), (1, AT1B), (2, AT2), (3, AT3), (3, AT4)):
            server.set_edition(edition)
            result = run(path, "snapshot", "--at", at)
            assert result.exit_code == 0, result.output
    return path


@pytest.fixture(scope="session")
def built_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("audit") / "aw.db")


@pytest.fixture
def db_copy(built_db: Path, tmp_path: Path) -> Iterator[Path]:
    """A private copy of the built database, for tests that change it."""
    target = tmp_path / "copy.db"
    shutil.copyfile(built_db, target)
    yield target


def forge(path: Path, table: str, row_id: int, values: Mapping[str, Any] | None) -> None:
    """What a person with the code does: change a sealed row (``values``; None deletes it),
    recompute its row hash, and rewrite the whole seal chain to agree, so that `verify`
    (without a published head) finds nothing."""
    con = sqlite3.connect(path)
    con.row_factory = sqlite3.Row
    digest: str | None = None
    if values is None:
        con.execute(f"DELETE FROM {table} WHERE id = ?", (row_id,))
    else:
        assignments = ", ".join(f"{column} = ?" for column in values)
        con.execute(f"UPDATE {table} SET {assignments} WHERE id = ?", (*values.values(), row_id))
        row = dict(con.execute(f"SELECT * FROM {table} WHERE id = ?", (row_id,)).fetchone())
        digest = hash_of_row(table, row)
        con.execute(f"UPDATE {table} SET row_hash = ? WHERE id = ?", (digest, row_id))
    prev = GENESIS_HASH
    for seal in con.execute("SELECT * FROM seals ORDER BY id").fetchall():
        entries = json.loads(seal["entries"])
        items = [i for i in entries.get(table, []) if values is not None or i[0] != row_id]
        for item in items:
            if item[0] == row_id and item[1] is not None:
                item[1] = digest
        if table in entries:
            entries[table] = items
        text = json.dumps(entries, sort_keys=True, separators=(",", ":"))
        new_hash = seal_hash(seal["id"], seal["run_id"], seal["sealed_at"], text, prev)
        con.execute(
            "UPDATE seals SET entries = ?, prev_hash = ?, hash = ? WHERE id = ?",
            (text, prev, new_hash, seal["id"]),
        )
        prev = new_hash
    con.commit()
    con.close()
