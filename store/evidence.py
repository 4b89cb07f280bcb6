"""Evidence: prove that no observation was altered or removed and every body is intact."""

from __future__ import annotations

import hashlib

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
    for row in db.query("SELECT * FROM observations ORDER BY id"):
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


def verify(db: Database) -> VerifyResult:
    """Recompute every observation's hash and chain link and every stored body's SHA-256.

    Reports the first broken link of the chain, then any damaged or missing bodies, then the
    seals: the seal chain and every sealed row (store/sealcheck.py), naming table and row id.
    """
    seal_on_close(db)  # this connection's own writes, not yet sealed
    rows, chain_problem = _check_chain(db)
    bodies, body_problems = _check_bodies(db)
    problems = ([chain_problem] if chain_problem else []) + body_problems[:MAX_BODY_PROBLEMS]
    problems += _missing_bodies(db)
    sealed, seal_problems = check_seals(db)
    problems += seal_problems
    return VerifyResult(
        ok=not problems,
        checked=rows + bodies,
        problems=tuple(problems),
        sealed=sealed,
        observations=rows,
        bodies=bodies,
    )
