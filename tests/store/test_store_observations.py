from __future__ import annotations

import hashlib
import itertools
import zlib

import pytest

from amendwatch.errors import InputError, NotFoundError
from store.db import open_db
from store.observations import (
    GENESIS_HASH,
    get_body,
    last_validators,
    observation_hash,
    record_observation,
    store_body,
)
from store.versions import latest_version
from tests.store.storekit import (
    URL,
    chapter,
    day,
    new_db,
    observe_unchanged,
    observe_version,
    page,
    sec,
    seed,
    table_counts,
)


def test_observations_form_a_hash_chain() -> None:
    db = new_db()
    manual, row = seed(db)
    ids = [
        record_observation(
            db,
            page(URL, f"body {i}".encode(), day(i)),
            manual_id=manual.id,
            chapter_id=row.id,
            role="chapter",
            outcome="new-version",
        )
        for i in range(3)
    ]
    rows = list(db.query("SELECT * FROM observations ORDER BY id"))
    assert [r["id"] for r in rows] == ids
    assert rows[0]["prev_hash"] == GENESIS_HASH
    for earlier, later in itertools.pairwise(rows):
        assert later["prev_hash"] == earlier["hash"]
    for r in rows:
        assert r["hash"] == observation_hash(r)
    assert len({r["hash"] for r in rows}) == 3


def test_same_body_twice_is_stored_once_and_comes_back_intact() -> None:
    db = new_db()
    manual, row = seed(db)
    body = ("<html><body>" + "Pre-birth conference within 10 working days. " * 50).encode()
    for n in range(2):
        record_observation(
            db,
            page(URL, body, day(n)),
            manual_id=manual.id,
            chapter_id=row.id,
            role="chapter",
            outcome="unchanged",
        )
    assert db["bodies"].count == 1
    digest = hashlib.sha256(body).hexdigest()
    stored = next(db.query("SELECT size, data FROM bodies"))
    assert stored["size"] == len(body)
    assert len(stored["data"]) < len(body)  # compressed
    assert get_body(db, digest) == body
    shas = [r["body_sha256"] for r in db.query("SELECT body_sha256 FROM observations")]
    assert shas == [digest, digest]


def test_failed_fetch_without_body_stores_no_body_and_keeps_its_error() -> None:
    db = new_db()
    manual, row = seed(db)
    failed = page(URL, b"", day(1), status=0)
    failed = type(failed)(**{**failed.__dict__, "error": "connection refused"})
    obs = record_observation(
        db, failed, manual_id=manual.id, chapter_id=row.id, role="chapter", outcome="failed"
    )
    stored = next(db.query("SELECT * FROM observations WHERE id = ?", [obs]))
    assert stored["body_sha256"] is None
    assert stored["reason"] == "connection refused"
    assert db["bodies"].count == 0


def test_last_validators_come_from_the_latest_successful_fetch() -> None:
    db = new_db()
    manual, row = seed(db)
    kwargs = {"manual_id": manual.id, "chapter_id": row.id, "role": "chapter"}
    assert last_validators(db, URL) == (None, None)
    record_observation(db, page(URL, b"a", day(1), etag='"v1"'), outcome="new-version", **kwargs)
    record_observation(db, page(URL, b"b", day(2), etag='"v2"'), outcome="new-version", **kwargs)
    record_observation(
        db, page(URL, b"x", day(3), status=500, etag='"bad"'), outcome="failed", **kwargs
    )
    record_observation(db, page(URL, b"y", day(4), etag='"sus"'), outcome="suspect", **kwargs)
    assert last_validators(db, URL) == ('"v2"', None)
    assert last_validators(db, URL + "?other") == (None, None)


def test_unknown_role_and_missing_body_are_errors() -> None:
    db = new_db()
    manual, row = seed(db)
    with pytest.raises(InputError):
        record_observation(
            db,
            page(URL, b"a", day(1)),
            manual_id=manual.id,
            chapter_id=row.id,
            role="sitemap",
            outcome="new-version",
        )
    assert db["observations"].count == 0
    with pytest.raises(NotFoundError):
        get_body(db, "ab" * 32)


def test_unchanged_content_adds_one_observation_row_and_nothing_else() -> None:
    db = new_db()
    _manual, row = seed(db)
    content = chapter("Pre-birth Procedure", sec("1", "Scope", "This chapter applies."))
    version = observe_version(db, row, content, day(1), None)
    before = table_counts(db)
    observe_unchanged(db, row, version, day(8))
    after = table_counts(db)
    assert after.pop("observations") == before.pop("observations") + 1
    assert after == before  # no body, version, section or change rows
    latest = latest_version(db, row.id)
    assert latest is not None
    assert latest.id == version.id
    assert latest.last_seen == day(8)
    assert latest.valid_from == day(1)
    assert latest.valid_to is None


def test_bodies_of_older_releases_compressed_with_zlib_stay_readable() -> None:
    db = open_db(None)
    old = b"<html>captured by an older release</html>"
    digest = hashlib.sha256(old).hexdigest()
    db.execute(
        "INSERT INTO bodies (sha256, size, compression, data) VALUES (?, ?, 'zlib', ?)",
        (digest, len(old), zlib.compress(old, 6)),
    )
    assert get_body(db, digest) == old
    assert store_body(db, old) == digest  # already stored: kept as it is, not re-compressed
    (method,) = db.execute("SELECT compression FROM bodies WHERE sha256 = ?", [digest]).fetchone()
    assert method == "zlib"
    new = store_body(db, b"<html>a new capture</html>")
    (method,) = db.execute("SELECT compression FROM bodies WHERE sha256 = ?", [new]).fetchone()
    assert method == "zstd" and get_body(db, new) == b"<html>a new capture</html>"
