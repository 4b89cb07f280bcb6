"""The ``VERIFY.md`` of an evidence pack: how a third party checks the pack with standard
tools alone (``sha256sum``, ``unzip``, a text editor), and what the chain head in it means."""

from __future__ import annotations

from store.chainhead import ChainHead

_TEXT = """# How to check this evidence pack

This pack was written by {software} on the chain head `{head}`.
Nothing in it needs amendwatch to be checked.

## 1. Every file is intact

Unpack the zip into an empty folder and, inside it, run

    sha256sum -c SHA256SUMS

Every line must say `OK`. `SHA256SUMS` and `manifest.json` list the same SHA-256 for every
file of the pack other than themselves (this `VERIFY.md` included). On macOS use
`shasum -a 256 -c SHA256SUMS`.

## 2. The captures are the ones the chain recorded

`before/observation.json` and `after/observation.json` give the SHA-256 of each raw capture
(`body_sha256`); `sha256sum before/capture.html.txt after/capture.html.txt` must print the
same values. `observations.json` lists every observation of the chapter in the period, with
its `hash` and `prev_hash` in the observation chain.

## 3. The chain head

`summary.json` carries `chain_head`: `{count}` observations, the newest with chain hash
`{hash}`. Each observation's hash covers its fields and the hash of the one before it, so the
head fixes the whole history recorded up to the time of this pack: no observation at or before
it can be altered, removed or inserted without changing it.

Compare it with a head published independently (in a weekly digest, an email, an Atom feed,
or one you noted at an earlier audit): the pack's head must have a count at least as large.
Whoever holds the database can then prove the database still extends a published head with

    amendwatch --db COPY.db verify --against COUNT:HASH

and that it extends this pack's head with `verify --against {head}`. An observation hash
listed in `observations.json` is checked the same way: `verify` on the database must succeed
and the row with that id must carry that hash.

## 4. What the versions mean

In `summary.json`, `valid_from` is the time a version took effect (its first observation)
and `valid_to` the time the next version took effect (`null`: it is still the current one);
`last_seen` is the last observation that saw it unchanged.
"""


def verify_md(head: ChainHead, software: str) -> str:
    """The ``VERIFY.md`` text for a pack written at ``head``."""
    return _TEXT.format(software=software, head=head.text, count=head.count, hash=head.hash)
