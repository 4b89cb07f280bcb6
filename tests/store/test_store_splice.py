"""Captures stored as a splice of their URL's base (store/splice.py): the splice gives back
the very bytes, only a few runs of text between the same markup make one, a damaged or
forged splice is refused (and ``verify`` says so), and the stored form a snapshot chooses."""

from __future__ import annotations

import hashlib
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from amendwatch.errors import InputError, IntegrityError
from store.db import open_db
from store.evidence import verify
from store.observations import (
    DELTA_RATIO,
    Encoded,
    encode_body,
    get_body,
    record_observation,
)
from store.splice import MAX_RUNS, apply_splice, splice_of
from tests.store.storekit import day, page

URL = "https://manual.example/chapters/one.html"


def rendered(token: str, stamp: str, paragraphs: int = 300) -> bytes:
    """A chapter page whose footer carries a request token and a time, as a CMS renders it."""
    words = random.Random(7)
    text = "".join(
        f"<p>{' '.join(words.choice(['child', 'plan', 'review', 'a', 'the']) for _ in range(12))}"
        "</p>\n"
        for _ in range(paragraphs)
    )
    return (
        f'<html><head><meta name="csrf" content="{token}"></head><body><main>{text}</main>'
        f"<footer>Rendered {stamp}</footer></body></html>"
    ).encode()


def test_a_re_rendered_page_is_a_small_splice_that_gives_back_the_same_bytes() -> None:
    base = rendered("a1b2c3", "2026-12-05T06:00:01")
    body = rendered("ffee99887766", "2026-12-05T06:10:59")
    spliced = splice_of(base, body)
    assert spliced is not None and len(spliced) < 120  # two runs: 2 x 24 bytes + the new text
    assert apply_splice(base, spliced) == body
    encoded = encode_body(body, hashlib.sha256(body).hexdigest(), ("b" * 64, base))
    assert encoded == Encoded(spliced, "splice", "b" * 64, len(body))


def test_an_edit_across_markup_is_left_to_the_zstd_delta() -> None:
    base = rendered("t", "1")
    body = base.replace(b"<p>", b"<p class='new'>", 1)
    assert splice_of(base, body) is None
    encoded = encode_body(body, hashlib.sha256(body).hexdigest(), ("b" * 64, base))
    assert encoded.compression == "zstd" and encoded.base == "b" * 64  # still a small delta


def test_more_runs_than_the_limit_are_not_a_splice() -> None:
    base = b"".join(b"<i>%03d</i>" % n for n in range(MAX_RUNS + 1))
    body = b"".join(b"<i>%03dx</i>" % n for n in range(MAX_RUNS + 1))
    assert splice_of(base, body) is None
    fewer = b"".join(b"<i>%03dx</i>" % n if n < MAX_RUNS else b"<i>%03d</i>" % n
                     for n in range(MAX_RUNS + 1))  # fmt: skip
    spliced = splice_of(base, fewer)
    assert spliced is not None and apply_splice(base, spliced) == fewer


def test_a_body_with_much_new_text_is_stored_whole() -> None:
    base = rendered("t", "1", paragraphs=20)
    body = base.replace(b"Rendered 1", b"Rendered " + b"x" * len(base))
    assert splice_of(base, body) is not None  # a splice, but not a small one
    encoded = encode_body(body, hashlib.sha256(body).hexdigest(), ("b" * 64, base))
    assert encoded.compression != "splice"


_TEXT = st.text(alphabet="ab<>& \"'", max_size=60).map(str.encode)


@settings(max_examples=300, deadline=None)
@given(base=_TEXT, body=_TEXT)
def test_any_splice_found_gives_back_the_body(base: bytes, body: bytes) -> None:
    spliced = splice_of(base, body)
    if spliced is not None:
        assert apply_splice(base, spliced) == body


_RUN = st.binary(max_size=12).map(lambda b: b.translate(None, b"<>&\"'`"))


