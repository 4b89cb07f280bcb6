"""Opening the database: checks, pragmas and migrations (sqlite_utils.Migrations)."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from amendwatch.errors import SchemaError, StoreError
from store.schema import (
    ALERTS_SCHEMA,
    AUDIT_SCHEMA,
    COMPACT_SCHEMA,
    FINGERPRINT_SCHEMA,
    INITIAL_SCHEMA,
    LISTINGS_SCHEMA,
    LOOKUP_SCHEMA,
    MANUAL_NETWORK_SCHEMA,
    RULES_SCHEMA,
    SITEMAP_SCHEMA,
    TIMESTAMPS_SCHEMA,
    UNWATCHED_SCHEMA,
    WEB_SCHEMA,
)
from store.seals import (
    SEALED_BY_0008,
    SEALED_BY_0013,
    SEALED_BY_0014,
    SEALS_SCHEMA,
    install,
    reseal_table,
    seal_existing,
    seal_more_tables,
)

MIGRATIONS = Migrations("amendwatch")
BUSY_TIMEOUT_MS = 30_000
# sqlite-utils plugins (third-party code hooking into every connection) are not loaded: the
# evidence store runs no code it does not ship, and looking for them read the entry points of
# every installed package on each open (importlib.metadata: about 7 ms of every command that
# opens the database, more with more packages installed)
PLUGINS = False


@MIGRATIONS(name="0001_initial")
def _initial(db: Database) -> None:
    db.executescript(INITIAL_SCHEMA)


@MIGRATIONS(name="0002_audit")
def _audit(db: Database) -> None:
    db.executescript(AUDIT_SCHEMA)


@MIGRATIONS(name="0003_manual_rules")
def _manual_rules(db: Database) -> None:
    db.executescript(RULES_SCHEMA)


@MIGRATIONS(name="0004_version_fingerprint")
def _version_fingerprint(db: Database) -> None:
    db.executescript(FINGERPRINT_SCHEMA)


@MIGRATIONS(name="0005_manual_sitemap")
def _manual_sitemap(db: Database) -> None:
    db.executescript(SITEMAP_SCHEMA)


@MIGRATIONS(name="0006_compact_storage")
def _compact_storage(db: Database) -> None:
    db.executescript(COMPACT_SCHEMA)


@MIGRATIONS(name="0007_unwatched")
def _unwatched(db: Database) -> None:
    db.executescript(UNWATCHED_SCHEMA)


@MIGRATIONS(name="0008_seals")
def _seals(db: Database) -> None:
    for sql in SEALS_SCHEMA:
        db.execute(sql)
    seal_existing(db, SEALED_BY_0008)  # rows written before 0008 are sealed once, here


@MIGRATIONS(name="0009_manual_network")
def _manual_network(db: Database) -> None:
    db.executescript(MANUAL_NETWORK_SCHEMA)
    reseal_table(db, "manuals")  # the new columns are sealed: every manual's hash changes


@MIGRATIONS(name="0010_timestamps")
def _timestamps(db: Database) -> None:
    db.executescript(TIMESTAMPS_SCHEMA)


@MIGRATIONS(name="0011_alerts")
def _alerts(db: Database) -> None:
    db.executescript(ALERTS_SCHEMA)


@MIGRATIONS(name="0012_seal_derivations")
def _seal_derivations(db: Database) -> None:
    seal_more_tables(db)


@MIGRATIONS(name="0013_web")
def _web(db: Database) -> None:
    db.executescript(WEB_SCHEMA)
    for table in SEALED_BY_0013:  # sealed from the start (re-applied, the tables may exist)
        if "row_hash" not in db[table].columns_dict:
            db.execute(f"ALTER TABLE {table} ADD COLUMN row_hash TEXT")
    seal_existing(db, SEALED_BY_0013)  # one seal over any rows they hold (none when new)


@MIGRATIONS(name="0014_listings")
def _listings(db: Database) -> None:
    db.executescript(LISTINGS_SCHEMA)
    seal_existing(db, SEALED_BY_0014)  # one seal over any rows it holds (none when new)


@MIGRATIONS(name="0015_lookup_indexes")
def _lookup_indexes(db: Database) -> None:
    db.executescript(LOOKUP_SCHEMA)


@MIGRATIONS(name="0016_splice_bodies")
def _splice_bodies(db: Database) -> None:
    """No table changes: from here ``bodies.compression`` may be 'splice' (store/splice.py).
    The new schema number makes an older release refuse the file ("written by a newer
    amendwatch; upgrade") instead of reading a splice as a body that was tampered with."""


SCHEMA_VERSION = 16  # the number of migrations above; PRAGMA user_version mirrors it


@contextlib.contextmanager
def durable_at_the_end(db: Database) -> Iterator[None]:
    """Commits inside the block are not flushed to disk one by one (``synchronous =
    NORMAL``: a snapshot commits once per batch, and each flush cost about 2 ms); the first
    commit after it flushes them all (``FULL``). The file stays consistent whatever happens
    (write-ahead log); a power cut inside the block can lose its latest commits, as a kill
    would, and the run is then left unfinished and abandoned by the next one."""
    db.conn.execute("PRAGMA synchronous = NORMAL")
    try:
        yield
    finally:
        db.conn.execute("PRAGMA synchronous = FULL")


def open_db(path: str | Path | None) -> Database:
    """Open (creating if needed) and migrate the amendwatch database; None: in memory."""
    if path is None:
        db = Database(memory=True, execute_plugins=PLUGINS)
        _prepare(db, "memory")
        return db
    target = Path(path)
    created = _check_path(target)
    try:
        db = Database(target, execute_plugins=PLUGINS)
    except sqlite3.Error as exc:
        _cleanup(target, created)
        raise StoreError(f"cannot open {target}: {exc}") from exc
    try:
        _prepare(db, str(target))
    except BaseException:
        db.close()
        _cleanup(target, created)
        raise
    return db


def open_db_readonly(path: str | Path) -> Database:
    """Open an existing amendwatch database for reading only: never create, migrate or write.

    A write-protected file, or one in a write-protected folder, is an archived copy that
    nothing writes through this path: it is opened ``immutable`` when no ``-wal`` file lies
    beside it (so SQLite creates no ``-wal``/``-shm`` either), else ``mode=ro``. A writable
    file (a live database, perhaps being written) is opened ``mode=rw`` with ``query_only``:
    it sees other writers' commits and leaves no side files, and cannot write."""
    target = Path(path)
    if not target.is_file():
        what = "is a directory" if target.is_dir() else "does not exist"
        raise StoreError(
            f"database {target} {what}",
            hint="check the --db path; read commands never create a database",
        )
    if not os.access(target, os.R_OK):
        raise StoreError(f"cannot read {target}", hint="check its permissions or choose another")
    uri = f"file:{quote(str(target.resolve()))}?{_readonly_mode(target)}"
    try:
        db = Database(sqlite3.connect(uri, uri=True), execute_plugins=PLUGINS)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open {target} read-only: {exc}") from exc
    try:
        _prepare_readonly(db, str(target))
    except BaseException:
        db.close()
        raise
    return db


def _readonly_mode(target: Path) -> str:
    folder = target.parent if str(target.parent) else Path(".")
    protected = not (_writable(target) and _writable(folder))
    if not protected:
        return "mode=rw"
    return "mode=ro" if Path(f"{target}-wal").exists() else "immutable=1"


def _writable(path: Path) -> bool:
    """Writable for us, and not write-protected by its mode (root ignores the mode bits)."""
    return os.access(path, os.W_OK) and bool(path.stat().st_mode & 0o222)


def _prepare_readonly(db: Database, label: str) -> None:
    found = _read_version(db, label)
    _check_version(db, found, label)
    if found != SCHEMA_VERSION:
        raise SchemaError(
            f"{label} is not an amendwatch database of this release (schema {found}, "
            f"expected {SCHEMA_VERSION}); it cannot be upgraded read-only",
            hint="upgrade a writable copy with any write command, e.g. `manual list`",
        )
    try:
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        db.execute("PRAGMA query_only = ON")
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{label} is not a usable SQLite database ({exc})") from exc


def _check_path(target: Path) -> bool:
    """Refuse unusable paths before SQLite touches them; create a new file as 0600."""
    if target.is_dir():
        raise StoreError(f"{target} is a directory", hint="give a file path with --db")
    if target.exists():
        _check_existing(target)
        return False
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        raise StoreError(
            f"directory {parent} does not exist", hint="create it or choose another --db path"
        )
    if not os.access(parent, os.W_OK | os.X_OK):
        raise StoreError(
            f"cannot create {target}: directory {parent} is not writable",
            hint="choose a writable --db path",
        )
    fd = os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    os.close(fd)
    return True


def _check_existing(target: Path) -> None:
    """Never open the file here: closing any descriptor of it would drop the POSIX locks that
    this process's SQLite connections hold on it. A file that is not a database is refused by
    SQLite itself in ``_prepare``, before anything is written."""
    if not os.access(target, os.R_OK):
        raise StoreError(f"cannot read {target}", hint="check its permissions or choose another")
    if not os.access(target, os.W_OK):
        raise StoreError(
            f"{target} is read-only", hint="make it writable or choose another --db path"
        )


def _cleanup(target: Path, created: bool) -> None:
    if created:
        for suffix in ("", "-wal", "-shm", "-journal"):
            with contextlib.suppress(FileNotFoundError):
                os.remove(f"{target}{suffix}")


def _prepare(db: Database, label: str) -> None:
    found = _read_version(db, label)
    _check_version(db, found, label)
    try:
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        db.execute("PRAGMA foreign_keys = ON")
        if not db.memory:
            db.enable_wal()
        if found != SCHEMA_VERSION:
            _migrate(db, label)
        install(db)
    except sqlite3.OperationalError as exc:
        raise StoreError(
            f"cannot write to {label}: {exc}", hint="check that the --db file is writable"
        ) from exc
    except sqlite3.DatabaseError as exc:
        raise StoreError(
            f"{label} is not a usable SQLite database ({exc})", hint="choose another --db path"
        ) from exc


def _read_version(db: Database, label: str) -> int:
    try:
        return int(db.execute("PRAGMA user_version").fetchone()[0])
    except sqlite3.DatabaseError as exc:
        raise StoreError(
            f"{label} is not a SQLite database ({exc})", hint="choose another --db path"
        ) from exc


def _check_version(db: Database, found: int, label: str) -> None:
    if found == 0 and _foreign_tables(db):
        raise StoreError(
            f"{label} is a SQLite database of another application",
            hint="choose another --db path",
        )
    if found > SCHEMA_VERSION:
        raise SchemaError(
            f"this database was written by a newer amendwatch "
            f"(schema {found} > {SCHEMA_VERSION}); upgrade amendwatch"
        )


def _migrate(db: Database, label: str) -> None:
    """Apply the pending migrations under one write lock, so that two processes opening a
    new database at once never see it half-migrated; re-check once the lock is held."""
    db.execute("BEGIN IMMEDIATE")
    try:
        found = _read_version(db, label)
        _check_version(db, found, label)
        if found != SCHEMA_VERSION:
            MIGRATIONS.apply(db)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _foreign_tables(db: Database) -> bool:
    """Whether the database holds tables but no amendwatch migration was ever applied."""
    names = {
        row[0]
        for row in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    }
    if not names:
        return False
    if Migrations.migrations_table not in names:
        return True
    return not MIGRATIONS.applied(db)
