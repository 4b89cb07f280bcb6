"""Full-fidelity JSON for the stored dataclasses: ChapterDiff and Chapter content.

``diff_from_json(diff_to_json(d)) == d`` for every ChapterDiff (floats round-trip exactly
through JSON; frozensets become sorted lists).
"""

from __future__ import annotations

import json
from typing import Any, cast

import zstandard

from amendwatch.errors import IntegrityError
from differ.models import ChapterDiff, ChapterKind, Edit, EditOp, SectionChange
from scraper.models import Chapter, Link, Section


def links_to_json(links: tuple[Link, ...]) -> list[list[str]]:
    return [[link.text, link.url] for link in links]


def links_from_json(data: list[list[str]]) -> tuple[Link, ...]:
    return tuple(Link(text=text, url=url) for text, url in data)


def section_to_json(section: Section) -> dict[str, Any]:
    return {
        "number": section.number,
        "title": section.title,
        "level": section.level,
        "path": list(section.path),
        "text": section.text,
        "links": links_to_json(section.links),
    }


def section_from_json(data: dict[str, Any]) -> Section:
    return Section(
        number=data["number"],
        title=data["title"],
        level=int(data["level"]),
        path=tuple(data["path"]),
        text=data["text"],
        links=links_from_json(data.get("links", [])),
    )


def _opt_section_to_json(section: Section | None) -> dict[str, Any] | None:
    return None if section is None else section_to_json(section)


def _opt_section_from_json(data: dict[str, Any] | None) -> Section | None:
    return None if data is None else section_from_json(data)


def section_change_to_json(change: SectionChange) -> dict[str, Any]:
    return {
        "kinds": sorted(change.kinds),
        "old": _opt_section_to_json(change.old),
        "new": _opt_section_to_json(change.new),
        "edits": [[edit.op, edit.text] for edit in change.edits],
        "links_added": links_to_json(change.links_added),
        "links_removed": links_to_json(change.links_removed),
        "cosmetic": change.cosmetic,
        "similarity": change.similarity,
        "flags": sorted(change.flags),
        "links_retargeted": [
            [[old.text, old.url], [new.text, new.url]] for old, new in change.links_retargeted
        ],
        "note": change.note,
    }


def section_change_from_json(data: dict[str, Any]) -> SectionChange:
    return SectionChange(
        kinds=frozenset(data["kinds"]),
        old=_opt_section_from_json(data["old"]),
        new=_opt_section_from_json(data["new"]),
        edits=tuple(Edit(op=cast(EditOp, op), text=text) for op, text in data["edits"]),
        links_added=links_from_json(data["links_added"]),
        links_removed=links_from_json(data["links_removed"]),
        cosmetic=bool(data["cosmetic"]),
        similarity=float(data["similarity"]),
        flags=frozenset(data["flags"]),
        links_retargeted=tuple(
            (Link(text=old[0], url=old[1]), Link(text=new[0], url=new[1]))
            for old, new in data.get("links_retargeted", [])
        ),
        note=data.get("note", ""),
    )


def diff_to_json(diff: ChapterDiff) -> dict[str, Any]:
    """Every field of the ChapterDiff, sections with their full old/new Section."""
    return {
        "chapter_url": diff.chapter_url,
        "kind": diff.kind,
        "old_version": diff.old_version,
        "new_version": diff.new_version,
        "sections": [section_change_to_json(s) for s in diff.sections],
        "old_title": diff.old_title,
        "new_title": diff.new_title,
        "pairs": [[old, new] for old, new in diff.pairs],
        "revised_throughout": diff.revised_throughout,
        "old_url": diff.old_url,
        "extra": [[key, value] for key, value in diff.extra],
        # only when there is one (older rows have none)
        **(
            {"old_stamp": diff.old_stamp, "new_stamp": diff.new_stamp}
            if diff.old_stamp is not None or diff.new_stamp is not None
            else {}
        ),
    }


def diff_from_json(data: dict[str, Any]) -> ChapterDiff:
    return ChapterDiff(
        chapter_url=data["chapter_url"],
        kind=cast(ChapterKind, data["kind"]),
        old_version=data["old_version"],
        new_version=data["new_version"],
        sections=tuple(section_change_from_json(s) for s in data["sections"]),
        old_title=data.get("old_title"),
        new_title=data.get("new_title"),
        pairs=tuple((int(old), int(new)) for old, new in data.get("pairs", [])),
        revised_throughout=bool(data.get("revised_throughout", False)),
        old_url=data.get("old_url"),
        extra=tuple((str(k), str(v)) for k, v in data.get("extra", [])),
        old_stamp=data.get("old_stamp"),
        new_stamp=data.get("new_stamp"),
    )


