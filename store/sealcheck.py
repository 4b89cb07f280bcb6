"""``verify`` over the sealed tables (store/seals.py): walk the seal chain, take each row's
latest sealed hash, then recompute every row's hash. An edited value or two rows' contents
swapped no longer match the row's hash (it covers the id); a row hash recomputed by hand no
longer matches its seal; an inserted row is in no seal; a deleted row is sealed but gone."""

from __future__ import annotations

import json

from sqlite_utils import Database

from store.observations import GENESIS_HASH
from store.seals import SEALED, row_hash, seal_hash

MAX_PER_TABLE = 20
Sealed = dict[str, dict[int, str | None]]


def _walk_seals(db: Database) -> tuple[Sealed, list[str]]:
    """The latest sealed hash of every row (None: deleted by the application), and the first
    broken link of the seal chain."""
    latest: Sealed = {table: {} for table in SEALED}
    expected_prev, previous = GENESIS_HASH, "the start of the seal chain"
    for row in db.query("SELECT * FROM seals ORDER BY id"):
        if row["prev_hash"] != expected_prev:
            return latest, [f"seal {row['id']}: prev_hash does not match {previous} (removed?)"]
        digest = seal_hash(
            row["id"], row["run_id"], row["sealed_at"], row["entries"], row["prev_hash"]
        )
        if digest != row["hash"]:
            return latest, [f"seal {row['id']}: hash mismatch (seal altered)"]
        for table, items in json.loads(row["entries"]).items():
            latest.setdefault(table, {}).update((int(i), h) for i, h in items)
        expected_prev, previous = row["hash"], f"seal {row['id']}"
    return latest, []


def _check_table(db: Database, table: str, sealed: dict[int, str | None]) -> tuple[int, list[str]]:
    problems: list[str] = []
    checked = 0
    columns = ", ".join(SEALED[table])
    select = f"SELECT id, row_hash, {columns} FROM {table} ORDER BY id"
    for row in db.conn.execute(select):  # tuples: no row dicts for 700,000 rows
        checked += 1
        row_id, stored = int(row[0]), row[1]
        expected = sealed.pop(row_id, None)
        if row_hash(table, row_id, *row[2:]) != stored:
            problems.append(f"{table} {row_id}: content does not match its row hash"
                            " (value edited or rows swapped)")  # fmt: skip
        elif expected is None:
            problems.append(f"{table} {row_id}: not covered by any seal (row inserted)")
        elif expected != stored:
            problems.append(f"{table} {row_id}: row hash differs from its seal (row altered)")
    problems += [
        f"{table} {row_id}: sealed but missing (row deleted)"
        for row_id, digest in sorted(sealed.items())
        if digest is not None
    ]
    return checked, problems[:MAX_PER_TABLE]


def check_seals(db: Database) -> tuple[int, list[str]]:
    """(rows checked, problems naming table and row id) over every sealed table."""
    latest, problems = _walk_seals(db)
    checked = 0
    for table in SEALED:
        rows, found = _check_table(db, table, latest.get(table, {}))
        checked += rows
        problems += found
    return checked, problems
