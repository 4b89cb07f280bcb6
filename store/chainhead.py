"""The head of the observation chain: how many observations there are and the hash of the
newest. Published outside the database (printed by ``verify``, carried by every digest, email
and Atom feed), an earlier head lets ``verify --against`` prove that the database still
extends it: nothing at or before it was removed or rewritten since."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from sqlite_utils import Database

from amendwatch.errors import InputError, IntegrityError
from store.observations import GENESIS_HASH
from store.rows import fetch_one

_HEAD = re.compile(r"(\d+)(?:\.(\d+))?:([0-9a-f]{64})")


@dataclass(frozen=True)
class ChainHead:
    """``count`` observations and ``seals`` seals (store/seals.py). ``hash`` is SHA-256 of
    ``"<observation hash>:<seal hash>"``, the chain hashes of the newest of each (genesis when
    none), so one published head pins the captures and every sealed row. ``seals=None`` is a
    head of the observation chain alone (as printed before seals existed): ``hash`` is then
    the newest observation's chain hash."""

    count: int
    hash: str
    seals: int | None = None

    @property
    def text(self) -> str:
        """``COUNT.SEALS:HASH`` (or ``COUNT:HASH``), the form ``verify`` prints and
        ``verify --against`` reads."""
        if self.seals is None:
            return f"{self.count}:{self.hash}"
        return f"{self.count}.{self.seals}:{self.hash}"


def combine(observation_hash: str, seal_hash: str) -> str:
    """The head hash over the newest observation's and the newest seal's chain hashes."""
    return hashlib.sha256(f"{observation_hash}:{seal_hash}".encode("ascii")).hexdigest()


def _nth_hash(db: Database, table: str, position: int) -> str | None:
    """The chain hash of the ``position``-th row of ``table`` (1-based, in id order);
    genesis for position 0, None when there are fewer rows."""
    if position == 0:
        return GENESIS_HASH
    row = fetch_one(
        db, f"SELECT hash FROM {table} ORDER BY id LIMIT 1 OFFSET ?", (position - 1,)
    )  # fmt: skip
    return None if row is None else str(row["hash"])


def chain_head(db: Database) -> ChainHead:
    """The head as stored: the observation and seal counts and the combined hash."""
    row = fetch_one(
        db,
        "SELECT (SELECT COUNT(*) FROM observations) AS n,"
        " (SELECT hash FROM observations ORDER BY id DESC LIMIT 1) AS newest,"
        " (SELECT COUNT(*) FROM seals) AS s,"
        " (SELECT hash FROM seals ORDER BY id DESC LIMIT 1) AS seal",
    )
    assert row is not None
    newest = str(row["newest"]) if row["n"] else GENESIS_HASH
    seal = str(row["seal"]) if row["s"] else GENESIS_HASH
    return ChainHead(int(row["n"]), combine(newest, seal), int(row["s"]))


def parse_head(text: str) -> ChainHead:
    """A head given as ``COUNT.SEALS:HASH`` or ``COUNT:HASH`` (as ``verify`` prints it)."""
    found = _HEAD.fullmatch(text.strip().lower())
    if found is None:
        raise InputError(
            f"{text!r} is not a chain head",
            "give it as COUNT.SEALS:HASH, as `amendwatch verify` prints it",
        )
    seals = None if found.group(2) is None else int(found.group(2))
    return ChainHead(int(found.group(1)), found.group(3), seals)


def check_extends(db: Database, published: ChainHead) -> None:
    """Raise ``IntegrityError`` unless the observation at position ``published.count`` (in
    chain order) and, for a head with seals, the seal at position ``published.seals`` still
    give the published hash: fewer rows means rows were removed or the file truncated;
    another hash means the history up to that point was rewritten."""
    current = chain_head(db)
    observation = _nth_hash(db, "observations", published.count)
    if observation is None:
        raise IntegrityError(
            f"the chain has {current.count} observations, fewer than the "
            f"{published.count} of the published head (rows removed or the file truncated)"
        )
    if published.seals is None:
        if observation != published.hash:
            raise IntegrityError(
                f"observation {published.count} of the chain has hash {observation[:16]}...,"
                f" the published head says {published.hash[:16]}... (history rewritten)"
            )
        return
    seal = _nth_hash(db, "seals", published.seals)
    if seal is None:
        raise IntegrityError(
            f"the database has {current.seals} seals, fewer than the {published.seals} of"
            " the published head (seals removed or the file truncated)"
        )
    if combine(observation, seal) != published.hash:
        raise IntegrityError(
            f"observation {published.count} and seal {published.seals} no longer give the"
            f" published hash {published.hash[:16]}... (history rewritten: captures or"
            " sealed rows)"
        )