@settings(max_examples=300, deadline=None)
@given(runs=st.lists(st.tuples(_RUN, st.none() | _RUN), max_size=MAX_RUNS))
def test_text_replaced_between_the_same_markup_is_always_a_splice(
    runs: list[tuple[bytes, bytes | None]],
) -> None:
    base = b"<".join(old for old, _ in runs)
    body = b"<".join(old if new is None else new for old, new in runs)
    spliced = splice_of(base, body)
    assert spliced is not None
    assert apply_splice(base, spliced) == body


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[:-3],  # cut short inside the replacement
        lambda data: data[:10],  # cut short inside a record
        lambda data: (10**9).to_bytes(8, "little") + data[8:],  # starts past the base
        lambda data: data[8:16] + data[:8] + data[16:],  # start after end
    ],
)
def test_a_damaged_splice_is_refused(damage: object) -> None:
    base = rendered("a", "1")
    spliced = splice_of(base, rendered("b", "2"))
    assert spliced is not None and callable(damage)
    with pytest.raises(IntegrityError):
        apply_splice(base, damage(spliced))


def test_a_snapshot_of_a_re_rendered_page_stores_a_splice_that_verify_reads() -> None:
    db = open_db(None)
    captures = [rendered(f"token{n}", f"2026-12-0{n + 1}") for n in range(3)]
    for n, body in enumerate(captures):
        record_observation(db, page(URL, body, day(n)), manual_id=None, chapter_id=None,
                           role="chapter", outcome="unchanged")  # fmt: skip
    rows = list(
        db.query("SELECT sha256, compression, base_sha256, data FROM bodies ORDER BY rowid")
    )
    whole = hashlib.sha256(captures[0]).hexdigest()
    assert [(r["compression"], r["base_sha256"]) for r in rows] == [
        ("zstd", None),
        ("splice", whole),
        ("splice", whole),
    ]
    assert all(len(r["data"]) * DELTA_RATIO < len(captures[0]) for r in rows[1:])
    for body in captures:
        assert get_body(db, hashlib.sha256(body).hexdigest()) == body
    assert verify(db).ok


def test_verify_reports_a_forged_splice() -> None:
    db = open_db(None)
    captures = [rendered("one", "1"), rendered("two", "2")]
    for n, body in enumerate(captures):
        record_observation(db, page(URL, body, day(n)), manual_id=None, chapter_id=None,
                           role="chapter", outcome="unchanged")  # fmt: skip
    forged = splice_of(captures[0], rendered("evil", "2"))
    assert forged is not None
    db.execute(
        "UPDATE bodies SET data = ? WHERE compression = 'splice'",
        [forged],
    )
    result = verify(db)
    assert not result.ok
    assert any("does not match its hash" in problem for problem in result.problems)
    with pytest.raises(IntegrityError):
        get_body(db, hashlib.sha256(captures[1]).hexdigest())


def test_a_page_without_its_body_is_stored_from_its_encoded_form() -> None:
    db = open_db(None)
    base, body = rendered("one", "1"), rendered("two", "2")
    record_observation(db, page(URL, base, day(0)), manual_id=None, chapter_id=None,
                       role="chapter", outcome="unchanged")  # fmt: skip
    base_sha, digest = (hashlib.sha256(b).hexdigest() for b in (base, body))
    sent = page(URL, body, day(1)).with_work(None, drop_body=True)  # as a fetch process sends it
    assert sent.body == b"" and sent.body_hash == digest
    encoded = encode_body(body, digest, (base_sha, base))
    record_observation(db, sent, manual_id=None, chapter_id=None, role="chapter",
                       outcome="unchanged", encoded=encoded)  # fmt: skip
    assert get_body(db, digest) == body
    row = next(db.query("SELECT size FROM bodies WHERE sha256 = ?", [digest]))
    assert row["size"] == len(body)
    whole = encode_body(body + b" ", "c" * 64, None)  # stored whole: the bytes are needed
    with pytest.raises(InputError, match="needs its bytes"):
        record_observation(db, page(URL, b"", day(2)), manual_id=None, chapter_id=None,
                           role="chapter", outcome="unchanged", encoded=whole)  # fmt: skip
