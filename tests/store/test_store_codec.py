from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from amendwatch.errors import IntegrityError
from differ.models import ChapterDiff, Edit, SectionChange
from scraper.models import Chapter, Link, Section
from store.codec import (
    chapter_from_json,
    diff_from_json,
    diff_to_json,
    pack_content,
    unpack_content,
)
from tests.store.storekit import chapter, sec

text = st.text(max_size=30)
links = st.builds(Link, text=text, url=text)
sections = st.builds(
    Section,
    number=st.none() | st.sampled_from(["1", "7.4.1", "Appendix 1"]),
    title=text,
    level=st.integers(1, 4),
    path=st.lists(text, max_size=3).map(tuple),
    text=text,
    links=st.lists(links, max_size=2).map(tuple),
)
changes = st.builds(
    SectionChange,
    kinds=st.frozensets(st.sampled_from(["added", "removed", "modified", "renumbered"])),
    old=st.none() | sections,
    new=st.none() | sections,
    edits=st.lists(st.builds(Edit, op=st.sampled_from([-1, 0, 1]), text=text), max_size=4).map(
        tuple
    ),
    links_added=st.lists(links, max_size=2).map(tuple),
    links_removed=st.lists(links, max_size=2).map(tuple),
    cosmetic=st.booleans(),
    similarity=st.floats(0, 1),
    flags=st.frozensets(st.sampled_from(["number", "date", "duration", "obligation"])),
    links_retargeted=st.lists(st.tuples(links, links), max_size=2).map(tuple),
    note=text,
)
diffs = st.builds(
    ChapterDiff,
    chapter_url=text,
    kind=st.sampled_from(["new", "updated", "removed", "renamed", "moved"]),
    old_version=st.none() | st.integers(1, 10**6),
    new_version=st.none() | st.integers(1, 10**6),
    sections=st.lists(changes, max_size=3).map(tuple),
    old_title=st.none() | text,
    new_title=st.none() | text,
    pairs=st.lists(st.tuples(st.integers(0, 50), st.integers(0, 50)), max_size=4).map(tuple),
    revised_throughout=st.booleans(),
    old_url=st.none() | text,
    extra=st.lists(st.tuples(text, text), max_size=2).map(tuple),
)


@settings(max_examples=150, deadline=None)
@given(diffs)
def test_diff_json_round_trip_is_exact(diff: ChapterDiff) -> None:
    encoded = json.dumps(diff_to_json(diff))  # must survive real JSON text
    assert diff_from_json(json.loads(encoded)) == diff


def test_chapter_round_trips_through_content_json() -> None:
    original = chapter(
        "Pre-birth", sec("1", "Scope", "Applies to all."), sec(None, "Further information", "")
    )
    rebuilt = chapter_from_json(original.content_json(), original.url, original.links)
    assert rebuilt == original
    assert rebuilt.content_hash == original.content_hash


def test_version_content_is_stored_compressed_and_old_text_still_reads() -> None:
    stored = Chapter(
        "https://m.example/c.html",
        "Bullying",
        (Section("1", "Definition", 1, ("1",), "Bullying is behaviour repeated over time. " * 50),),
    )
    packed = pack_content(stored)
    assert isinstance(packed, bytes) and len(packed) < len(stored.content_json()) / 5
    assert chapter_from_json(packed, stored.url) == stored
    assert chapter_from_json(stored.content_json(), stored.url) == stored  # older releases
    with pytest.raises(IntegrityError):
        unpack_content(b"not zstd at all")
