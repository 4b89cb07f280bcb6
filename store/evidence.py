"""Evidence: prove that no observation was altered or removed and every body is intact."""

from __future__ import annotations

import contextlib
import hashlib
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

from sqlite_utils import Database

from amendwatch.errors import IntegrityError, NotFoundError
from store.models import VerifyResult
from store.observations import GENESIS_HASH, base_bytes, decompress, observation_hash
from store.rows import fetch_one
from store.sealcheck import check_seals
from store.seals import seal_on_close

MAX_BODY_PROBLEMS = 20


def _check_chain(db: Database) -> tuple[int, str | None]:
    """Walk the observations in id order; return (rows checked, first broken link or None)."""
    expected_prev = GENESIS_HASH
    previous_id: int | None = None
    checked = 0
    cursor = db.conn.execute("SELECT * FROM observations ORDER BY id")
    names = [column[0] for column in cursor.description]
    for values in cursor:  # tuples zipped with the names: sqlite-utils' row dicts cost more
        row = dict(zip(names, values, strict=True))
        checked += 1
        if row["prev_hash"] != expected_prev:
            before = f"observation {previous_id}" if previous_id else "the start of the chain"
            return checked, (
                f"observation {row['id']}: prev_hash does not match {before} (row removed?)"
            )
        if observation_hash(row) != row["hash"]:
            return checked, f"observation {row['id']}: hash mismatch (row altered)"
        expected_prev = row["hash"]
        previous_id = row["id"]
    return checked, None


def _check_bodies(db: Database) -> tuple[int, list[str]]:
    """Every body decompresses (a delta through its base) to bytes matching its hash and size.
    A base is read just before its deltas, so each base is decompressed once."""
    problems: list[str] = []
    checked = 0
    current: tuple[str, bytes | None] = ("", None)  # the last whole body read, for its deltas
    for row in db.query(
        "SELECT sha256, size, compression, data, base_sha256 FROM bodies"
        " ORDER BY COALESCE(base_sha256, sha256), base_sha256 IS NOT NULL, sha256"
    ):
        checked += 1
        label = f"body {row['sha256'][:12]}"
        base = row["base_sha256"]
        if base is not None and current[0] != base:
            current = (base, _base_or_none(db, row["sha256"], base))
        if base is not None and current[1] is None:
            problems.append(f"{label}: its delta base {base[:12]} is missing or damaged")
            continue
        try:
            body = decompress(row["compression"], row["data"], current[1] if base else None)
        except IntegrityError:
            problems.append(f"{label}: does not decompress (data altered)")
            continue
        if hashlib.sha256(body).hexdigest() != row["sha256"] or len(body) != row["size"]:
            problems.append(f"{label}: content does not match its hash")
        elif base is None:
            current = (row["sha256"], body)
    return checked, problems


def _base_or_none(db: Database, sha256: str, base: str) -> bytes | None:
    try:
        return base_bytes(db, sha256, base)
    except (IntegrityError, NotFoundError):
        return None


def _missing_bodies(db: Database) -> list[str]:
    row = fetch_one(
        db,
        "SELECT o.id, o.body_sha256 FROM observations o LEFT JOIN bodies b"
        " ON b.sha256 = o.body_sha256 WHERE o.body_sha256 IS NOT NULL AND b.sha256 IS NULL"
        " ORDER BY o.id LIMIT 1",
    )
    if row is None:
        return []
    return [f"observation {row['id']}: body {row['body_sha256'][:12]} is missing (removed?)"]


PARALLEL_FROM = 50 * 1024 * 1024  # bytes: a smaller file is checked faster in one process


def _in_worker(path: str, check: str) -> tuple[int, list[str]]:
    """``check_seals`` or ``_check_bodies`` in a worker process, on its own read-only
    connection."""
    from store.db import open_db_readonly  # noqa: PLC0415 (store.db imports this module)

    db = open_db_readonly(path)
    try:
        return check_seals(db) if check == "seals" else _check_bodies(db)
    finally:
        db.close()


def verify(
    db: Database, path: Path | None = None, *, parallel_from: int = PARALLEL_FROM
) -> VerifyResult:
    """Recompute every observation's hash and chain link and every stored body's SHA-256.

    Reports the first broken link of the chain, then any damaged or missing bodies, then the
    seals: the seal chain and every sealed row (store/sealcheck.py), naming table and row id.
    For a large file at ``path``, the bodies and the seals are each checked in a worker
    process while this one walks the chain.
    """
    seal_on_close(db)  # this connection's own writes, not yet sealed
    pool = None
    if path is not None and path.is_file() and path.stat().st_size >= parallel_from:
        pool = ProcessPoolExecutor(max_workers=2, mp_context=get_context("spawn"))
    with pool or contextlib.nullcontext():
        seals = pool.submit(_in_worker, str(path), "seals") if pool is not None else None
        stored = pool.submit(_in_worker, str(path), "bodies") if pool is not None else None
        rows, chain_problem = _check_chain(db)
        bodies, body_problems = _check_bodies(db) if stored is None else stored.result()
        problems = ([chain_problem] if chain_problem else []) + body_problems[:MAX_BODY_PROBLEMS]
        problems += _missing_bodies(db)
        sealed, seal_problems = check_seals(db) if seals is None else seals.result()
    problems += seal_problems
    return VerifyResult(
        ok=not problems,
        checked=rows + bodies,
        problems=tuple(problems),
        sealed=sealed,
        observations=rows,
        bodies=bodies,
    )
