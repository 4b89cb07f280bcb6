"""A capture stored as a splice: the bytes of its base (an earlier capture of the URL, stored
whole) with a few byte ranges replaced.

A page that is rendered on every request (a footer with the time and a request id, a form
token) differs from its previous capture in a few short runs of text. A zstd delta stores
that in tens of bytes too, but making one indexes the whole 100 KB base as a dictionary
(about 0.3 ms a page, the largest single cost of checking such a page); finding the runs
costs a few ``memcmp`` calls. Anything that is not a few runs of changed text between the
same markup is left to the zstd delta.

Format (``bodies.compression = 'splice'``, ``bodies.base_sha256`` the base): a sequence of
records, each ``start``, ``end`` (the base's bytes ``[start, end)`` that are replaced) and
``length`` as three little-endian unsigned 64-bit integers, then ``length`` replacement
bytes. Records are in order and do not overlap; the base's bytes outside them are kept. The
result is checked against the capture's SHA-256 wherever it is read, like every body.
"""

from __future__ import annotations

import re
import struct

from amendwatch.errors import IntegrityError

__all__ = ["COMPRESSION", "MAX_RUNS", "apply_splice", "splice_of"]

COMPRESSION = "splice"
MAX_RUNS = 64  # changed runs looked for before the zstd delta is left to do it
_RECORD = struct.Struct("<QQQ")
_MARKUP = re.compile(rb"[<>&\"'`]")  # a run of changed text ends at one of these, in both


def splice_of(base: bytes, body: bytes) -> bytes | None:
    """The splice that makes ``body`` from ``base``, or None when ``body`` is not ``base``
    with at most ``MAX_RUNS`` runs of text (between the same markup characters) replaced."""
    records: list[bytes] = []
    at_base = at_body = 0
    for _ in range(MAX_RUNS + 1):
        common = _common_prefix(base, at_base, body, at_body)
        at_base, at_body = at_base + common, at_body + common
        if at_base == len(base) and at_body == len(body):
            return b"".join(records)
        end_base, end_body = _markup_at(base, at_base), _markup_at(body, at_body)
        if base[end_base : end_base + 1] != body[end_body : end_body + 1]:
            return None  # the markup itself differs (or one ended early): not a splice
        tail = _common_suffix(base, at_base, end_base, body, at_body, end_body)
        replacement = body[at_body : end_body - tail]
        records.append(_RECORD.pack(at_base, end_base - tail, len(replacement)) + replacement)
        at_base, at_body = end_base, end_body
    return None


def apply_splice(base: bytes, data: bytes) -> bytes:
    """The bytes the splice ``data`` makes from ``base``; IntegrityError when ``data`` is not
    a well-formed splice of ``base``."""
    pieces: list[bytes] = []
    kept = offset = 0
    while offset < len(data):
        if offset + _RECORD.size > len(data):
            raise IntegrityError("stored splice is cut short")
        start, end, length = _RECORD.unpack_from(data, offset)
        offset += _RECORD.size
        if not kept <= start <= end <= len(base) or offset + length > len(data):
            raise IntegrityError("stored splice does not fit its base")
        pieces += (base[kept:start], data[offset : offset + length])
        kept, offset = end, offset + length
    pieces.append(base[kept:])
    return b"".join(pieces)


def _markup_at(data: bytes, start: int) -> int:
    """The position of the first markup byte at or after ``start`` (or the end)."""
    found = _MARKUP.search(data, start)
    return len(data) if found is None else found.start()


def _common_prefix(a: bytes, i: int, b: bytes, j: int) -> int:
    """The length of the common prefix of ``a[i:]`` and ``b[j:]`` (comparisons of halving
    slices: each a memcmp, where a memoryview compares byte by byte)."""
    low, high = 0, min(len(a) - i, len(b) - j)
    if a[i : i + high] == b[j : j + high]:
        return high
    while low < high:  # a[i:i+low] == b[j:j+low]; the answer is at most high
        middle = (low + high + 1) // 2
        if a[i + low : i + middle] == b[j + low : j + middle]:
            low = middle
        else:
            high = middle - 1
    return low


def _common_suffix(a: bytes, i: int, end_a: int, b: bytes, j: int, end_b: int) -> int:
    """The length of the common suffix of ``a[i:end_a]`` and ``b[j:end_b]``."""
    low, high = 0, min(end_a - i, end_b - j)
    while low < high:  # the last ``low`` bytes are common; the answer is at most high
        middle = (low + high + 1) // 2
        if a[end_a - middle : end_a - low] == b[end_b - middle : end_b - low]:
            low = middle
        else:
            high = middle - 1
    return low
