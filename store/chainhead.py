"""The head of the observation chain: how many observations there are and the hash of the
newest. Published outside the database (printed by ``verify``, carried by every digest, email
and Atom feed), an earlier head lets ``verify --against`` prove that the database still
extends it: nothing at or before it was removed or rewritten since."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlite_utils import Database

from amendwatch.errors import InputError, IntegrityError
from store.observations import GENESIS_HASH
from store.rows import fetch_one

_HEAD = re.compile(r"(\d+):([0-9a-f]{64})")


@dataclass(frozen=True)
class ChainHead:
    """``count`` observations; ``hash`` is the chain hash of the newest (genesis when none)."""

    count: int
    hash: str

    @property
    def text(self) -> str:
        """``COUNT:HASH``, the form ``verify`` prints and ``verify --against`` reads."""
        return f"{self.count}:{self.hash}"


def chain_head(db: Database) -> ChainHead:
    """The head as stored: the observation count and the newest observation's hash."""
    row = fetch_one(db, "SELECT COUNT(*) AS n, (SELECT hash FROM observations ORDER BY id DESC"
                    " LIMIT 1) AS newest FROM observations")  # fmt: skip
    if row is None or not row["n"]:
        return ChainHead(0, GENESIS_HASH)
    return ChainHead(int(row["n"]), str(row["newest"]))


def parse_head(text: str) -> ChainHead:
    """A head given as ``COUNT:HASH`` (as ``verify`` prints it)."""
    found = _HEAD.fullmatch(text.strip().lower())
    if found is None:
        raise InputError(
            f"{text!r} is not a chain head",
            "give it as COUNT:HASH, as `amendwatch verify` prints it",
        )
    return ChainHead(int(found.group(1)), found.group(2))


def check_extends(db: Database, published: ChainHead) -> None:
    """Raise ``IntegrityError`` unless the observation at position ``published.count`` (in
    chain order) still has ``published.hash``: fewer observations means rows were removed or
    the file truncated; another hash means the history up to that point was rewritten."""
    if published.count == 0:
        if published.hash != GENESIS_HASH:
            raise IntegrityError("the published head 0:... must carry the genesis hash")
        return
    current = chain_head(db)
    if current.count < published.count:
        raise IntegrityError(
            f"the chain has {current.count} observations, fewer than the "
            f"{published.count} of the published head (rows removed or the file truncated)"
        )
    row = fetch_one(
        db, "SELECT id, hash FROM observations ORDER BY id LIMIT 1 OFFSET ?", (published.count - 1,)
    )
    stored = str(row["hash"]) if row else ""
    if stored != published.hash:
        raise IntegrityError(
            f"observation {published.count} of the chain has hash {stored[:16]}..., the "
            f"published head says {published.hash[:16]}... (history rewritten)"
        )