# one encoder for every call: json.dumps builds one per call for non-default options, which
# cost verify about a third of its time on the observation chain
_CANONICAL = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode


def dumps(data: Any) -> str:
    """Canonical compact JSON (sorted keys, UTF-8 kept)."""
    return _CANONICAL(data)


CONTENT_LEVEL = 10  # written once, read often; with a capture as dictionary, levels 10+ find
# its long matches: a third of level 6's size at the same speed (about 0.8 ms a version)
DIFF_LEVEL = 6


def raw_dictionary(raw: bytes) -> zstandard.ZstdCompressionDict:
    """``raw`` (e.g. a stored capture) as a zstd dictionary of raw content."""
    return zstandard.ZstdCompressionDict(raw, dict_type=zstandard.DICT_TYPE_RAWCONTENT)


def compress(data: bytes, level: int, dictionary: bytes | None = None) -> bytes:
    """zstd at ``level``, with ``dictionary`` (raw bytes) as the dictionary when given."""
    if dictionary is None:
        return zstandard.ZstdCompressor(level=level).compress(data)
    return zstandard.ZstdCompressor(level=level, dict_data=raw_dictionary(dictionary)).compress(
        data
    )


def decompress_zstd(data: bytes, dictionary: bytes | None = None) -> bytes:
    """Undo ``compress`` (the same dictionary bytes); ``ZstdError`` when damaged."""
    if dictionary is None:
        return zstandard.ZstdDecompressor().decompress(data)
    return zstandard.ZstdDecompressor(dict_data=raw_dictionary(dictionary)).decompress(data)


def pack_content(chapter: Chapter, dictionary: bytes | None = None) -> bytes:
    """A version's content as stored: ``Chapter.content_json()``, zstd-compressed (with the
    raw bytes of the version's capture as the dictionary, when given)."""
    return compress(chapter.content_json().encode("utf-8"), CONTENT_LEVEL, dictionary)


def _stored_text(value: object, what: str, dictionary: bytes | None = None) -> str:
    """UTF-8 text stored zstd-compressed (bytes) or, by older releases, as plain text."""
    if isinstance(value, bytes):
        try:
            return decompress_zstd(value, dictionary).decode("utf-8")
        except (zstandard.ZstdError, UnicodeDecodeError) as exc:
            raise IntegrityError(f"{what} is damaged: {exc}") from exc
    if isinstance(value, str):
        return value
    raise IntegrityError(f"{what} has an unexpected type {type(value)}")


def unpack_content(value: object, dictionary: bytes | None = None) -> str:
    """The content JSON of a stored version (compressed, with the dictionary it was packed
    with, or plain text from older releases)."""
    return _stored_text(value, "a stored version's content", dictionary)


def pack_diff(diff: ChapterDiff) -> bytes:
    """A change's diff as stored: the canonical JSON of ``diff_to_json``, zstd-compressed."""
    return compress(dumps(diff_to_json(diff)).encode("utf-8"), DIFF_LEVEL)


def diff_json(value: object) -> str:
    """The JSON text of a stored diff: compressed (``pack_diff``) or plain text (older rows)."""
    return _stored_text(value, "a stored change's diff")


def unpack_diff(value: object) -> ChapterDiff:
    """The ChapterDiff of a stored change (``pack_diff`` bytes or older JSON text)."""
    return diff_from_json(json.loads(diff_json(value)))


def chapter_from_json(
    content: object, url: str, links: tuple[Link, ...] = (), dictionary: bytes | None = None
) -> Chapter:
    """Rebuild a Chapter from ``Chapter.content_json()`` (which omits url and chapter links),
    stored compressed (``pack_content``, with its dictionary) or as text."""
    data = json.loads(unpack_content(content, dictionary))
    return Chapter(
        url=url,
        title=data["title"],
        sections=tuple(section_from_json(s) for s in data["sections"]),
        links=links,
        stamp=data.get("stamp"),
    )
