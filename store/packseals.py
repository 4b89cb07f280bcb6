"""The seals an evidence pack carries (``seals.json``): for each database row the pack relies on
(the chapter, the two versions, the changes and drafts between them), its sealed values, its
``row_hash`` and the seal that last sealed it, so a third party can recompute the row hash and
find it in the seal, and the seal's hash from its fields, with Python's standard library alone.

The seals between that seal and the chain head are not copied (they can be large); the head
pins them, and ``amendwatch verify --against HEAD`` on the database proves the link.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlite_utils import Database

from store.rows import fetch_all, fetch_one
from store.seals import SEALED, row_hash

RULE = (
    "row_hash = sha256(json.dumps([table, id, *values], ensure_ascii=False,"
    " separators=(',', ':'))) with values in the order of `columns` (a BLOB as"
    ' ["blob", hex]); seal.hash = sha256(json.dumps([seal.id, seal.run_id, seal.sealed_at,'
    " seal.entries, seal.prev_hash], separators=(',', ':'))), and seal.entries lists"
    " [id, row_hash] per table"
)


def _latest_seals(db: Database, wanted: set[tuple[str, int]]) -> dict[tuple[str, int], int]:
    """The id of the newest seal holding each wanted row (newest first: stop when all found)."""
    found: dict[tuple[str, int], int] = {}
    last = None
    while len(found) < len(wanted):
        where, args = ("WHERE id < ?", (last,)) if last is not None else ("", ())
        batch = fetch_all(db, f"SELECT id, entries FROM seals {where} ORDER BY id DESC LIMIT 50",
                          args)  # fmt: skip
        if not batch:
            break
        for seal in batch:
            for table, items in json.loads(seal["entries"]).items():
                for row_id, _ in items:
                    key = (table, int(row_id))
                    if key in wanted and key not in found:
                        found[key] = int(seal["id"])
        last = batch[-1]["id"]
    return found


def _row_entry(db: Database, table: str, row_id: int, seal_id: int | None) -> dict[str, Any]:
    columns = SEALED[table]
    row = fetch_one(db, f"SELECT id, {', '.join(columns)}, row_hash FROM {table} WHERE id = ?",
                    (row_id,))  # fmt: skip
    if row is None:
        return {"table": table, "id": row_id, "missing": True}
    values = [row[c] for c in columns]
    shown = [["blob", bytes(v).hex()] if isinstance(v, bytes | memoryview) else v for v in values]
    return {
        "table": table,
        "id": row_id,
        "columns": list(columns),
        "values": shown,
        "row_hash": row["row_hash"],
        "recomputed": row_hash(table, row_id, *values),
        "seal": seal_id,
    }


def pack_seals(db: Database, rows: Iterable[tuple[str, int]]) -> bytes:
    """``seals.json`` for ``rows`` ((table, id) pairs of sealed tables)."""
    wanted = {(table, int(row_id)) for table, row_id in rows if table in SEALED}
    latest = _latest_seals(db, wanted)
    entries = [_row_entry(db, t, i, latest.get((t, i))) for t, i in sorted(wanted)]
    seals = [
        dict(row)
        for row in fetch_all(
            db,
            "SELECT id, run_id, sealed_at, entries, prev_hash, hash FROM seals WHERE id IN"
            f" ({', '.join('?' * len(set(latest.values())))}) ORDER BY id",
            tuple(sorted(set(latest.values()))),
        )
    ] if latest else []  # fmt: skip
    document = {"rule": RULE, "rows": entries, "seals": seals}
    return json.dumps(document, indent=1, ensure_ascii=False).encode("utf-8")


VERIFY_SECTION = """
## Seals of the rows this pack relies on

`seals.json` lists each database row the pack's answers rest on (the chapter, both versions
and their sections, the changes and drafted entries between them) with its sealed `values`,
its `row_hash`, and the `seal` that last sealed it (the seals themselves are in `seals`). With
Python's standard library alone:

    import hashlib, json
    pack = json.load(open("seals.json"))
    seals = {s["id"]: s for s in pack["seals"]}
    for row in pack["rows"]:
        text = json.dumps([row["table"], row["id"], *row["values"]],
                          ensure_ascii=False, separators=(",", ":"))
        assert hashlib.sha256(text.encode()).hexdigest() == row["row_hash"], row["id"]
        seal = seals[row["seal"]]
        assert [row["id"], row["row_hash"]] in json.loads(seal["entries"])[row["table"]]
    for s in pack["seals"]:
        text = json.dumps([s["id"], s["run_id"], s["sealed_at"], s["entries"], s["prev_hash"]],
                          separators=(",", ":"))
        assert hashlib.sha256(text.encode()).hexdigest() == s["hash"], s["id"]

Each seal is chained to the one before it by `prev_hash`, up to the newest seal, which the
chain head `COUNT.SEALS:HASH` pins; `amendwatch verify --against` that head, on the database,
proves the link.
"""
